"""Bulk import benchmark (issue 13 §5): TMF639 resources through the set-wise write path ``common.bulk``.

How it runs (``make bench BENCH=resource``, or ``python -m bench resource_bulk``):

1. A fresh migrated database of the run's backend (``bench.resource.fresh_database``) with one hub
   subscription of the TMF639 API that matches every event, so each row also gets a delivery.
2. ``resource.bulkimport``: ``oss.resource_inventory.import_resources`` of ``BULK_ROWS`` (20,000) seeded
   TMF639 documents in batches of ``BULK_BATCH`` (1,000), one transaction per batch: per row the resource
   row, its audit record, its ResourceCreateEvent and its delivery -- what ``create_resource`` writes --
   rows/s of wall time. Baseline ``baseline.core_insert``: the same resource rows (no audit, no events)
   by one Core ``executemany`` per batch, same batches, same database, measured right before: the ratio
   is what keeping the guarantees costs against a bare insert.
3. ``resource.bulkimport.cpu``: the same import in rows per second of this process's CPU time
   (``time.process_time``; on PostgreSQL the server's CPU is not in it), steadier than wall time on a
   machine shared with other work.
4. ``resource.bulkimport.rowbyrow``: ``create_resource`` per document (one unit of work, one ORM flush
   and one commit each) for ``ROW_BY_ROW_ROWS`` (1,000) documents, rows/s, with the bulk figure as its
   baseline: the ratio says how much faster the bulk path is.

No HTTP: this is the path an import job takes inside the server. Bounded in count; 127.0.0.1 only.
"""

from __future__ import annotations

import logging
import os
import random
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import Table, delete, insert
from sqlalchemy.orm import Session, sessionmaker

from bench.common import Record

logger = logging.getLogger(__name__)

BULK_ROWS = int(os.environ.get("BENCH_BULK_ROWS", "20000"))
BULK_BATCH = 1_000
ROW_BY_ROW_ROWS = 1_000
SEED = 135
API = "resourceInventoryManagement"


def documents(count: int, prefix: str) -> list[dict[str, Any]]:
    """Seeded TMF639 documents shaped like an import of numbers and addresses."""
    rng = random.Random(SEED)
    result = []
    for i in range(count):
        category = rng.choice(("msisdn", "ipAddress", "port"))
        result.append(
            {
                "@type": "LogicalResource",
                "name": f"{prefix}-{i:07d}",
                "category": category,
                "resourceStatus": "available",
                "value": f"+44 20 7946 {i % 10_000:04d}" if category == "msisdn" else f"198.51.100.{i % 256}",
                "resourceCharacteristic": [{"name": "pool", "value": f"pool-{rng.randint(1, 20)}"}],
            }
        )
    return result


def _timed(action: Callable[[], object]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process) of ``action()``."""
    wall, cpu = time.perf_counter(), time.process_time()
    action()
    return time.perf_counter() - wall, time.process_time() - cpu


def _core_insert(factory: sessionmaker[Session], rows: list[dict[str, Any]]) -> None:
    from oss.resource_inventory.models import ResourceRow

    table: Table = ResourceRow.__table__  # type: ignore[assignment]
    for start in range(0, len(rows), BULK_BATCH):
        with factory() as session, session.begin():
            session.connection().execute(insert(table), rows[start : start + BULK_BATCH])


def _subscribe(factory: sessionmaker[Session]) -> None:
    from common import clock
    from common.events import EventSubscription

    with factory() as session, session.begin():
        session.add(
            EventSubscription(
                api=API, callback="http://127.0.0.1:9/bench", query=None, created_at=clock.now(), created_by="bench"
            )
        )


def measure(url: str) -> dict[str, float]:
    """The figures of one run on the database at ``url`` (migrated and empty)."""
    from common.uow import UnitOfWork
    from oss.resource_inventory import create_resource, import_resources
    from oss.resource_inventory.models import ResourceRow
    from oss.resource_inventory.service import prepare_resource_rows
    from server.db import make_engine, make_session_factory

    engine = make_engine(url)
    try:
        factory = make_session_factory(engine)
        _subscribe(factory)
        bare_rows = prepare_resource_rows(documents(BULK_ROWS, "core"))
        bare_rows = [{"row_version": 1, **row} for row in bare_rows]
        core_wall, _ = _timed(lambda: _core_insert(factory, bare_rows))
        with factory() as session, session.begin():
            session.execute(delete(ResourceRow))  # same table size for the import that follows
        bulk_documents = documents(BULK_ROWS, "bulk")
        bulk_wall, bulk_cpu = _timed(
            lambda: import_resources(UnitOfWork(factory), bulk_documents, batch_size=BULK_BATCH)
        )
        single = documents(ROW_BY_ROW_ROWS, "single")
        row_wall, _ = _timed(lambda: [create_resource(UnitOfWork(factory), document) for document in single])
    finally:
        engine.dispose()
    return {
        "core": BULK_ROWS / core_wall,
        "bulk": BULK_ROWS / bulk_wall,
        "bulk_cpu": BULK_ROWS / bulk_cpu if bulk_cpu else 0.0,
        "row_by_row": ROW_BY_ROW_ROWS / row_wall,
    }


def run(record: Record) -> None:
    from bench.resource import fresh_database

    with fresh_database() as url:
        figures = measure(url)
    logger.info(
        "bulk import: %.0f rows/s (%.0f per CPU-s), core insert %.0f rows/s, row by row %.0f rows/s",
        figures["bulk"], figures["bulk_cpu"], figures["core"], figures["row_by_row"],
    )  # fmt: skip
    record("baseline.core_insert", figures["core"], "rows/s")
    record("resource.bulkimport", figures["bulk"], "rows/s", "baseline.core_insert", figures["core"])
    record("resource.bulkimport.cpu", figures["bulk_cpu"], "rows/s")
    record("resource.bulkimport.rowbyrow", figures["row_by_row"], "rows/s", "resource.bulkimport", figures["bulk"])
