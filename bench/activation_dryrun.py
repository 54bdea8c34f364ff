"""Activation rendering and dry-run (issue 19): ``make bench BENCH=activation``.

- ``activation.render``: renders per second of an ``l3-access`` service for a pe-router (Jinja2 template,
  XML parse, YANG validation of the payload against the served modules), in process, one thread;
  ``activation.render.snmp``: the same for an ``l2-vlan`` on the SNMP-only legacy switch (no YANG step).
- ``activation.dryrun.p95`` / ``.p50`` (ms): one dry-run of that service against one simulated pe-router
  over NETCONF (get-config of running over an open ncclient session, the offline RFC 6241 edit, YANG
  validation of the result, the unified diff); simulator commit latency 50 ms as the issue sets it (a
  dry-run commits nothing, so it does not show). Baseline ``baseline.ncclient.get_config.p95``: the bare
  get-config on the same session, same run: the ratio is the share of the dry-run that is the device read.

Figures from a shared, loaded 2-core machine are provisional.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from bench.common import percentile
from bench.sim import fleet_process

SECONDS = 3.0
DRYRUN_SAMPLES = 200
WARMUP = 10


def _inputs() -> tuple[Any, Any, Any, Any]:
    from oss.activation.rendering import DeviceInput, PortInput, ServiceInput, ServicePort, VlanInput

    pe = DeviceInput("pe1", "pe-router", tuple(PortInput(f"ge-0/0/{n}", n + 1) for n in range(4)))
    port = ServicePort("ge-0/0/1", "bench customer", ("192.0.2.1/30", "2001:db8:1::1/64"))
    l3 = ServiceInput("svc-bench", "l3-access", ports=(port,))
    switch = DeviceInput("sw1", "legacy-switch", tuple(PortInput(f"Gi1/0/{n}", n) for n in range(1, 9)))
    l2 = ServiceInput("svc-bench-l2", "l2-vlan", ports=(ServicePort("Gi1/0/3", "bench", mode="access"),),
                      vlans=(VlanInput(100, "bench", members=("Gi1/0/1",)),))  # fmt: skip
    return pe, l3, switch, l2


def _rate(call: Callable[[], object], seconds: float) -> float:
    for _ in range(WARMUP):
        call()
    done, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        call()
        done += 1
    return done / (time.perf_counter() - started)


def measure_render(record: Callable[..., None]) -> None:
    from oss.activation.rendering import render

    pe, l3, switch, l2 = _inputs()
    record("activation.render", _rate(lambda: render(pe, l3), SECONDS), "renders/s")
    record("activation.render.snmp", _rate(lambda: render(switch, l2), SECONDS), "renders/s")


def measure_dryrun(record: Callable[..., None]) -> None:
    from oss.activation.drivers.credentials import DeviceEndpoint
    from oss.activation.drivers.netconf import NetconfDriver
    from oss.activation.dryrun import dry_run
    from oss.activation.rendering import render

    pe, l3, _, _ = _inputs()
    payload = render(pe, l3)
    with fleet_process("--devices", "1", "--profile", "pe-router", "--commit-latency-ms", "50") as (_, manifest, _):
        endpoint = DeviceEndpoint.from_json(manifest.to_json()["devices"][0])
        driver = NetconfDriver(endpoint, timeout_s=30)
        driver.open()
        try:
            dry, reads = [], []
            for n in range(WARMUP + DRYRUN_SAMPLES):
                started = time.perf_counter()
                result = dry_run(driver, payload)
                elapsed = time.perf_counter() - started
                started = time.perf_counter()
                driver.get_config("running")
                read = time.perf_counter() - started
                if n >= WARMUP:
                    dry.append(elapsed * 1000)
                    reads.append(read * 1000)
            assert result.changed, "the bench service must be a change on a factory-fresh pe-router"
        finally:
            driver.close()
    record("activation.dryrun.p95", percentile(dry, 95), "ms", "baseline.ncclient.get_config.p95",
           percentile(reads, 95), higher_is_better=False)  # fmt: skip
    record("activation.dryrun.p50", percentile(dry, 50), "ms", "baseline.ncclient.get_config.p50",
           percentile(reads, 50), higher_is_better=False)  # fmt: skip


def run(record: Callable[..., None]) -> None:
    """Entry point for bench/__main__.py."""
    for noisy in ("asyncssh", "ncclient"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    measure_render(record)
    measure_dryrun(record)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)

    def _print(metric: str, value: float, unit: str, *extra: Any, **kw: Any) -> None:
        print(metric, round(value, 3), unit, extra, kw)

    run(_print)
