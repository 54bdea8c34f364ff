"""Numbers benchmark (issue 16 "Benchmark"): E.164 blocks, TMF685 holds and pattern search through HTTP.

How it runs (``make bench BENCH=numbers``):

1. A fresh migrated database of the run's backend (``bench.resource.fresh_database``: a temporary SQLite
   file, or ``<DATABASE_URL's db>_bench`` on PostgreSQL, dropped afterwards) with an API token of every
   scope; the API served as ``provisio serve`` serves it (uvicorn child, one process, workers on).
2. ``numbers.block10m.create`` (s): ``POST /numberBlock`` of 10,000,000 numbers (+44 20 7000 0000 ..
   +44 20 7999 9999) into a new pool, one request's wall time; ``numbers.block10m.growth`` (MB): how much
   the database grew for it (``pg_database_size``; on SQLite the file and its WAL), after a checkpoint.
   Aims: < 1 s, < 10 MB (a block is a row and its free chunks, not 10M rows).
3. ``numbers.reserve.c1`` / ``.c16`` (holds/s): ``POST /reservation`` of one
   ``TelephoneNumberReservationItem`` (policy ``any``) of that pool, ``RESERVE_REQUESTS`` requests or
   ``RESERVE_MAX_SECONDS`` from 1 and from 16 keep-alive clients. Each is recorded against
   ``baseline.sql_take.c1`` / ``.c16`` measured right after it on the same database: bench/baseline_app.py's
   ``POST /sql/take`` (one raw ``UPDATE ... WHERE id = (SELECT ... FOR UPDATE SKIP LOCKED LIMIT 1)
   RETURNING``; SQLite: ``BEGIN IMMEDIATE``). Aim: ratio >= 0.25 at 16 clients. ``numbers.reserve.c*.cpu``
   is the server's CPU per hold (ms), the figure a shared machine moves least.
4. ``pgbench.update.c1`` / ``.c16`` (PostgreSQL only, bench/pgbench_figures.py): ``pgbench -N -M prepared``
   on a scratch database of the same server, so the figures compare across machines.
5. ``numbers.search.pattern.p95`` / ``.p50`` (ms): ``GET /availableNumber?pattern=*777*&limit=10`` in the
   10M block after ``TOUCHED`` (1,000,000) of its numbers were touched, one sequential client,
   ``SEARCH_REQUESTS`` requests of the first page (the figure the issue names; a deep ``offset`` costs more:
   the chunks before it are counted one by one). The numbers are
   touched in bulk, not through 1M HTTP calls: ``TOUCHED`` seeded numbers, as ``TOUCH_RUN``-long runs at
   random places (a carrier's assignments: single numbers and DID ranges scattered over the block), are
   written as assigned ``telephone_number`` rows (COPY on PostgreSQL) and the block's free chunks are
   rewritten to their complement, as the hold path leaves them (nothing is held through HTTP).
   Aim: < 50 ms.

Client and server share the machine's cores; traffic goes to 127.0.0.1 only; every loop is bounded in
count and time.
"""

from __future__ import annotations

import logging
import os
import random
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, insert, select, text
from sqlalchemy.engine import Engine, make_url

from bench import pgbench_figures
from bench.common import CpuMeter, HttpClient, Record, latencies, served_pid, summary_ms, throughput, uvicorn_process
from bench.resource import fresh_database, prepare_take_rows

logger = logging.getLogger(__name__)

NI = "/provisio/numberInventory/v1"
RP = "/tmf-api/resourcePoolManagement/v1"
BLOCK_FIRST, BLOCK_LAST = "+442070000000", "+442079999999"  # 10,000,000 London 020 7 numbers
RESERVE_POOL_FIRST, RESERVE_POOL_LAST = "+442030000000", "+442039999999"  # the reservations' own block
RESERVE_REQUESTS, RESERVE_MAX_SECONDS, RESERVE_CONCURRENCY = 2_000, 15.0, (1, 16)
TAKE_REQUESTS, TAKE_MAX_SECONDS = 2_000, 15.0
TOUCHED = int(os.environ.get("BENCH_NUMBERS_TOUCHED", "1000000"))
TOUCH_RUN = 10  # numbers per touched run: 100,000 runs scattered over the block
TOUCH_BATCH = 20_000
SEARCH_REQUESTS, SEARCH_PATTERN = 200, "*777*"
RUN_PGBENCH = True
SEED = 16


# ------------------------------------------------------------------------------------------- helpers


def _post(client: HttpClient, path: str, body: dict[str, Any], expect: int = 201) -> dict[str, Any]:
    response = client.request("POST", path, body)
    if response.status != expect:
        raise RuntimeError(f"POST {path} -> {response.status}: {response.body[:500]!r}")
    answer: dict[str, Any] = response.json()
    return answer


