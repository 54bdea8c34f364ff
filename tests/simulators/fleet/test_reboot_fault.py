"""The ``reboot`` fault: scripted and seeded, from the faults file and the control API, through a real
``python -m simulators`` process (and one in-process fleet for the seeded draws)."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from simulators.faults import Fault, FaultKind
from simulators.faults_file import FaultsFileError, parse_faults
from simulators.fleet import Fleet, FleetConfig
from simulators.profiles import PROFILES
from tests.simulators.fleet.conftest import FleetProcess, spawn_fleet
from tests.simulators.fleet.test_fleet_process import (
    DEADLINE_S,
    SYS_DESCR,
    interface_descriptions,
    netconf,
    snmp_get,
    wait_until,
    with_description,
)

pytestmark = pytest.mark.e2e

# Three devices of the mixed blend: pe1, cpe1, sw1. cpe1 and sw1 reboot on their own from the file;
# the run-time tests use pe1 and leave it without faults.
FAULTS_FILE = """
faults:
  cpe1:
    - {kind: reboot, every_ms: 40, count: 2, down_ms: 0}
  sw1:
    - {kind: reboot, after_ms: 0}
"""


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FleetProcess]:
    tmp_path = tmp_path_factory.mktemp("reboot")
    faults = tmp_path / "faults.yaml"
    faults.write_text(FAULTS_FILE)
    process = spawn_fleet(tmp_path, "--devices", "3", "--profile", "mixed", "--seed", "3", "--faults", str(faults))
    process.wait_for_manifest()
    yield process
    assert process.stop() == 0


@pytest.fixture
def control(fleet: FleetProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=fleet.manifest.control_url, timeout=DEADLINE_S) as client:
        yield client
        client.delete("/devices/pe1/faults")


def _summary(control: httpx.Client, name: str) -> dict[str, object]:
    response = control.get(f"/devices/{name}")
    assert response.status_code == 200
    result: dict[str, object] = response.json()
    return result


def _netconf_answers(fleet: FleetProcess, name: str) -> bool:
    try:
        with netconf(fleet.manifest.device(name)) as session:
            return bool(interface_descriptions(session))
    except Exception:  # ncclient raises SSHError, EOFError, ... for a connection cut at accept
        return False


def test_reboot_faults_from_the_file_fire_on_schedule_and_clear_when_used_up(
    fleet: FleetProcess, control: httpx.Client
) -> None:
    # cpe1: every 40 ms, two firings; sw1: once, right after start. Both then clear themselves.
    wait_until(lambda: _summary(control, "cpe1")["reboots"] == 2 and _summary(control, "sw1")["reboots"] == 1)
    assert control.get("/devices/cpe1/faults").json() == []
    assert control.get("/devices/sw1/faults").json() == []
    # No further firing once the count is used up: sw1 answers SNMP and cpe1 stays at two.
    assert snmp_get(fleet.manifest.device("sw1"), SYS_DESCR, timeout_s=2.0)
    assert _netconf_answers(fleet, "cpe1")
    assert _summary(control, "cpe1")["reboots"] == 2


def test_reboot_fault_set_at_run_time_reverts_running_and_drops_sessions(
    fleet: FleetProcess, control: httpx.Client
) -> None:
    interface = PROFILES["pe-router"].interfaces[1]
    startup = control.get("/devices/pe1/datastores/startup").json()
    running = control.get("/devices/pe1/datastores/running").json()
    assert control.put("/devices/pe1/datastores/running", json=with_description(running, interface, "drift")).is_success
    reboots = _summary(control, "pe1")["reboots"]
    session = netconf(fleet.manifest.device("pe1"))
    session.lock("candidate")  # a reboot releases it: the next session can take it
    assert interface_descriptions(session)[interface] == "drift"

    response = control.post("/devices/pe1/faults", json={"kind": "reboot", "after_ms": 200, "down_ms": 0})
    assert response.status_code == 201

    wait_until(lambda: not session.connected)
    assert _summary(control, "pe1")["reboots"] == reboots + 1  # type: ignore[operator]
    assert control.get("/devices/pe1/datastores/running").json() == startup
    assert control.get("/devices/pe1/faults").json() == []  # after_ms alone fires once
    with netconf(fleet.manifest.device("pe1")) as fresh:
        assert interface_descriptions(fresh)[interface] == ""
        fresh.lock("candidate")
        fresh.unlock("candidate")


def test_booting_device_refuses_netconf_and_drops_snmp_until_the_fault_is_cleared(
    fleet: FleetProcess, control: httpx.Client
) -> None:
    pe1 = fleet.manifest.device("pe1")
    assert snmp_get(pe1, SYS_DESCR, timeout_s=2.0)
    fault = {"kind": "reboot", "params": {"after_ms": 0, "down_ms": 600_000}}
    response = control.post("/devices/pe1/faults", json=fault)
    assert response.status_code == 201
    wait_until(lambda: _summary(control, "pe1")["booting"] is True)

    assert not _netconf_answers(fleet, "pe1")
    assert snmp_get(pe1, SYS_DESCR, timeout_s=0.5) is None

    assert control.delete("/devices/pe1/faults/reboot").status_code == 204
    assert _summary(control, "pe1")["booting"] is False
    assert _netconf_answers(fleet, "pe1")
    assert snmp_get(pe1, SYS_DESCR, timeout_s=2.0)


def test_booting_device_comes_up_by_itself_after_down_ms(fleet: FleetProcess, control: httpx.Client) -> None:
    started = time.monotonic()
    response = control.post("/devices/pe1/faults", json={"kind": "reboot", "after_ms": 0, "down_ms": 700})
    assert response.status_code == 201
    wait_until(lambda: _netconf_answers(fleet, "pe1"))
    up_after = time.monotonic() - started
    assert _summary(control, "pe1")["booting"] is False

    assert up_after >= 0.7


def test_cleared_reboot_fault_never_fires(fleet: FleetProcess, control: httpx.Client) -> None:
    pe1_reboots = _summary(control, "pe1")["reboots"]
    sw1_reboots = _summary(control, "sw1")["reboots"]
    assert control.post("/devices/pe1/faults", json={"kind": "reboot", "after_ms": 300}).status_code == 201
    assert control.delete("/devices/pe1/faults").status_code == 204
    # A witness on another device, due later on the same event loop: once it has fired, pe1's
    # timer would have fired too had clearing not cancelled it.
    witness = {"kind": "reboot", "after_ms": 600, "down_ms": 0}
    assert control.post("/devices/sw1/faults", json=witness).status_code == 201
    wait_until(lambda: _summary(control, "sw1")["reboots"] == sw1_reboots + 1)  # type: ignore[operator]
    assert _summary(control, "pe1")["reboots"] == pe1_reboots


@pytest.mark.parametrize(
    "fault",
    [
        {"kind": "reboot"},
        {"kind": "reboot", "every_ms": 0},
        {"kind": "reboot", "after_ms": -1},
        {"kind": "reboot", "after_ms": 10, "down_ms": "long"},
    ],
)
def test_control_api_refuses_reboot_fault_without_schedule_or_with_bad_values(
    control: httpx.Client, fault: dict[str, object]
) -> None:
    response = control.post("/devices/pe1/faults", json=fault)
    assert response.status_code == 422
    assert response.json()["error"] == "INVALID_FAULT"
    assert control.get("/devices/pe1/faults").json() == []


def test_reboot_action_takes_optional_down_ms(fleet: FleetProcess, control: httpx.Client) -> None:
    assert control.post("/devices/pe1/reboot", json={"down_ms": -5}).status_code == 422
    response = control.post("/devices/pe1/reboot", json={"down_ms": 600_000})
    assert response.status_code == 200 and response.json()["booting"] is True
    assert not _netconf_answers(fleet, "pe1")
    control.delete("/devices/pe1/faults/reboot")  # clearing the reboot fault ends any boot
    assert _netconf_answers(fleet, "pe1")


def test_faults_file_refuses_reboot_without_schedule() -> None:
    with pytest.raises(FaultsFileError, match=r"pe1\[0\]: a reboot fault needs after_ms"):
        parse_faults("pe1: [{kind: reboot, down_ms: 10}]", source="f.yaml")
    plan = parse_faults("pe1: [{kind: reboot, every_ms: 1000, probability: 0.5}]")
    assert [f.to_json() for f in plan.for_device("pe1")] == [
        {"kind": "reboot", "params": {"every_ms": 1000, "probability": 0.5}}
    ]


def _expected_firings(seed: int, name: str, probability: float, count: int) -> int:
    """How many periodic firings it takes for ``count`` to reboot, given the device's seeded draws."""
    rng = random.Random(f"{seed}:{name}")
    firings = reboots = 0
    while reboots < count:
        firings += 1
        reboots += rng.random() < probability
    return firings


