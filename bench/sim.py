"""Benchmarks of the simulated network (issue 10): ``make bench BENCH=sim``.

- ``sim.start1000``: seconds from spawning ``python -m simulators --devices 1000 --profile pe-router``
  until each of the 1,000 devices has accepted a NETCONF session (SSH connect, auth, ``netconf``
  subsystem, server ``<hello>`` received). The sessions are opened by an asyncssh client on one event
  loop, 64 at a time, on the same 2 cores as the simulator, so the figure includes proving it.
  ``sim.start1000.manifest`` is the part until the manifest appeared (every listener bound).
- ``sim.start1000.cpu``: CPU seconds the simulator process used for all of that (steadier than wall
  time on a shared machine).
- ``sim.rss1000``: VmRSS of that simulator process (MiB) after the 1,000 sessions were opened and closed.
- ``sim.netconf.rpc``: get-config (running) RPCs per second on one ncclient session with
  ``ncclient.transport.session.TICK = 0.002``, against a one-device pe-router fleet; baseline
  ``netconfd.rpc`` measured the same way against Debian's netconfd (yuma123) behind its own sshd,
  started by tests/support/netconfd.py, in the same run.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import asyncssh

from simulators.manifest import DeviceEntry, Manifest, read_manifest

logger = logging.getLogger(__name__)

FLEET_SIZE = 1000
SESSION_CONCURRENCY = 64
RPC_SECONDS = 3.0
RPC_WARMUP = 20
START_DEADLINE_S = 120.0
NETCONF_EOM = b"]]>]]>"
ROOT = Path(__file__).resolve().parent.parent


@contextlib.contextmanager
def fleet_process(
    *args: str, deadline_s: float = START_DEADLINE_S
) -> Iterator[tuple[subprocess.Popen[bytes], Manifest, float]]:
    """Run ``python -m simulators ARGS``; yield (process, manifest, seconds until the manifest appeared)."""
    with tempfile.TemporaryDirectory(prefix="bench-sim-") as workdir:
        manifest_path = Path(workdir) / "manifest.json"
        started = time.monotonic()
        process = subprocess.Popen(
            [sys.executable, "-m", "simulators", *args, "--manifest", str(manifest_path), "--log-level", "WARNING"],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        )
        try:
            while not manifest_path.exists():
                if process.poll() is not None:
                    raise RuntimeError(f"simulators exited with {process.returncode} before the manifest")
                if time.monotonic() - started > deadline_s:
                    raise TimeoutError(f"no manifest after {deadline_s} s")
                time.sleep(0.01)
            yield process, read_manifest(manifest_path), time.monotonic() - started
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


async def open_netconf_session(device: DeviceEntry) -> None:
    """SSH to the device, start the netconf subsystem (RFC 6242 §3) and read the server hello."""
    assert device.netconf_port is not None and device.ssh_host_key is not None
    known_hosts: tuple[list[asyncssh.SSHKey], list[asyncssh.SSHKey], list[asyncssh.SSHKey]] = (
        [asyncssh.import_public_key(device.ssh_host_key)],
        [],
        [],
    )
    async with asyncssh.connect(
        device.host,
        device.netconf_port,
        username=device.username,
        password=device.password,
        known_hosts=known_hosts,
        client_keys=None,
        agent_path=None,
        # AES-GCM is done in one call to OpenSSL; asyncssh's chacha20-poly1305 (its first choice)
        # builds two cipher contexts per packet, which made the proof cost 1.5x as much CPU.
        encryption_algs=["aes128-gcm@openssh.com", "chacha20-poly1305@openssh.com"],
        # Plain X25519 rather than the ML-KEM hybrid asyncssh prefers: what is measured is the
        # fleet's readiness, not post-quantum key exchange.
        kex_algs=["curve25519-sha256", "curve25519-sha256@libssh.org"],
    ) as connection:
        writer, reader, _ = await connection.open_session(subsystem="netconf", encoding=None)
        hello = await reader.readuntil(NETCONF_EOM)
        if b"urn:ietf:params:netconf:base:1.0" not in hello:
            raise RuntimeError(f"{device.name}: no NETCONF hello: {hello[:200]!r}")
        writer.close()


async def open_all_sessions(devices: list[DeviceEntry], concurrency: int = SESSION_CONCURRENCY) -> None:
    gate = asyncio.Semaphore(concurrency)

    async def one(device: DeviceEntry) -> None:
        async with gate:
            await open_netconf_session(device)

    await asyncio.gather(*(one(device) for device in devices))


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (proc(5)): a figure that other load on the machine barely moves."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure_start_and_rss(record: Callable[..., None]) -> None:
    spawned = time.monotonic()
    with fleet_process("--devices", str(FLEET_SIZE), "--profile", "pe-router") as (process, manifest, listening):
        asyncio.run(open_all_sessions(manifest.devices))
        accepted = time.monotonic() - spawned
        record("sim.start1000", round(accepted, 2), "s", higher_is_better=False)
        record("sim.start1000.manifest", round(listening, 2), "s", higher_is_better=False)
        # The wall-clock figures depend on what else the 2 shared cores run; the simulator's own CPU
        # time (start + 1,000 SSH handshakes) does not.
        record("sim.start1000.cpu", round(cpu_seconds(process.pid), 2), "s", higher_is_better=False)
        record("sim.rss1000", round(rss_mib(process.pid), 1), "MiB", higher_is_better=False)


def get_config_rate(connect_kwargs: dict[str, Any], seconds: float = RPC_SECONDS) -> float:
    """get-config RPCs/s on one ncclient session, TICK lowered (see ../shared/NOTES.md)."""
    import ncclient.transport.session
    from ncclient import manager

    ncclient.transport.session.TICK = 0.002
    # Host keys are not what is measured here; the tests check them.
    with manager.connect(
        hostkey_verify=False, look_for_keys=False, allow_agent=False, timeout=30, **connect_kwargs
    ) as session:
        for _ in range(RPC_WARMUP):
            session.get_config(source="running")
        count = 0
        started = time.perf_counter()
        while (elapsed := time.perf_counter() - started) < seconds:
            session.get_config(source="running")
            count += 1
        return count / elapsed


def measure_netconfd_rate() -> float | None:
    """The baseline; None (with a warning) where netconfd cannot run on this machine."""
    sys.path.insert(0, str(ROOT))
    from tests.support.netconfd import NetconfdUnavailable, netconfd_server

    try:
        with netconfd_server() as server:
            return get_config_rate(
                {
                    "host": server.host,
                    "port": server.port,
                    "username": server.username,
                    "key_filename": server.private_key_file,
                }
            )
    except NetconfdUnavailable as error:
        logger.warning("netconfd baseline unavailable: %s", error)
        return None


def measure_rpc_rate(record: Callable[..., None]) -> None:
    with fleet_process("--devices", "1", "--profile", "pe-router") as (_, manifest, _listening):
        device = manifest.devices[0]
        rate = get_config_rate(
            {"host": device.host, "port": device.netconf_port, "username": device.username, "password": device.password}
        )
    baseline = measure_netconfd_rate()
    record(
        "sim.netconf.rpc",
        round(rate, 1),
        "RPC/s",
        baseline_metric="netconfd.rpc" if baseline is not None else None,
        baseline=round(baseline, 1) if baseline is not None else None,
    )


def run(record: Callable[..., None]) -> None:
    """Entry point for bench/__main__.py (docs/HELPERS.md)."""
    os.environ.setdefault("PYTHONPATH", str(ROOT))
    # Both libraries log every connection and RPC at INFO: thousands of lines for 1,000 sessions.
    for noisy in ("asyncssh", "ncclient"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    measure_rpc_rate(record)
    measure_start_and_rss(record)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)

    def _print(metric: str, value: float, unit: str, **extra: Any) -> None:
        print(metric, value, unit, extra)

    run(_print)
