"""Foundation benchmark (issue 3): TMF639 Resource Inventory through HTTP, with 100,000 stored resources.

How it runs (``make bench BENCH=resource``):

1. A fresh database: a temporary SQLite file, or with ``DATABASE_URL`` pointing at PostgreSQL a database of
   its own next to that one (``<name>_bench``, dropped afterwards). It is migrated with the alembic
   migrations, as ``provisio db upgrade`` does, and given an API token with every scope, which every
   request sends (``bench.common.authorize``): the figures are taken with authentication on.
2. The API served exactly as ``provisio serve`` serves it (uvicorn, one process, access log off, background
   workers on) in a child process on 127.0.0.1:<ephemeral>.
3. 30 template resources are created through HTTP (5 categories x 6 resourceStatus values, with
   characteristics, a specification ref and a related party). The store is then filled up to 100,000
   resources by **SQL insert of copies of the rows the API wrote for those templates** (new id, name and
   timestamps; the document, indexed columns and all else as the API stored them), in batches of 5,000.
   Only the ``resource`` rows are copied, not the audit and outbox rows of their creation: the figures
   below are about reading and writing a large inventory, not about replaying history.
   ``resource.bulkload`` reports that load rate (rows/s, no baseline: it is not an API figure).
4. ``resource.create``: POST /resource (201) from 8 keep-alive clients in threads, 2,000 requests or 20 s,
   ops/s. Baseline ``baseline.starlette.json``: the same POST body to a bare Starlette JSON endpoint
   (bench/baseline_app.py) served the same way, same clients, same concurrency.
5. ``resource.list.p95`` / ``.p50``: GET /resource?resourceStatus=available&category=router&limit=100 with
   offsets 0..900 (each filter combination matches ~3,300 rows), one sequential client, 300 requests.
   ``resource.retrieve.p95`` / ``.p50``: GET /resource/{id} for 1,000 ids drawn (seeded) from the whole store.
   Baseline ``baseline.starlette.json.p95`` / ``.p50``: GET of the bare endpoint, one sequential client.
6. Raw-SQL baselines (issue 13), served by bench/baseline_app.py in a second child on the **same database**
   while the API's child stays up, each phase right after the API's own with the same requests:
   ``baseline.sql_insert`` (the create's statements as raw SQL in one transaction),
   ``baseline.sql_list.p50/.p95`` (the same count + page of 100 and the same documents),
   ``baseline.sql_retrieve.p50/.p95`` (the same SELECT by id), and ``baseline.sql_take.c1/.c16`` (take one
   free row with ``UPDATE ... WHERE id = (SELECT ... FOR UPDATE SKIP LOCKED LIMIT 1) RETURNING``, 2,000
   requests from 1 and from 16 clients; on SQLite ``BEGIN IMMEDIATE`` and the same UPDATE without row
   locks). The API figures are recorded against them again as ``resource.create.vs_sql``,
   ``resource.list.p50/.p95.vs_sql`` and ``resource.retrieve.p50/.p95.vs_sql``.
7. ``resource.create.cpu`` / ``.list.cpu`` / ``.retrieve.cpu`` (ms CPU/req): the server child's CPU time per
   request (``bench.common.CpuMeter``: its threads' run time, counting threads that ended) over each
   phase, against the raw-SQL child's (``baseline.sql_insert.cpu`` ...): on a machine shared with other
   work the one figure that load hardly moves.

Latency ratios are baseline/value, throughput ratios value/baseline: higher is better, 1.0 would mean
"as fast as an endpoint that does nothing". Client and server share the machine's two cores.
Every loop is bounded in count and time; traffic goes to 127.0.0.1 only.
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import MetaData, Table, select, text
from sqlalchemy.engine import make_url

from bench.common import CpuMeter, Record, authorize, latencies, served_pid, summary_ms, throughput, uvicorn_process

logger = logging.getLogger(__name__)

TOTAL_RESOURCES = int(os.environ.get("BENCH_RESOURCES", "100000"))
BATCH = 5_000
CREATE_REQUESTS, CREATE_CONCURRENCY, CREATE_MAX_SECONDS = 2_000, 8, 20.0
LIST_REQUESTS, RETRIEVE_REQUESTS = 300, 1_000
TAKE_REQUESTS, TAKE_MAX_SECONDS, TAKE_CONCURRENCY = 2_000, 20.0, (1, 16)
SEED = 639

BASE = "/tmf-api/resourceInventoryManagement/v4/resource"
SQL_BASE = "/sql/resource"  # bench/baseline_app.py: the same work as raw SQL
CATEGORIES = ("router", "cpe", "switch", "msisdn", "ipAddress")
STATUSES = ("available", "reserved", "standby", "alarm", "suspended", "unknown")
LIST_FILTER = "resourceStatus=available&category=router"


def resource_body(name: str, category: str, status: str, index: int) -> dict[str, Any]:
    """A TMF639 v4 resource as a client would POST it (documentation IP ranges, ASN 64496-64511)."""
    return {
        "@type": "LogicalResource",
        "name": name,
        "description": f"benchmark resource {index}",
        "category": category,
        "resourceStatus": status,
        "administrativeState": "unlocked" if index % 4 else "locked",
        "operationalState": "enable" if index % 3 else "disable",
        "usageState": ("idle", "active", "busy")[index % 3],
        "resourceVersion": "1",
        "resourceCharacteristic": [
            {"name": "vlan", "valueType": "integer", "value": 100 + index % 3000},
            {"name": "asn", "valueType": "integer", "value": 64496 + index % 16},
            {"name": "loopback", "valueType": "string", "value": f"192.0.2.{index % 254 + 1}"},
        ],
        "resourceSpecification": {"id": f"spec-{category}", "name": f"{category} specification"},
        "relatedParty": [{"id": "noc-1", "name": "NOC", "role": "owner", "@referredType": "Organization"}],
    }


# ------------------------------------------------------------------------------------------- databases


@contextlib.contextmanager
def fresh_database() -> Iterator[str]:
    """A migrated, empty database URL of the backend the run is for; removed afterwards."""
    configured = os.environ.get("DATABASE_URL", "")
    if configured.startswith("postgresql"):
        from server.cli import db_create

        base = make_url(configured)
        url = base.set(database=f"{base.database}_bench").render_as_string(hide_password=False)
        db_create(url, recreate=True)
        try:
            _migrate(url)
            authorize(url)
            yield url
        finally:
            _drop_postgres_database(url)
    else:
        with tempfile.TemporaryDirectory(prefix="provisio-bench-") as directory:
            url = f"sqlite:///{Path(directory) / 'bench.db'}"
            _migrate(url)
            authorize(url)
            yield url


def _migrate(url: str) -> None:
    from alembic import command

    from server.cli import alembic_config

    config = alembic_config(url)
    config.attributes["configure_logger"] = False
    command.upgrade(config, "head")


def _drop_postgres_database(url: str) -> None:
    from server.db import make_engine

    parsed = make_url(url)
    admin = make_engine(parsed.set(database="postgres").render_as_string(hide_password=False))
    try:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
    finally:
        admin.dispose()


def bulk_load(url: str, template_ids: list[str], total: int) -> tuple[list[str], float]:
    """Copy the API-written rows of the templates until the table holds ``total`` resources.
    Returns (the new ids, rows per second)."""
    from server.db import make_engine

    engine = make_engine(url)
    rng = random.Random(SEED)
    new_ids: list[str] = []
    try:
        table = Table("resource", MetaData(), autoload_with=engine)
        with engine.connect() as connection:
            rows = connection.execute(select(table).where(table.c.id.in_(template_ids))).mappings().all()
            existing = connection.execute(select(text("count(*)")).select_from(table)).scalar_one()
        templates = [dict(row) for row in rows]
        if not templates:
            raise RuntimeError("the API stored none of the template resources")
        to_insert = max(0, total - int(existing))
        started = time.perf_counter()
        for batch_start in range(0, to_insert, BATCH):
            batch = []
            for index in range(batch_start, min(batch_start + BATCH, to_insert)):
                template = templates[index % len(templates)]
                row = dict(template)
                row["id"] = str(uuid.UUID(int=rng.getrandbits(128), version=4))
                row["name"] = f"{template['name']}-{index:06d}"
                stamp = template["created_at"] + timedelta(microseconds=index + 1)
                row["created_at"] = row["updated_at"] = stamp
                document = row.get("document")
                if isinstance(document, dict) and document.get("id") == template["id"]:
                    row["document"] = {**document, "id": row["id"], "name": row["name"]}
                batch.append(row)
                new_ids.append(row["id"])
            with engine.begin() as connection:
                connection.execute(table.insert(), batch)
        elapsed = time.perf_counter() - started
        if engine.dialect.name == "postgresql":
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(text("ANALYZE resource"))  # as autovacuum would soon after a load
        return new_ids, (to_insert / elapsed if elapsed else 0.0)
    finally:
        engine.dispose()


# ---------------------------------------------------------------------------------------------- phases


def measure_baseline() -> dict[str, float]:
    body = resource_body("baseline", "router", "available", 0)
    with uvicorn_process("bench.baseline_app:app", ready_path="/json") as port:
        latencies(port, "GET", ["/json"] * 50)  # warm-up
        with CpuMeter(served_pid(port)) as cpu:
            rate, done = throughput(
                port,
                lambda i: ("POST", "/json", {**body, "name": f"baseline-{i}"}),
                total=CREATE_REQUESTS,
                concurrency=CREATE_CONCURRENCY,
                max_seconds=CREATE_MAX_SECONDS,
                expect=201,
            )
        reads = summary_ms(latencies(port, "GET", ["/json"] * RETRIEVE_REQUESTS))
    return {"rate": rate, "p50": reads["p50"], "p95": reads["p95"], "cpu": cpu.per_request_ms(done) or 0.0}


def _create(port: int, prefix: str, path: str) -> tuple[float, int, float | None]:
    """(ops/s, requests done, server CPU ms per request) of CREATE_REQUESTS creates from 8 clients."""
    with CpuMeter(served_pid(port)) as cpu:
        rate, done = throughput(
            port,
            lambda i: ("POST", path, resource_body(f"{prefix}-{i}", CATEGORIES[i % 5], STATUSES[i % 6], i)),
            total=CREATE_REQUESTS,
            concurrency=CREATE_CONCURRENCY,
            max_seconds=CREATE_MAX_SECONDS,
            expect=201,
        )
    return rate, done, cpu.per_request_ms(done)


def _reads(port: int, paths: list[str]) -> tuple[dict[str, float], float | None]:
    """Latency summary of sequential GETs and the server's CPU ms per request."""
    with CpuMeter(served_pid(port)) as cpu:
        figures = summary_ms(latencies(port, "GET", paths))
    return figures, cpu.per_request_ms(len(paths))


