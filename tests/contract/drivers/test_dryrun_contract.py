"""The activation dry-run against every NETCONF target of the driver contract, and SNMP on the simulator.

A dry-run reads running, computes the edit offline (the shared RFC 6241 engine) and changes nothing;
applying the same payload for real must then leave running exactly as the dry-run said. On netconfd
(an independent server) this checks our engine against someone else's.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator

import pytest

from oss.activation.drivers.base import CANDIDATE, Driver, Varbind
from oss.activation.drivers.errors import RpcFailed
from oss.activation.drivers.netconf import NetconfDriver
from oss.activation.drivers.snmp import SnmpDriver
from oss.activation.dryrun import NetconfDryRun, SnmpDryRun, decode_running, dry_run, dry_run_netconf, offline_edit
from oss.activation.rendering import (
    DeviceInput,
    NetconfPayload,
    PortInput,
    ServiceInput,
    ServicePort,
    SnmpPayload,
    VlanInput,
    render,
)
from tests.contract.drivers.conftest import NC_NS, NetconfTarget, SimulatorFleet, apply

PLATFORM = {"fake-pe-router": "pe-router", "fake-cpe": "cpe", "netconfd": "netconfd",
            "sim-pe-router": "pe-router", "sim-cpe": "cpe"}  # fmt: skip


def l3_payload(target: NetconfTarget, port: str, last_octet: int = 1) -> NetconfPayload:
    device = DeviceInput(target.endpoint.name, PLATFORM[target.name], (PortInput(port),))
    address = f"198.51.100.{last_octet}/31"
    service = ServiceInput(
        "svc-ct", "l3-access", ports=(ServicePort(port, "dry-run contract", (address, "2001:db8:7::1/64")),)
    )
    payload = render(device, service)
    assert isinstance(payload, NetconfPayload)
    return payload


def _state(driver: Driver) -> tuple[object, ...]:
    running = decode_running(driver.get_config("running"))[0]
    candidate = decode_running(driver.get_config("candidate"))[0] if driver.has(CANDIDATE) else None
    return running, candidate


def test_dry_run_shows_the_edit_and_a_diff_and_changes_nothing(
    nc_target: NetconfTarget, nc: Driver, ifname: str
) -> None:
    payload = l3_payload(nc_target, ifname)
    before = _state(nc)
    result = dry_run(nc, payload)
    assert isinstance(result, NetconfDryRun)
    assert result.payload == payload.config_xml and not result.errors
    added = "".join(line for line in result.diff.splitlines() if line.startswith("+"))
    assert f"<name>{ifname}</name>" in added and "198.51.100.1" in added and "2001:db8:7::1" in added
    assert _state(nc) == before  # running (and candidate) untouched
    if nc.has(CANDIDATE):
        assert nc.compare() == ""


def test_applying_the_payload_leaves_running_as_the_dry_run_computed(
    nc_target: NetconfTarget, nc: Driver, ifname: str
) -> None:
    payload = l3_payload(nc_target, ifname)
    predicted = offline_edit(nc.get_config("running"), payload.config_xml)
    apply(nc, payload.config_xml)
    assert decode_running(nc.get_config("running"))[0] == predicted.after
    # and once in place, the same service is no change at all
    assert dry_run_netconf(nc, payload).diff == ""
    # a second address on the same interface: the diff is that address and nothing else
    moved = l3_payload(nc_target, ifname, last_octet=3)
    diff = dry_run_netconf(nc, moved).diff.splitlines()
    diff_lines = [ln for ln in diff if ln[:1] in "+-" and ln[:3] not in ("+++", "---")]
    assert diff_lines and all("198.51.100.3" in ln or "<address>" in ln or "</address>" in ln
                              or "<prefix-length>" in ln for ln in diff_lines)  # fmt: skip


def test_dry_run_reports_the_rpc_error_the_device_answers(nc_target: NetconfTarget, nc: Driver, ifname: str) -> None:
    payload = (f'<config xmlns="{NC_NS}"><interfaces xmlns="urn:ietf:params:xml:ns:yang:ietf-interfaces">'
               f'<interface xmlns:nc="{NC_NS}" nc:operation="delete"><name>{ifname}</name></interface>'
               "</interfaces></config>")  # fmt: skip
    predicted = offline_edit(nc.get_config("running"), payload)
    assert [e.error_tag for e in predicted.errors] == ["data-missing"] and predicted.diff == ""
    with pytest.raises(RpcFailed) as caught:
        apply(nc, payload)
    assert caught.value.rpc_errors[0].error_tag == "data-missing"


# ---- l2-vlan on the simulators (netconfd serves no VLAN model) -------------------------------------------


@pytest.fixture(params=["pe-router", "cpe"])
def sim_driver(request: pytest.FixtureRequest, simulators: SimulatorFleet) -> Iterator[tuple[Driver, str]]:
    endpoint = simulators.first(request.param)
    driver = NetconfDriver(endpoint, timeout_s=10)
    driver.open()
    try:
        yield driver, request.param
    finally:
        driver.close()


@pytest.mark.e2e
def test_l2_vlan_dry_run_matches_the_real_apply_on_the_simulator(
    sim_driver: tuple[Driver, str], request: pytest.FixtureRequest
) -> None:
    driver, platform = sim_driver
    vlan_id = 3000 + zlib.crc32(request.node.nodeid.encode()) % 800
    port = "ge-0/0/2" if platform == "pe-router" else "lan2"
    device = DeviceInput(driver.device, platform, (PortInput(port),))
    payload = render(device, ServiceInput("svc-l2", "l2-vlan", ports=(ServicePort(port, "l2 ct", mode="access"),),
                                          vlans=(VlanInput(vlan_id, "ct"),)))  # fmt: skip
    assert isinstance(payload, NetconfPayload)
    result = dry_run(driver, payload)
    assert isinstance(result, NetconfDryRun)
    assert f"<id>{vlan_id}</id>" in result.diff and f"+    <member>{port}</member>" in result.diff
    predicted = offline_edit(driver.get_config("running"), payload.config_xml)
    try:
        apply(driver, payload.config_xml)
        assert decode_running(driver.get_config("running"))[0] == predicted.after
    finally:
        removal = (
            f'<config xmlns="{NC_NS}"><vlans xmlns="urn:provisio:params:xml:ns:yang:provisio-vlan">'
            f'<vlan xmlns:nc="{NC_NS}" nc:operation="remove"><id>{vlan_id}</id></vlan></vlans></config>'
        )
        apply(driver, removal)


# ---- SNMP ------------------------------------------------------------------------------------------------


@pytest.mark.e2e
def test_snmp_dry_run_shows_each_set_before_and_after_and_sets_nothing(simulators: SimulatorFleet) -> None:
    endpoint = simulators.first("legacy-switch")
    driver = SnmpDriver(endpoint, version="v2c", timeout_s=5)
    driver.open()
    try:
        device = DeviceInput(endpoint.name, "legacy-switch", tuple(PortInput(f"Gi1/0/{n}", n) for n in range(1, 9)))
        service = ServiceInput("svc-snmp", "l2-vlan", ports=(ServicePort("Gi1/0/5", "snmp ct", mode="access"),),
                               vlans=(VlanInput(3999, "ct-snmp"),))  # fmt: skip
        payload = render(device, service)
        assert isinstance(payload, SnmpPayload)
        oids = [s.oid for s in payload.sets]
        before = driver.get(oids)
        result = dry_run(driver, payload)
        assert isinstance(result, SnmpDryRun)
        assert driver.get(oids) == before  # nothing was SET
        assert [p.oid for p in result.sets] == oids and result.changed
        row = result.sets[0]
        assert row.before is None and row.after == 4  # createAndGo of a row that does not exist
        outcome = driver.set(payload.varbinds())
        assert outcome.applied, outcome
        try:
            after = {vb.oid: vb for vb in driver.get(oids)}
            for preview in result.sets[1:]:  # every column reads back as the dry-run said
                assert after[preview.oid].value == preview.after, preview
            assert after[row.oid].value == 1  # createAndGo(4) reads back active(1) (RFC 2579)
        finally:
            driver.set([Varbind.integer(row.oid, 6)])  # destroy(6)
    finally:
        driver.close()
