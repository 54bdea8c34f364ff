"""SNMP benchmark of the simulated network (issue 10): ``make bench BENCH=sim``.

- ``sim.snmp.get``: SNMPv2c GETs per second (one varbind, ifAlias.1) from one pysnmp manager (hlapi v3arch
  asyncio, one request at a time) against one simulated pe-router whose agent runs in its own process;
  baseline ``snmpd.get``: the same loop against Debian's snmpd (tests/support/snmpd.py), same run.
- ``sim.snmp.get_v3``: the same with SNMPv3 authPriv (SHA, AES-128); baseline ``snmpd.get_v3``.

Both agents run on the same 2 cores as the manager, which is usually the bottleneck (pysnmp's manager
costs more per request than either agent), so the ratio understates the agent's own speed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

logger = logging.getLogger(__name__)

SECONDS = 3.0
WARMUP = 20
IF_ALIAS_1 = "1.3.6.1.2.1.31.1.1.1.18.1"
COMMUNITY_RO, COMMUNITY_RW = "public", "private"
V3_USER, AUTH_KEY, PRIV_KEY = "provisio", "bench-auth-key", "bench-priv-key"


def _serve_device(pipe: Connection) -> None:
    """Child process: one pe-router device and its agent on 127.0.0.1, until the pipe closes."""
    from simulators.device import Device
    from simulators.manifest import SnmpCredentials, SnmpV3User
    from simulators.profiles import PROFILES
    from simulators.snmp import start_snmp_agent

    async def main() -> None:
        device = Device("bench1", PROFILES["pe-router"])
        credentials = SnmpCredentials(SnmpV3User(V3_USER, AUTH_KEY, PRIV_KEY), COMMUNITY_RO, COMMUNITY_RW)
        endpoint = await start_snmp_agent(device, credentials=credentials)
        pipe.send(endpoint.port)
        await asyncio.get_running_loop().run_in_executor(None, pipe.recv)  # returns when the parent closes
        await endpoint.close()

    with contextlib.suppress(EOFError):
        asyncio.run(main())


async def _gets_per_second(port: int, auth: Any) -> float:
    from pysnmp.hlapi.v3arch.asyncio import (
        ContextData,
        ObjectIdentity,
        ObjectType,
        SnmpEngine,
        UdpTransportTarget,
        get_cmd,
    )

    engine = SnmpEngine()
    target = await UdpTransportTarget.create(("127.0.0.1", port), timeout=2, retries=0)

    async def one() -> None:
        indication, status, _, _ = await get_cmd(
            engine, auth, target, ContextData(), ObjectType(ObjectIdentity(IF_ALIAS_1)), lookupMib=False
        )
        if indication or status:
            raise RuntimeError(f"GET failed on port {port}: {indication or status.prettyPrint()}")

    for _ in range(WARMUP):
        await one()
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < SECONDS:
        await one()
        count += 1
    elapsed = time.perf_counter() - start
    engine.close_dispatcher()
    return count / elapsed


def _auths() -> dict[str, Any]:
    from pysnmp.hlapi.v3arch.asyncio import CommunityData, UsmUserData, usmAesCfb128Protocol, usmHMACSHAAuthProtocol

    return {
        "get": CommunityData(COMMUNITY_RO, mpModel=1),
        "get_v3": UsmUserData(
            V3_USER, AUTH_KEY, PRIV_KEY, authProtocol=usmHMACSHAAuthProtocol, privProtocol=usmAesCfb128Protocol
        ),
    }


def run(record: Callable[..., None]) -> None:
    from tests.support.snmpd import available, snmpd_server

    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    process = context.Process(target=_serve_device, args=(child,), daemon=True)
    process.start()
    try:
        if not parent.poll(60):
            raise RuntimeError("the simulated device did not start")
        sim_port = int(parent.recv())
        sim = {name: asyncio.run(_gets_per_second(sim_port, auth)) for name, auth in _auths().items()}
    finally:
        parent.close()
        process.join(5)
        if process.is_alive():
            process.terminate()
    reference: dict[str, float | None] = dict.fromkeys(sim)
    reason = available()
    if reason:
        logger.warning("snmpd baseline skipped: %s", reason)
    else:
        options = {"community_ro": COMMUNITY_RO, "community_rw": COMMUNITY_RW, "v3_user": V3_USER}
        with snmpd_server(**options, auth_key=AUTH_KEY, priv_key=PRIV_KEY) as server:
            reference = {name: asyncio.run(_gets_per_second(server.port, auth)) for name, auth in _auths().items()}
    for name, value in sim.items():
        baseline = reference[name]
        record(
            f"sim.snmp.{name}", value, "req/s", baseline_metric=f"snmpd.{name}" if baseline else None, baseline=baseline
        )
