"""Device core: validation of out-of-band changes, ifIndex stability, persistence, reboot, faults."""

from __future__ import annotations

import json
import random

import pytest

from simulators.device import Device, ValidationFailed, initial_config
from simulators.faults import Fault, FaultKind, FaultSet
from simulators.profiles import PROFILES


def _pe() -> Device:
    return Device("pe1", PROFILES["pe-router"], seed=1)


def test_device_boots_with_profile_interfaces() -> None:
    device = _pe()
    assert device.interface_names() == list(PROFILES["pe-router"].interfaces)
    assert device.get("running") == device.get("startup") == device.get("candidate")


def test_get_returns_a_copy() -> None:
    device = _pe()
    device.get("running")["ietf-interfaces:interfaces"]["interface"].clear()
    assert device.interface_names()


def test_out_of_band_change_is_validated_and_atomic() -> None:
    device = _pe()
    bad = device.get("running")
    bad["ietf-interfaces:interfaces"]["interface"][0]["ietf-ip:ipv4"] = {
        "address": [{"ip": "192.0.2.1", "prefix-length": 33}]
    }
    with pytest.raises(ValidationFailed) as err:
        device.set_running_out_of_band(bad, origin="snmp")
    assert err.value.error_tag == "invalid-value"
    assert err.value.error_path and err.value.error_path.endswith("/ip:prefix-length")
    assert "ietf-ip:ipv4" not in device.get("running")["ietf-interfaces:interfaces"]["interface"][0]


def test_out_of_band_change_moves_clean_candidate_but_not_dirty_one() -> None:
    device = _pe()
    new = device.get("running")
    new["ietf-interfaces:interfaces"]["interface"][0]["description"] = "cli"
    device.set_running_out_of_band(new, origin="cli")
    assert device.get("candidate") == new
    device.candidate_dirty = True
    device.candidate = {}
    device.set_running_out_of_band(initial_config(device.profile), origin="cli")
    assert device.get("candidate") == {}


def test_if_index_is_stable_across_changes_and_restarts() -> None:
    device = _pe()
    first = {n: device.if_index(n) for n in device.interface_names()}
    running = device.get("running")
    running["ietf-interfaces:interfaces"]["interface"].pop(0)
    running["ietf-interfaces:interfaces"]["interface"].append({"name": "lo0", "type": "iana-if-type:softwareLoopback"})
    device.set_running_out_of_band(running, origin="cli")
    assert device.if_index("lo0") == max(first.values()) + 1
    restored = Device.from_json(json.loads(json.dumps(device.to_json())))
    assert restored.if_index("ge-0/0/0") == first["ge-0/0/0"]
    assert restored.if_index("lo0") == device.if_index("lo0")
    assert restored.get("running") == device.get("running")


def test_reboot_reverts_running_to_startup_and_resets_session_state() -> None:
    device = _pe()
    new = device.get("running")
    new["provisio-vlan:vlans"] = {"vlan": [{"id": 5}]}
    device.set_running_out_of_band(new, origin="cli")
    device.locks["candidate"] = 3
    device.reboot()
    assert "provisio-vlan:vlans" not in device.get("running")
    assert device.locks == {}


def test_reboot_without_startup_keeps_running() -> None:
    device = Device("cpe1", PROFILES["cpe"])
    new = device.get("running")
    new["provisio-vlan:vlans"] = {"vlan": [{"id": 5}]}
    device.set_running_out_of_band(new, origin="cli")
    device.reboot()
    assert device.get("running") == new


def test_fault_count_is_consumed_and_probability_is_seeded() -> None:
    faults = FaultSet(random.Random(3))
    faults.set(Fault(FaultKind.SLOW_REPLY, {"delay_ms": 5, "count": 2}))
    assert faults.active(FaultKind.SLOW_REPLY) is not None
    assert faults.active(FaultKind.SLOW_REPLY) is not None
    assert faults.active(FaultKind.SLOW_REPLY) is None
    draws = []
    for seed in (9, 9):
        faults = FaultSet(random.Random(seed))
        faults.set(Fault(FaultKind.COMMIT_RPC_ERROR, {"probability": 0.5}))
        draws.append([faults.active(FaultKind.COMMIT_RPC_ERROR) is not None for _ in range(20)])
    assert draws[0] == draws[1] and any(draws[0]) and not all(draws[0])


def test_faults_roundtrip_json() -> None:
    faults = FaultSet()
    faults.set(Fault(FaultKind.LOCK_HELD, {"session_id": 9}))
    again = FaultSet.from_json(json.loads(json.dumps(faults.to_json())))
    assert [f.to_json() for f in again.list()] == [{"kind": "lock-held", "params": {"session_id": 9}}]
    again.clear()
    assert again.list() == []
