"""IPAM benchmark (issue 17 "Benchmark"): next-available addresses and prefixes through HTTP, at growing
numbers of allocations, and the set-wise import.

How it runs (``make bench BENCH=ip``; figures on a shared machine are provisional):

1. A fresh migrated database of the run's backend (``bench.resource.fresh_database``), the API served as
   ``provisio serve`` serves it (uvicorn child, one process).
2. ``ip.import`` (rows/s): ``provisio ip import``'s path (``oss.ip_pool.importer``, ``common.bulk``) of a
   CSV of ``IMPORT_ROWS`` addresses into a /8 (10.0.0.0/8), in process. Aim: >= 5,000 rows/s.
3. For each count in ``LEVELS`` (10,000, 100,000, 1,000,000 by default; ``BENCH_IP_LEVELS`` overrides) the
   /8 is filled up to that many allocations through the same import path, then
   ``ip.next_address.p95.n<count>`` (ms): ``POST /prefix/{id}/availableIp`` of one address, committed,
   ``NEXT_REQUESTS`` sequential requests; ``ip.next_address.read.p95.n<count>``: ``GET .../availableIp?limit=10``;
   ``ip.naive_scan.p95.n<count>``: a netaddr walk of the /8 from its first address, skipping the allocated
   set, until 10 free addresses are found (in process, the read's baseline). The largest count is also
   recorded without the suffix (``ip.next_address.p95``, ``ip.next_address.read.p95``, ``ip.naive_scan.p95``).
   Aims at 1M: < 20 ms and < 5 ms (NetBox 4.6 measured the same way: 7.6 s).
4. ``ip.next_prefix30.p95`` (ms): ``POST .../availablePrefix`` of a /30 in a /12 fragmented by
   ``FRAGMENTS`` /30s of which every other one was given back.
5. ``ip.allocate.c1`` / ``.c16`` (allocations/s): ``POST .../availableIp`` into a /16 per run from 1 and
   16 keep-alive clients, against ``baseline.sql_take.c1`` / ``.c16`` (bench/baseline_app.py) measured right
   after it, and ``pgbench.update.c1`` / ``.c16`` on PostgreSQL.
"""

from __future__ import annotations

import csv
import logging
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import netaddr

from bench import pgbench_figures
from bench.common import HttpClient, Record, latencies, summary_ms, throughput, uvicorn_process
from bench.resource import fresh_database, prepare_take_rows

logger = logging.getLogger(__name__)

IPAM = "/provisio/ipam/v1"
BIG = "10.0.0.0/8"
LEVELS = tuple(int(n) for n in os.environ.get("BENCH_IP_LEVELS", "10000,100000,1000000").split(","))
IMPORT_ROWS = min(int(os.environ.get("BENCH_IP_IMPORT_ROWS", "100000")), LEVELS[0] if LEVELS else 100000)
NEXT_REQUESTS, READ_REQUESTS, SCAN_RUNS = 100, 200, 20
FRAGMENTS = int(os.environ.get("BENCH_IP_FRAGMENTS", "1000"))
ALLOCATE_REQUESTS, ALLOCATE_MAX_SECONDS, TAKE_REQUESTS, TAKE_MAX_SECONDS = 2_000, 15.0, 2_000, 15.0
RUN_PGBENCH = True


def _post(client: HttpClient, path: str, body: dict[str, Any], expect: int = 201) -> Any:
    response = client.request("POST", path, body)
    if response.status != expect:
        raise RuntimeError(f"POST {path} -> {response.status}: {response.body[:300]!r}")
    return response.json()


def _write_csv(path: Path, first: int, count: int) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["kind", "value"])
        for value in range(first, first + count):
            writer.writerow(["address", f"{netaddr.IPAddress(value)}/8"])


def _import(url: str, path: Path) -> float:
    from common import request_context
    from common.uow import UnitOfWork
    from oss.ip_pool import importer
    from server.db import make_engine, make_session_factory
    from server.schema import load_all_models

    load_all_models()
    engine = make_engine(url)
    try:
        factory = make_session_factory(engine)
        started = time.perf_counter()
        with request_context.bind(actor="bench"):
            summary = importer.import_file(lambda: UnitOfWork(factory), path, batch_size=5_000)
        seconds = time.perf_counter() - started
    finally:
        engine.dispose()
    if summary.errors:
        raise RuntimeError(f"import: {summary.errors[:3]}")
    return seconds


def _naive_scan(allocated_upto: int, first: int) -> float:
    """A netaddr walk from the /8's first host, skipping what is allocated, until 10 free (seconds)."""
    allocated = set(range(first, first + allocated_upto))
    started = time.perf_counter()
    found = []
    for ip in netaddr.IPNetwork(BIG).iter_hosts():
        if int(ip) not in allocated:
            found.append(ip)
            if len(found) == 10:
                break
    return time.perf_counter() - started


