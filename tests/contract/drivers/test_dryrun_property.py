"""Property: the dry-run's offline ``<edit-config>`` engine predicts exactly what a simulated device holds
after the same edit-config is applied for real over NETCONF on 127.0.0.1 (candidate + commit on a
pe-router, writable running on a cpe), for seeded random edits with every RFC 6241 operation; and where
the engine predicts an rpc-error, the device refuses with the same error-tag and keeps running as it was.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oss.activation.drivers.base import CANDIDATE, Driver
from oss.activation.drivers.errors import RpcFailed
from oss.activation.drivers.netconf import NetconfDriver
from oss.activation.dryrun import decode_running, offline_edit
from tests.contract.drivers.conftest import NC_NS, SimulatorFleet

IF_NS = "urn:ietf:params:xml:ns:yang:ietf-interfaces"
IP_NS = "urn:ietf:params:xml:ns:yang:ietf-ip"
VLAN_NS = "urn:provisio:params:xml:ns:yang:provisio-vlan"
IANA_NS = "urn:ietf:params:xml:ns:yang:iana-if-type"
OPERATIONS = st.sampled_from([None, "merge", "replace", "create", "delete", "remove"])
TEXT = st.text(alphabet="abcxyz -_<&>", min_size=1, max_size=8)


@dataclass(frozen=True)
class Edit:
    xml: str
    default_operation: str


def _op(op: str | None) -> str:
    return f' nc:operation="{op}"' if op else ""


@st.composite
def interface_xml(draw: st.DrawFn, names: tuple[str, ...]) -> str:
    name = draw(st.sampled_from(names))
    op = draw(OPERATIONS)
    parts = [f"<name>{name}</name>"]
    if op not in ("delete", "remove"):
        if draw(st.booleans()):  # type is mandatory: leaving it out tests the validation path
            if_type = draw(st.sampled_from(["ethernetCsmacd", "l2vlan"]))
            parts.append(f'<type xmlns:ianaift="{IANA_NS}">ianaift:{if_type}</type>')
        description = draw(st.none() | TEXT)
        if description is not None:
            escaped = description.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            leaf_op = _op(draw(st.sampled_from([None, "delete", "remove"])))
            parts.append(f"<description{leaf_op}>{escaped}</description>")
        enabled = draw(st.none() | st.booleans())
        if enabled is not None:
            parts.append(f"<enabled>{str(enabled).lower()}</enabled>")
        pairs = st.tuples(st.integers(1, 6), st.integers(24, 31))
        addresses = draw(st.lists(pairs, max_size=2, unique_by=lambda a: a[0]))
        if addresses:
            body = "".join(
                f"<address{_op(draw(OPERATIONS))}><ip>192.0.2.{host}</ip>"
                f"<prefix-length>{length}</prefix-length></address>"
                for host, length in addresses
            )
            ipv4_op = _op(draw(st.sampled_from([None, "merge", "replace"])))
            parts.append(f'<ipv4 xmlns="{IP_NS}"{ipv4_op}>{body}</ipv4>')
    return f"<interface{_op(op)}>{''.join(parts)}</interface>"


@st.composite
def vlan_xml(draw: st.DrawFn, ids: tuple[int, ...], names: tuple[str, ...]) -> str:
    vlan_id = draw(st.sampled_from(ids))
    op = draw(OPERATIONS)
    parts = [f"<id>{vlan_id}</id>"]
    if op not in ("delete", "remove"):
        name = draw(st.none() | st.text(alphabet="vlan-0123", min_size=1, max_size=6))
        if name:
            parts.append(f"<name>{name}</name>")
        for member in draw(st.lists(st.sampled_from(names), max_size=2, unique=True)):
            parts.append(f"<member{_op(draw(st.sampled_from([None, 'merge', 'remove'])))}>{member}</member>")
    return f"<vlan{_op(op)}>{''.join(parts)}</vlan>"


@st.composite
def edits(draw: st.DrawFn, names: tuple[str, ...], vlan_ids: tuple[int, ...]) -> Edit:
    interfaces = draw(st.lists(interface_xml(names), max_size=3))
    vlans = draw(st.lists(vlan_xml(vlan_ids, names), max_size=2))
    body = ""
    if interfaces:
        body += f'<interfaces xmlns="{IF_NS}">{"".join(interfaces)}</interfaces>'
    if vlans:
        body += f'<vlans xmlns="{VLAN_NS}">{"".join(vlans)}</vlans>'
    # default-operation replace would replace the whole shared device: merge and none only
    default_operation = draw(st.sampled_from(["merge", "none"]))
    return Edit(f'<config xmlns="{NC_NS}" xmlns:nc="{NC_NS}">{body}</config>', default_operation)


def _apply_for_real(driver: Driver, edit: Edit) -> tuple[str, ...]:
    try:
        driver.load_candidate(edit.xml, operation=edit.default_operation)  # type: ignore[arg-type]
        if driver.has(CANDIDATE):
            driver.commit()
    except RpcFailed as exc:
        if driver.has(CANDIDATE):
            driver.discard()
        return tuple(e.error_tag for e in exc.rpc_errors)
    return ()


def _cleanup(driver: Driver, names: tuple[str, ...], vlan_ids: tuple[int, ...]) -> None:
    vlans = "".join(f'<vlan nc:operation="remove"><id>{v}</id></vlan>' for v in vlan_ids)
    interfaces = "".join(f'<interface nc:operation="remove"><name>{n}</name></interface>' for n in names)
    xml = (f'<config xmlns="{NC_NS}" xmlns:nc="{NC_NS}"><vlans xmlns="{VLAN_NS}">{vlans}</vlans>'
           f'<interfaces xmlns="{IF_NS}">{interfaces}</interfaces></config>')  # fmt: skip
    _apply_for_real(driver, Edit(xml, "merge"))


@pytest.mark.e2e
@pytest.mark.parametrize("profile", ["pe-router", "cpe"])
def test_offline_edit_equals_what_the_simulator_holds_after_the_real_edit(
    simulators: SimulatorFleet, profile: str, request: pytest.FixtureRequest
) -> None:
    tag = f"{zlib.crc32(request.node.nodeid.encode()):08x}"
    names = (f"pp{tag}a", f"pp{tag}b")
    vlan_ids = (3900 + int(tag, 16) % 50, 3950 + int(tag, 16) % 50)
    driver = NetconfDriver(simulators.first(profile), timeout_s=10)
    driver.open()
    seen: dict[str, int] = {"applied": 0, "refused": 0}

    @settings(max_examples=40, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow])  # fmt: skip
    @given(edits(names, vlan_ids))
    def check(edit: Edit) -> None:
        predicted = offline_edit(driver.get_config("running"), edit.xml, edit.default_operation)
        refused = _apply_for_real(driver, edit)
        actual: dict[str, Any] = decode_running(driver.get_config("running"))[0]
        assert actual == predicted.after, edit.xml
        assert refused[:1] == tuple(e.error_tag for e in predicted.errors)[:1], (edit.xml, refused, predicted.errors)
        seen["refused" if refused else "applied"] += 1

    try:
        check()
    finally:
        try:
            _cleanup(driver, names, vlan_ids)
        finally:
            driver.close()
    assert seen["applied"] and seen["refused"], seen  # both paths were exercised