def _takes(port: int, concurrency: int) -> float:
    rate, _ = throughput(
        port,
        lambda _i: ("POST", "/sql/take", None),
        total=TAKE_REQUESTS,
        concurrency=concurrency,
        max_seconds=TAKE_MAX_SECONDS,
        expect=201,
    )
    return rate


def prepare_take_rows(url: str, rows: int) -> None:
    from bench.baseline_app import prepare_take_table
    from server.db import make_engine

    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            prepare_take_table(connection, rows, postgres=engine.dialect.name == "postgresql")
    finally:
        engine.dispose()


def run(record: Record) -> None:
    baseline = measure_baseline()
    logger.info("baseline: %.0f req/s, GET p50 %.2f ms p95 %.2f ms", baseline["rate"], baseline["p50"], baseline["p95"])
    record("baseline.starlette.json", baseline["rate"], "req/s")
    record("baseline.starlette.json.p50", baseline["p50"], "ms", higher_is_better=False)
    record("baseline.starlette.json.p95", baseline["p95"], "ms", higher_is_better=False)
    if baseline["cpu"]:
        record("baseline.starlette.json.cpu", baseline["cpu"], "ms CPU/req", higher_is_better=False)

    with tempfile.TemporaryDirectory(prefix="provisio-bench-data-") as data_dir, fresh_database() as url:
        env = {"DATABASE_URL": url, "PROVISIO_DATA_DIR": data_dir, "LOG_LEVEL": "WARNING"}
        with uvicorn_process("server.app:create_app", factory=True, env=env, ready_path="/health") as port:
            template_ids = _create_templates(port)
            ids, load_rate = bulk_load(url, template_ids, TOTAL_RESOURCES)
            logger.info("bulk-loaded %d resources at %.0f rows/s", len(ids), load_rate)
            record("resource.bulkload", load_rate, "rows/s")
            prepare_take_rows(url, TAKE_REQUESTS * len(TAKE_CONCURRENCY) + 100)
            sql_env = {"BASELINE_DATABASE_URL": url}
            with uvicorn_process("bench.baseline_app:app", env=sql_env, ready_path="/json") as sql_port:
                figures = _measure_api_and_sql(port, sql_port, ids)

    create_rate, create_cpu = figures["api.create"]
    sql_rate, sql_create_cpu = figures["sql.create"]
    record("resource.create", create_rate, "ops/s", "baseline.starlette.json", baseline["rate"])
    record("baseline.sql_insert", sql_rate, "ops/s")
    record("resource.create.vs_sql", create_rate, "ops/s", "baseline.sql_insert", sql_rate)
    _record_cpu(record, "create", create_cpu, "sql_insert", sql_create_cpu)
    for name, sql_name in (("list", "sql_list"), ("retrieve", "sql_retrieve")):
        api, api_cpu = figures[f"api.{name}"]
        sql, sql_cpu = figures[f"sql.{name}"]
        for q in ("p50", "p95"):
            record(f"baseline.{sql_name}.{q}", sql[q], "ms", higher_is_better=False)
        for q in ("p50", "p95"):
            record(
                f"resource.{name}.{q}",
                api[q],
                "ms",
                f"baseline.starlette.json.{q}",
                baseline[q],
                higher_is_better=False,
            )
            record(
                f"resource.{name}.{q}.vs_sql", api[q], "ms", f"baseline.{sql_name}.{q}", sql[q], higher_is_better=False
            )
        _record_cpu(record, name, api_cpu, sql_name, sql_cpu)
    for concurrency in TAKE_CONCURRENCY:
        record(f"baseline.sql_take.c{concurrency}", figures[f"sql.take.c{concurrency}"][0], "ops/s")