def run(record: Record) -> None:
    with tempfile.TemporaryDirectory(prefix="provisio-bench-data-") as data_dir, fresh_database() as url:
        env = {"DATABASE_URL": url, "PROVISIO_DATA_DIR": data_dir, "LOG_LEVEL": "WARNING"}
        with uvicorn_process("server.app:create_app", factory=True, env=env, ready_path="/health") as port:
            client = HttpClient(port)
            try:
                figures = _measure(url, client, port, Path(data_dir))
            finally:
                client.close()
        if RUN_PGBENCH:
            figures.update(pgbench_figures.measure(url))

    record("ip.import", figures["import.rate"], "rows/s")
    for level in LEVELS:
        record(f"ip.next_address.p95.n{level}", figures[f"next.{level}"], "ms", higher_is_better=False)
        read, scan = figures[f"read.{level}"], figures[f"scan.{level}"]
        record(f"ip.next_address.read.p95.n{level}", read, "ms", f"ip.naive_scan.p95.n{level}", scan, False)
        record(f"ip.naive_scan.p95.n{level}", scan, "ms", higher_is_better=False)
    top = max(LEVELS)
    record("ip.next_address.p95", figures[f"next.{top}"], "ms", higher_is_better=False)
    record("ip.next_address.read.p95", figures[f"read.{top}"], "ms", "ip.naive_scan.p95", figures[f"scan.{top}"], False)
    record("ip.naive_scan.p95", figures[f"scan.{top}"], "ms", higher_is_better=False)
    record("ip.next_prefix30.p95", figures["prefix30"], "ms", higher_is_better=False)
    for concurrency in (1, 16):
        take = figures[f"take.c{concurrency}"]
        record(f"baseline.sql_take.c{concurrency}", take, "ops/s")
        record(f"ip.allocate.c{concurrency}", figures[f"allocate.c{concurrency}"], "ops/s",
               f"baseline.sql_take.c{concurrency}", take)  # fmt: skip
    for name in ("pgbench.update.c1", "pgbench.update.c16"):
        if name in figures:
            record(name, figures[name], "tps")


def _measure(url: str, client: HttpClient, port: int, scratch: Path) -> dict[str, float]:
    figures: dict[str, float] = {}
    big = _post(client, f"{IPAM}/prefix", {"prefix": BIG})["id"]
    first = int(netaddr.IPNetwork(BIG).network) + 1
    allocated = 0
    for level in sorted(LEVELS):
        rows = level - allocated
        path = scratch / f"ip-{level}.csv"
        _write_csv(path, first + allocated, rows)
        seconds = _import(url, path)
        if allocated == 0:
            figures["import.rate"] = rows / seconds
        logger.info("imported %d addresses in %.1f s (%.0f rows/s)", rows, seconds, rows / seconds)
        allocated = level
        post = f"{IPAM}/prefix/{big}/availableIp"
        samples = latencies(port, "POST", [post] * NEXT_REQUESTS, {}, expect=201)
        allocated += NEXT_REQUESTS
        figures[f"next.{level}"] = summary_ms(samples)["p95"]
        read = summary_ms(latencies(port, "GET", [f"{post}?limit=10"] * READ_REQUESTS))
        figures[f"read.{level}"] = read["p95"]
        scans = sorted(_naive_scan(allocated, first) for _ in range(SCAN_RUNS))
        figures[f"scan.{level}"] = scans[int(0.95 * (len(scans) - 1))] * 1000
        logger.info("n=%d: next %.2f ms, read %.2f ms, naive %.2f ms", level, figures[f"next.{level}"],
                    figures[f"read.{level}"], figures[f"scan.{level}"])  # fmt: skip

    frag = _post(client, f"{IPAM}/prefix", {"prefix": "172.16.0.0/12"})["id"]
    carve = f"{IPAM}/prefix/{frag}/availablePrefix"
    made = [_post(client, carve, {"prefixLength": 30})["id"] for _ in range(FRAGMENTS)]
    for prefix_id in made[::2]:
        client.request("DELETE", f"{IPAM}/prefix/{prefix_id}")
    samples = latencies(port, "POST", [f"{IPAM}/prefix/{frag}/availablePrefix"] * NEXT_REQUESTS, {"prefixLength": 30},
                        expect=201)  # fmt: skip
    figures["prefix30"] = summary_ms(samples)["p95"]

    prepare_take_rows(url, TAKE_REQUESTS * 2 + 100)
    with uvicorn_process("bench.baseline_app:app", env={"BASELINE_DATABASE_URL": url}, ready_path="/json") as sql_port:
        latencies(sql_port, "POST", ["/sql/take"] * 20, expect=201)
        for concurrency, net in ((1, "198.18.0.0/16"), (16, "198.19.0.0/16")):
            allocate = f"{IPAM}/prefix/{_post(client, f'{IPAM}/prefix', {'prefix': net})['id']}/availableIp"

            def next_address(_i: int, path: str = allocate) -> tuple[str, str, Any]:
                return ("POST", path, {})

            rate, _ = throughput(
                port,
                next_address,
                total=ALLOCATE_REQUESTS,
                concurrency=concurrency,
                max_seconds=ALLOCATE_MAX_SECONDS,
                expect=201,
            )
            figures[f"allocate.c{concurrency}"] = rate
            figures[f"take.c{concurrency}"], _ = throughput(
                sql_port, lambda _i: ("POST", "/sql/take", None), total=TAKE_REQUESTS, concurrency=concurrency,
                max_seconds=TAKE_MAX_SECONDS, expect=201,
            )  # fmt: skip
            logger.info("c%d: %.0f allocations/s, sql_take %.0f/s", concurrency, rate, figures[f"take.c{concurrency}"])
    return figures
