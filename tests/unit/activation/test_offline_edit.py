"""Unit tests of the dry-run's offline ``<edit-config>`` (RFC 6241 §7.2) and its SNMP before/after."""

from __future__ import annotations

from typing import Any

import pytest

from oss.activation.drivers.base import Varbind
from oss.activation.dryrun import dry_run, offline_edit
from oss.activation.rendering import DeviceInput, PortInput, ServiceInput, ServicePort, SnmpPayload, VlanInput, render

NC = "urn:ietf:params:xml:ns:netconf:base:1.0"
IF_NS = "urn:ietf:params:xml:ns:yang:ietf-interfaces"
IANA = "urn:ietf:params:xml:ns:yang:iana-if-type"


def interface(name: str, *, description: str | None = None, op: str | None = None, typed: bool = True) -> str:
    attrs = f' xmlns:nc="{NC}" nc:operation="{op}"' if op else ""
    body = f"<name>{name}</name>"
    if typed and op not in ("delete", "remove"):
        body += f'<type xmlns:ianaift="{IANA}">ianaift:ethernetCsmacd</type>'
    if description is not None:
        body += f"<description>{description}</description>"
    return f"<interface{attrs}>{body}</interface>"


def data(*interfaces: str, root: str = "data", extra: str = "") -> str:
    return f'<{root} xmlns="{NC}"><interfaces xmlns="{IF_NS}">{"".join(interfaces)}</interfaces>{extra}</{root}>'


def config(*interfaces: str) -> str:
    return data(*interfaces, root="config")


def names(raw: dict[str, Any]) -> dict[str, str | None]:
    return {i["name"]: i.get("description") for i in raw.get("ietf-interfaces:interfaces", {}).get("interface", [])}


RUNNING = data(interface("ge-0/0/0", description="core"), interface("ge-0/0/1"))


def test_merge_adds_a_leaf_and_the_diff_shows_only_it() -> None:
    edit = offline_edit(RUNNING, config(interface("ge-0/0/1", description="cust A")))
    assert names(edit.after) == {"ge-0/0/0": "core", "ge-0/0/1": "cust A"}
    assert not edit.errors and edit.changed
    added = [line for line in edit.diff.splitlines() if line.startswith("+") and not line.startswith("+++")]
    assert added == ["+    <description>cust A</description>"]


def test_replace_drops_what_the_replacement_does_not_hold() -> None:
    edit = offline_edit(RUNNING, config(interface("ge-0/0/0", op="replace")))
    assert names(edit.after) == {"ge-0/0/0": None, "ge-0/0/1": None}


def test_delete_of_a_missing_node_is_data_missing_and_nothing_changes() -> None:
    edit = offline_edit(RUNNING, config(interface("nope", op="delete")))
    assert [e.error_tag for e in edit.errors] == ["data-missing"]
    assert edit.after == edit.before and edit.diff == ""


def test_remove_of_a_missing_node_is_a_no_op() -> None:
    edit = offline_edit(RUNNING, config(interface("nope", op="remove")))
    assert not edit.errors and not edit.changed and edit.diff == ""


def test_delete_and_remove_of_an_existing_entry_take_it_out() -> None:
    for op in ("delete", "remove"):
        edit = offline_edit(RUNNING, config(interface("ge-0/0/1", op=op)))
        assert names(edit.after) == {"ge-0/0/0": "core"}


def test_create_of_an_existing_entry_is_data_exists() -> None:
    edit = offline_edit(RUNNING, config(interface("ge-0/0/0", op="create")))
    assert [e.error_tag for e in edit.errors] == ["data-exists"]


def test_default_operation_none_changes_only_marked_nodes() -> None:
    payload = config(interface("ge-0/0/0", description="ignored"), interface("ge-0/0/1", op="delete"))
    edit = offline_edit(RUNNING, payload, default_operation="none")
    assert names(edit.after) == {"ge-0/0/0": "core"}


def test_a_result_the_yang_modules_refuse_is_reported_and_not_applied() -> None:
    edit = offline_edit(RUNNING, config(interface("new0", typed=False)))  # ietf-interfaces: type is mandatory
    assert [e.error_tag for e in edit.errors] == ["data-missing"]
    assert edit.errors[0].error_path == "/if:interfaces/if:interface[if:name='new0']/if:type"
    assert edit.after == edit.before