def _measure_api_and_sql(port: int, sql_port: int, ids: list[str]) -> dict[str, tuple[Any, float | None]]:
    """Each API phase, then the same work as raw SQL (bench/baseline_app.py) on the same database."""
    figures: dict[str, tuple[Any, float | None]] = {}
    latencies(port, "GET", [f"{BASE}?{LIST_FILTER}&limit=100"] * 20 + [f"{BASE}/{ids[0]}"] * 20)  # warm-up
    latencies(sql_port, "GET", [f"{SQL_BASE}?{LIST_FILTER}&limit=100"] * 20 + [f"{SQL_BASE}/{ids[0]}"] * 20)
    rate, done, cpu = _create(port, "bench-create", BASE)
    logger.info("created %d resources through HTTP at %.0f ops/s", done, rate)
    figures["api.create"] = (rate, cpu)
    rate, done, cpu = _create(sql_port, "bench-sql-create", SQL_BASE)
    logger.info("created %d resources as raw SQL at %.0f ops/s", done, rate)
    figures["sql.create"] = (rate, cpu)

    list_query = [f"?{LIST_FILTER}&limit=100&offset={100 * (i % 10)}" for i in range(LIST_REQUESTS)]
    figures["api.list"] = _reads(port, [BASE + query for query in list_query])
    figures["sql.list"] = _reads(sql_port, [SQL_BASE + query for query in list_query])
    rng = random.Random(SEED)
    picked = [rng.choice(ids) for _ in range(RETRIEVE_REQUESTS)]
    figures["api.retrieve"] = _reads(port, [f"{BASE}/{resource_id}" for resource_id in picked])
    figures["sql.retrieve"] = _reads(sql_port, [f"{SQL_BASE}/{resource_id}" for resource_id in picked])
    for concurrency in TAKE_CONCURRENCY:
        figures[f"sql.take.c{concurrency}"] = (_takes(sql_port, concurrency), None)
    return figures


def _record_cpu(record: Record, name: str, api_cpu: float | None, sql_name: str, sql_cpu: float | None) -> None:
    """Server CPU per request (the figure a loaded machine moves least), API against its raw-SQL baseline."""
    if api_cpu is None or sql_cpu is None:
        return
    record(f"baseline.{sql_name}.cpu", sql_cpu, "ms CPU/req", higher_is_better=False)
    record(f"resource.{name}.cpu", api_cpu, "ms CPU/req", f"baseline.{sql_name}.cpu", sql_cpu, higher_is_better=False)


def _create_templates(port: int) -> list[str]:
    from bench.common import HttpClient

    client = HttpClient(port)
    ids = []
    try:
        for index in range(len(CATEGORIES) * len(STATUSES)):
            category, status = CATEGORIES[index % len(CATEGORIES)], STATUSES[index % len(STATUSES)]
            response = client.request("POST", BASE, resource_body(f"{category}-{status}", category, status, index))
            if response.status != 201:
                raise RuntimeError(f"POST {BASE} -> {response.status}: {response.body[:500]!r}")
            ids.append(str(response.json()["id"]))
    finally:
        client.close()
    return ids