@pytest.mark.parametrize("seed", [1, 2])
def test_periodic_reboot_probability_is_drawn_from_the_seeded_device_generator(tmp_path: Path, seed: int) -> None:
    name, probability, count = "sw1", 0.4, 3
    expected = _expected_firings(seed, name, probability, count)
    assert expected > count  # a seed where some firings lose the roll, or the test proves nothing

    async def run() -> tuple[int, int]:
        config = FleetConfig(devices=1, manifest=tmp_path / f"m{seed}.json", profile="legacy-switch", seed=seed)
        fleet = Fleet(config)
        await fleet.start()
        try:
            fleet.set_fault(name, Fault(FaultKind.REBOOT, {"every_ms": 5, "probability": probability, "count": count}))
            device = fleet.devices[name].device
            deadline = time.monotonic() + DEADLINE_S
            while device.faults.peek(FaultKind.REBOOT) is not None:
                assert time.monotonic() < deadline, "the reboot fault never used up its count"
                await asyncio.sleep(0.01)
            scheduler = fleet.reboot_scheduler
            assert scheduler is not None and scheduler.armed() == []
            return scheduler.firings[name], device.reboots
        finally:
            await fleet.stop()

    firings, reboots = asyncio.run(run())

    assert (firings, reboots) == (expected, count)
