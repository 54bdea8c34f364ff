"""Issue 10, "One process holds 1,000 devices": a real ``python -m simulators --devices 1000``, real
NETCONF sessions and SNMP GETs to a seeded sample of its devices, its resident memory, a clean stop."""

from __future__ import annotations

import random
import signal
import time
from pathlib import Path

import ncclient.transport.session
import pytest

from simulators.manifest import DeviceEntry
from simulators.profiles import PROFILES
from tests.simulators.fleet.conftest import spawn_fleet
from tests.simulators.fleet.test_fleet_process import interface_descriptions, netconf, snmp_get_many

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

# ncclient polls every 0.1 s by default; one RPC would cost 100 ms (../shared/NOTES.md).
ncclient.transport.session.TICK = 0.002

DEVICES = 1000
SAMPLE = 25
V3_SAMPLE = 5
RSS_LIMIT_MIB = 1024
SYS_NAME = "1.3.6.1.2.1.1.5.0"
START_DEADLINE_S = 45.0  # about 3 s on an idle machine; the cores are shared with other work
STOP_DEADLINE_S = 20.0


def resident_mib(pid: int) -> float:
    """VmRSS of ``pid`` in MiB, from /proc/<pid>/status (proc(5): the value is in kB)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmRSS in /proc/{pid}/status")


def _netconf_interfaces(device: DeviceEntry) -> list[str]:
    with netconf(device) as session:
        return list(interface_descriptions(session))


def test_one_process_holds_1000_devices_that_answer_netconf_and_snmp(tmp_path: Path) -> None:
    started = time.monotonic()
    fleet = spawn_fleet(tmp_path, "--devices", str(DEVICES), "--profile", "pe-router", "--seed", "10")
    try:
        manifest = fleet.wait_for_manifest(deadline_s=START_DEADLINE_S)
        up_s = time.monotonic() - started
        assert len(manifest.devices) == DEVICES
        # TCP and UDP have separate port spaces: an SNMP port may equal another device's NETCONF port.
        assert len({d.netconf_port for d in manifest.devices}) == DEVICES
        assert len({d.snmp_port for d in manifest.devices}) == DEVICES

        rng = random.Random(2024)
        netconf_sample = rng.sample(manifest.devices, SAMPLE)
        snmp_sample = rng.sample(manifest.devices, SAMPLE)
        expected_interfaces = list(PROFILES["pe-router"].interfaces)
        for device in netconf_sample:
            assert _netconf_interfaces(device) == expected_interfaces, device.name
        # sysName is the device's name: each port answers as the device the manifest says it is.
        names = snmp_get_many([(d, SYS_NAME) for d in snmp_sample], timeout_s=5.0)
        assert names == [d.name for d in snmp_sample]
        v3_names = snmp_get_many([(d, SYS_NAME) for d in snmp_sample[:V3_SAMPLE]], version="v3", timeout_s=5.0)
        assert v3_names == [d.name for d in snmp_sample[:V3_SAMPLE]]

        rss = resident_mib(fleet.process.pid)
        assert rss < RSS_LIMIT_MIB, f"{rss:.0f} MiB resident for {DEVICES} devices"
        print(f"{DEVICES} devices: manifest after {up_s:.1f} s, {rss:.0f} MiB resident")  # shown with -s

        stop_started = time.monotonic()
        assert fleet.stop(deadline_s=STOP_DEADLINE_S, signum=signal.SIGTERM) == 0
        assert time.monotonic() - stop_started < STOP_DEADLINE_S
        assert not fleet.manifest_path.exists()
        assert "Traceback" not in fleet.log()
    finally:
        if fleet.process.poll() is None:
            fleet.process.kill()
            fleet.process.wait()