def test_an_unknown_element_in_the_payload_is_reported() -> None:
    payload = f'<config xmlns="{NC}"><widgets xmlns="urn:example:widgets"><w>1</w></widgets></config>'
    edit = offline_edit(RUNNING, payload)
    assert [e.error_tag for e in edit.errors] == ["unknown-namespace"]


def test_running_of_another_server_keeps_its_own_modules_and_empty_containers_are_nothing() -> None:
    foreign = '<nacm xmlns="urn:example:not-in-our-model"><enable-nacm>true</enable-nacm></nacm>'
    running = f'<data xmlns="{NC}"><interfaces xmlns="{IF_NS}"/>{foreign}</data>'
    edit = offline_edit(running, config(interface("eth9", description="x")))
    assert "not-in-our-model" in edit.before_xml and "not-in-our-model" in edit.after_xml
    assert names(edit.before) == {} and names(edit.after) == {"eth9": "x"}
    assert not [line for line in edit.diff.splitlines() if "nacm" in line and line[:1] in "+-"]


def test_a_rendered_service_applied_twice_changes_nothing_the_second_time() -> None:
    device = DeviceInput("pe1", "pe-router", (PortInput("ge-0/0/1", 2),))
    payload = render(device, ServiceInput("s", "l3-access", ports=(ServicePort("ge-0/0/1", "c", ("192.0.2.1/30",)),)))
    first = offline_edit(RUNNING, payload.config_xml)  # type: ignore[union-attr]
    after = f'<data xmlns="{NC}">{first.after_xml}</data>'
    second = offline_edit(after, payload.config_xml)  # type: ignore[union-attr]
    assert first.changed and not second.changed and second.diff == ""


class _RecordingSnmp:
    """Answers GETs from a table and refuses anything else: a dry-run sends no SET."""

    def __init__(self, values: dict[str, Varbind]) -> None:
        self.values = values
        self.gets: list[list[str]] = []

    def get(self, oids: list[str]) -> list[Varbind]:
        self.gets.append(list(oids))
        return [self.values.get(oid, Varbind(oid, None, "noSuchInstance")) for oid in oids]

    def set(self, varbinds: object) -> None:
        raise AssertionError("a dry-run never SETs")


def test_snmp_dry_run_gets_every_object_once_and_shows_before_and_after() -> None:
    device = DeviceInput("sw1", "legacy-switch", tuple(PortInput(f"Gi1/0/{n}", n) for n in range(1, 9)))
    service = ServiceInput("s", "l2-vlan", ports=(ServicePort("Gi1/0/2", "acc", mode="access"),),
                           vlans=(VlanInput(10, "v10"),))  # fmt: skip
    payload = render(device, service)
    assert isinstance(payload, SnmpPayload)
    agent = _RecordingSnmp({"1.3.6.1.2.1.31.1.1.1.18.2": Varbind.octets("1.3.6.1.2.1.31.1.1.1.18.2", "acc"),
                            "1.3.6.1.2.1.2.2.1.7.2": Varbind.integer("1.3.6.1.2.1.2.2.1.7.2", 2)})  # fmt: skip
    result = dry_run(agent, payload)  # type: ignore[arg-type]
    assert agent.gets == [[s.oid for s in payload.sets]]  # one GET PDU
    shown = {p.oid: (p.before, p.after, p.changes) for p in result.sets}  # type: ignore[union-attr]
    assert shown["1.3.6.1.2.1.17.7.1.4.3.1.5.10"] == (None, 4, True)  # the row does not exist yet
    assert shown["1.3.6.1.2.1.31.1.1.1.18.2"] == (b"acc", b"acc", False)  # ifAlias already right
    assert shown["1.3.6.1.2.1.2.2.1.7.2"] == (2, 1, True)  # down -> up
    assert result.changed
    assert result.as_dict()["sets"][2]["after"] == "40"  # PortList shown as hex


@pytest.mark.parametrize("root", ["data", "rpc-reply"])
def test_running_is_read_from_data_or_a_whole_rpc_reply(root: str) -> None:
    text = RUNNING if root == "data" else f'<rpc-reply xmlns="{NC}" message-id="1">{RUNNING}</rpc-reply>'
    assert names(offline_edit(text, config()).before) == {"ge-0/0/0": "core", "ge-0/0/1": None}