def new_pool(client: HttpClient, name: str) -> str:
    return str(_post(client, f"{NI}/numberPool", {"name": name, "region": "GB", "agingDays": 30})["id"])


def reservation_body(pool_id: str) -> dict[str, Any]:
    item = {
        "@type": "TelephoneNumberReservationItem",
        "quantity": 1,
        "resourceCapacity": {"resourcePool": {"id": pool_id}},
    }
    return {"reservationItem": [item], "relatedParty": [{"id": "bench-customer", "role": "customer"}]}


def database_bytes(engine: Engine, url: str) -> int:
    """The database's size on disk: ``pg_database_size`` after a checkpoint, or the SQLite file with its WAL."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("CHECKPOINT"))
            return int(connection.execute(text("SELECT pg_database_size(current_database())")).scalar_one())
    path = Path(make_url(url).database or "")
    return sum(p.stat().st_size for p in (path, path.with_name(path.name + "-wal")) if p.exists())


# ------------------------------------------------------------------------------------------ touching


def touched_runs(first: int, last: int, touched: int, run: int, seed: int) -> list[tuple[int, int]]:
    """``touched // run`` disjoint runs of ``run`` numbers at seeded random places of [first, last], sorted."""
    slots = (last - first + 1) // run
    starts = sorted(random.Random(seed).sample(range(slots), touched // run))
    return [(first + slot * run, first + slot * run + run - 1) for slot in starts]


def complement(first: int, last: int, runs: list[tuple[int, int]]) -> Iterator[tuple[int, int]]:
    """The free intervals of [first, last] around sorted disjoint ``runs``."""
    cursor = first
    for run_first, run_last in runs:
        if run_first > cursor:
            yield cursor, run_first - 1
        cursor = run_last + 1
    if cursor <= last:
        yield cursor, last


def touch_numbers(url: str, pool_id: str, touched: int, run: int) -> float:
    """Make ``touched`` numbers of the pool's block assigned, in bulk: their rows, and the block's free chunks
    rewritten to the complement (what holds would have left). Returns the seconds it took."""
    from oss.number_pool import domain
    from oss.number_pool.models import NumberBlockRow, NumberChunkRow, TelephoneNumberRow
    from server.db import make_engine

    engine = make_engine(url)
    started = time.perf_counter()
    try:
        with engine.begin() as connection:
            block = connection.execute(select(NumberBlockRow.__table__).where(NumberBlockRow.pool_id == pool_id)).one()
            runs = touched_runs(block.first_digits, block.last_digits, touched, run, SEED)
            connection.execute(delete(NumberChunkRow).where(NumberChunkRow.block_id == block.id))
            chunks = [
                {"pool_id": pool_id, "block_id": block.id, "first_digits": a, "last_digits": b}
                for a, b in complement(block.first_digits, block.last_digits, runs)
            ]
            for start in range(0, len(chunks), TOUCH_BATCH):
                _insert_rows(connection, NumberChunkRow.__table__, chunks[start : start + TOUCH_BATCH])
        shape = domain.NumberShape(block.digit_count, len(str(block.country_code)), block.national_prefix)
        now = datetime.now(UTC)
        digits = [d for a, b in runs for d in range(a, b + 1)]
        for start in range(0, len(digits), TOUCH_BATCH):
            rows = [
                {
                    "id": f"bench-{d}",
                    "digits": d,
                    "value": domain.format_e164(d),
                    "national": domain.national_digits(d, shape),
                    "pool_id": pool_id,
                    "block_id": block.id,
                    "state": "assigned",
                    "category": "standard",
                    "customer_id": "bench-customer",
                    "was_assigned": True,
                    "created_at": now,
                    "updated_at": now,
                    "row_version": 1,
                }
                for d in digits[start : start + TOUCH_BATCH]
            ]
            with engine.begin() as connection:
                _insert_rows(connection, TelephoneNumberRow.__table__, rows)
        if engine.dialect.name == "postgresql":
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(text("ANALYZE number_chunk"))
                connection.execute(text("ANALYZE telephone_number"))
        return time.perf_counter() - started
    finally:
        engine.dispose()


def _insert_rows(connection: Any, table: Any, rows: list[dict[str, Any]]) -> None:
    """A batch of rows: COPY on PostgreSQL (a million rows in seconds, not minutes), executemany on SQLite."""
    if not rows:
        return
    if connection.dialect.name != "postgresql":
        connection.execute(insert(table), rows)
        return
    columns = list(rows[0])
    cursor = connection.connection.driver_connection.cursor()
    with cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([row[column] for column in columns])


# ---------------------------------------------------------------------------------------------- phases


def _reserve(port: int, body: dict[str, Any], concurrency: int) -> tuple[float, float | None]:
    with CpuMeter(served_pid(port)) as cpu:
        rate, done = throughput(
            port,
            lambda _i: ("POST", f"{RP}/reservation", body),
            total=RESERVE_REQUESTS,
            concurrency=concurrency,
            max_seconds=RESERVE_MAX_SECONDS,
            expect=201,
        )
    return rate, cpu.per_request_ms(done)


def _takes(sql_port: int, concurrency: int) -> float:
    rate, _ = throughput(
        sql_port,
        lambda _i: ("POST", "/sql/take", None),
        total=TAKE_REQUESTS,
        concurrency=concurrency,
        max_seconds=TAKE_MAX_SECONDS,
        expect=201,
    )
    return rate


def run(record: Record) -> None:
    from server.db import make_engine

    with tempfile.TemporaryDirectory(prefix="provisio-bench-data-") as data_dir, fresh_database() as url:
        env = {"DATABASE_URL": url, "PROVISIO_DATA_DIR": data_dir, "LOG_LEVEL": "WARNING"}
        engine = make_engine(url)
        try:
            with uvicorn_process("server.app:create_app", factory=True, env=env, ready_path="/health") as port:
                client = HttpClient(port)
                try:
                    figures = _measure(url, engine, client, port)
                finally:
                    client.close()
        finally:
            engine.dispose()
        if RUN_PGBENCH:
            figures.update(pgbench_figures.measure(url))

    record("numbers.block10m.create", figures["block.seconds"], "s", higher_is_better=False)
    record("numbers.block10m.growth", figures["block.mb"], "MB", higher_is_better=False)
    for concurrency in RESERVE_CONCURRENCY:
        take = figures[f"take.c{concurrency}"]
        record(f"baseline.sql_take.c{concurrency}", take, "ops/s")
        metric = f"numbers.reserve.c{concurrency}"
        record(metric, figures[f"reserve.c{concurrency}"], "holds/s", f"baseline.sql_take.c{concurrency}", take)
        if figures.get(f"reserve.c{concurrency}.cpu"):
            record(f"{metric}.cpu", figures[f"reserve.c{concurrency}.cpu"], "ms CPU/req", higher_is_better=False)
    for name in ("pgbench.update.c1", "pgbench.update.c16"):
        if name in figures:
            record(name, figures[name], "tps")
    record("numbers.search.pattern.p95", figures["search.p95"], "ms", higher_is_better=False)
    record("numbers.search.pattern.p50", figures["search.p50"], "ms", higher_is_better=False)


def _measure(url: str, engine: Engine, client: HttpClient, port: int) -> dict[str, float]:
    figures: dict[str, float] = {}
    search_pool = new_pool(client, "London 020 7 (bench)")
    before = database_bytes(engine, url)
    started = time.perf_counter()
    _post(client, f"{NI}/numberBlock", {"poolId": search_pool, "first": BLOCK_FIRST, "last": BLOCK_LAST})
    figures["block.seconds"] = time.perf_counter() - started
    figures["block.mb"] = max(0, database_bytes(engine, url) - before) / 1e6
    logger.info("10M block in %.3f s, %.2f MB", figures["block.seconds"], figures["block.mb"])

    reserve_pool = new_pool(client, "London 020 3 (bench holds)")
    _post(client, f"{NI}/numberBlock", {"poolId": reserve_pool, "first": RESERVE_POOL_FIRST, "last": RESERVE_POOL_LAST})
    body = reservation_body(reserve_pool)
    latencies(port, "POST", [f"{RP}/reservation"] * 20, body, expect=201)  # warm-up
    prepare_take_rows(url, TAKE_REQUESTS * len(RESERVE_CONCURRENCY) + 100)
    with uvicorn_process("bench.baseline_app:app", env={"BASELINE_DATABASE_URL": url}, ready_path="/json") as sql_port:
        latencies(sql_port, "POST", ["/sql/take"] * 20, expect=201)  # warm-up
        for concurrency in RESERVE_CONCURRENCY:
            rate, cpu = _reserve(port, body, concurrency)
            figures[f"reserve.c{concurrency}"] = rate
            if cpu is not None:
                figures[f"reserve.c{concurrency}.cpu"] = cpu
            figures[f"take.c{concurrency}"] = _takes(sql_port, concurrency)
            logger.info("c%d: %.0f holds/s, sql_take %.0f/s", concurrency, rate, figures[f"take.c{concurrency}"])

    seconds = touch_numbers(url, search_pool, TOUCHED, TOUCH_RUN)
    logger.info("touched %d numbers of the 10M block in %.1f s", TOUCHED, seconds)
    search = f"{NI}/availableNumber?poolId={search_pool}&pattern={SEARCH_PATTERN.replace('*', '%2A')}&limit=10"
    latencies(port, "GET", [search] * 5)  # warm-up
    summary = summary_ms(latencies(port, "GET", [search] * SEARCH_REQUESTS))
    figures["search.p95"], figures["search.p50"] = summary["p95"], summary["p50"]
    return figures
