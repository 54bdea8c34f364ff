"""Foundation benchmark (issue 3): TMF639 Resource Inventory through HTTP, with 100,000 stored resources.

How it runs (``make bench BENCH=resource``):

1. A fresh database: a temporary SQLite file, or with ``DATABASE_URL`` pointing at PostgreSQL a database of
   its own next to that one (``<name>_bench``, dropped afterwards). It is migrated with the alembic
   migrations, as ``provisio db upgrade`` does.
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

from bench.common import Record, latencies, summary_ms, throughput, uvicorn_process

logger = logging.getLogger(__name__)

TOTAL_RESOURCES = int(os.environ.get("BENCH_RESOURCES", "100000"))
BATCH = 5_000
CREATE_REQUESTS, CREATE_CONCURRENCY, CREATE_MAX_SECONDS = 2_000, 8, 20.0
LIST_REQUESTS, RETRIEVE_REQUESTS = 300, 1_000
SEED = 639

BASE = "/tmf-api/resourceInventoryManagement/v4/resource"
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
            yield url
        finally:
            _drop_postgres_database(url)
    else:
        with tempfile.TemporaryDirectory(prefix="provisio-bench-") as directory:
            url = f"sqlite:///{Path(directory) / 'bench.db'}"
            _migrate(url)
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
        rate, _ = throughput(
            port,
            lambda i: ("POST", "/json", {**body, "name": f"baseline-{i}"}),
            total=CREATE_REQUESTS,
            concurrency=CREATE_CONCURRENCY,
            max_seconds=CREATE_MAX_SECONDS,
            expect=201,
        )
        reads = summary_ms(latencies(port, "GET", ["/json"] * RETRIEVE_REQUESTS))
    return {"rate": rate, "p50": reads["p50"], "p95": reads["p95"]}


def run(record: Record) -> None:
    baseline = measure_baseline()
    logger.info("baseline: %.0f req/s, GET p50 %.2f ms p95 %.2f ms", baseline["rate"], baseline["p50"], baseline["p95"])
    record("baseline.starlette.json", baseline["rate"], "req/s")
    record("baseline.starlette.json.p50", baseline["p50"], "ms", higher_is_better=False)
    record("baseline.starlette.json.p95", baseline["p95"], "ms", higher_is_better=False)

    with tempfile.TemporaryDirectory(prefix="provisio-bench-data-") as data_dir, fresh_database() as url:
        env = {"DATABASE_URL": url, "PROVISIO_DATA_DIR": data_dir, "LOG_LEVEL": "WARNING"}
        with uvicorn_process("server.app:create_app", factory=True, env=env, ready_path="/health") as port:
            template_ids = _create_templates(port)
            ids, load_rate = bulk_load(url, template_ids, TOTAL_RESOURCES)
            logger.info("bulk-loaded %d resources at %.0f rows/s", len(ids), load_rate)
            record("resource.bulkload", load_rate, "rows/s")

            latencies(port, "GET", [f"{BASE}?{LIST_FILTER}&limit=100"] * 20 + [f"{BASE}/{ids[0]}"] * 20)  # warm-up
            rate, done = throughput(
                port,
                lambda i: ("POST", BASE, resource_body(f"bench-create-{i}", CATEGORIES[i % 5], STATUSES[i % 6], i)),
                total=CREATE_REQUESTS,
                concurrency=CREATE_CONCURRENCY,
                max_seconds=CREATE_MAX_SECONDS,
                expect=201,
            )
            logger.info("created %d resources through HTTP at %.0f ops/s", done, rate)
            record("resource.create", rate, "ops/s", "baseline.starlette.json", baseline["rate"])

            list_paths = [f"{BASE}?{LIST_FILTER}&limit=100&offset={100 * (i % 10)}" for i in range(LIST_REQUESTS)]
            listed = summary_ms(latencies(port, "GET", list_paths))
            rng = random.Random(SEED)
            retrieve_paths = [f"{BASE}/{rng.choice(ids)}" for _ in range(RETRIEVE_REQUESTS)]
            retrieved = summary_ms(latencies(port, "GET", retrieve_paths))

    for name, figures in (("list", listed), ("retrieve", retrieved)):
        for q in ("p50", "p95"):
            record(
                f"resource.{name}.{q}",
                figures[q],
                "ms",
                f"baseline.starlette.json.{q}",
                baseline[q],
                higher_is_better=False,
            )


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
