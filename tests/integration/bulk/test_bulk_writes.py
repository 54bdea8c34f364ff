"""The set-wise write path (``common.bulk``) leaves exactly what row-by-row writes leave (issue 13 §5).

N TMF639 resources are created twice in the same database, once through ``create_resource`` per document
(one ORM flush each: ``after_flush`` audit, ``events.publish``) and once through ``import_resources``
(batches through ``common.bulk``). With the same clock, actor and request id, the audit records, the
outbox events and the hub deliveries must be the same, record for record, once ids are named by the
resource they belong to. Runs on SQLite, and on PostgreSQL when DATABASE_URL points at one.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from common import clock, request_context
from common.audit import AuditRecord
from common.errors import InvalidInput
from common.events import EventDelivery, EventSubscription, OutboxEvent
from common.uow import UnitOfWork
from oss.resource_inventory import bulk_create_resources, create_resource, import_resources
from oss.resource_inventory.models import ResourceRow
from server.db import make_session_factory

pytestmark = pytest.mark.integration

API = "resourceInventoryManagement"
N = 23
ROW_BY_ROW, BULK = "rowbyrow", "bulkpath"


@pytest.fixture
def factory(clean_db: Engine) -> sessionmaker[Session]:
    return make_session_factory(clean_db)


@pytest.fixture(autouse=True)
def fixed_clock() -> Iterator[clock.FixedClock]:
    fixed = clock.FixedClock(datetime(2026, 12, 3, 12, 0, tzinfo=UTC))
    previous = clock.set_clock(fixed)
    yield fixed
    clock.set_clock(previous)


def _documents(prefix: str) -> list[dict[str, Any]]:
    rng = random.Random(13)  # the same documents for both paths
    documents = []
    for i in range(N):
        document: dict[str, Any] = {
            "@type": rng.choice(["LogicalResource", "PhysicalResource"]),
            "name": f"{prefix}-{i:03d}",
            "category": rng.choice(["router", "cpe", "msisdn"]),
            "resourceStatus": rng.choice(["available", "reserved"]),
        }
        if i % 3 == 0:
            document["resourceCharacteristic"] = [{"name": "vlan", "value": rng.randint(2, 4094)}]
        if i % 4 == 0:
            document["startOperatingDate"] = "2026-12-01T08:00:00.000Z"
            document["description"] = f"imported {i}"
        documents.append(document)
    return documents


def _subscribe(factory: sessionmaker[Session]) -> None:
    with UnitOfWork(factory) as tx:
        for callback, query, api in [
            ("http://127.0.0.1:9/all", None, API),
            ("http://127.0.0.1:9/routers", "event.resource.category=router", API),
            ("http://127.0.0.1:9/deletes", "eventType=ResourceDeleteEvent", API),
            ("http://127.0.0.1:9/other-api", None, "serviceInventory"),
        ]:
            tx.session.add(
                EventSubscription(api=api, callback=callback, query=query, created_at=clock.now(), created_by="t")
            )
        tx.commit()


def _trail(factory: sessionmaker[Session], prefix: str) -> dict[str, list[str]]:
    """Audit records, events and deliveries of the resources named ``prefix-*``, ids named by resource."""
    with factory() as session, session.begin():
        names: dict[str, str] = {r.id: r.name for r in session.execute(select(ResourceRow.id, ResourceRow.name))}
        mine = {rid: name for rid, name in names.items() if name.startswith(prefix)}
        callbacks = {
            r.id: r.callback for r in session.execute(select(EventSubscription.id, EventSubscription.callback))
        }
        audit = [
            {c: getattr(r, c) for c in ("actor", "request_id", "entity_type", "entity_id", "action", "before", "after")}
            | {"recorded_at": r.recorded_at.isoformat()}
            for r in session.scalars(select(AuditRecord).order_by(AuditRecord.id))
            if r.entity_id in mine
        ]
        events = [
            {
                "api": e.api,
                "event_type": e.event_type,
                "payload": {**e.payload, "eventId": "-"},
                "at": str(e.created_at),
            }
            for e in session.scalars(select(OutboxEvent).order_by(OutboxEvent.seq))
            if e.payload["event"]["resource"]["id"] in mine
        ]
        deliveries = [
            {
                "event": e.payload["event"]["resource"]["id"],
                "subscription": callbacks[d.subscription_id],
                "state": d.state,
                "attempts": d.attempts,
                "next_attempt_at": d.next_attempt_at.isoformat(),
                "created_at": d.created_at.isoformat(),
            }
            for d, e in session.execute(
                select(EventDelivery, OutboxEvent)
                .join(OutboxEvent, OutboxEvent.seq == EventDelivery.event_seq)
                .order_by(EventDelivery.event_seq, EventDelivery.id)
            ).all()
            if e.payload["event"]["resource"]["id"] in mine
        ]

    def named(records: list[dict[str, Any]]) -> list[str]:
        text = [json.dumps(record, sort_keys=True, default=str) for record in records]
        for rid, name in mine.items():
            text = [t.replace(rid, f"<id of {name}>") for t in text]
        return [t.replace(prefix, "NAME") for t in text]

    return {"audit": named(audit), "events": named(events), "deliveries": named(deliveries), "count": [str(len(mine))]}


def test_bulk_import_leaves_exactly_the_audit_events_and_deliveries_of_row_by_row_writes(
    factory: sessionmaker[Session],
) -> None:
    _subscribe(factory)
    with request_context.bind(request_id="req-import-1", actor="alice"):
        for document in _documents(ROW_BY_ROW):
            create_resource(UnitOfWork(factory), document)
        written = import_resources(UnitOfWork(factory), _documents(BULK), batch_size=7)  # 4 batches

    assert written == N
    row_by_row, bulk = _trail(factory, ROW_BY_ROW), _trail(factory, BULK)
    assert bulk["count"] == row_by_row["count"] == [str(N)]
    assert len(row_by_row["audit"]) == N and len(row_by_row["events"]) == N
    assert len(row_by_row["deliveries"]) > N  # "all" gets every event, "routers" some
    assert bulk["audit"] == row_by_row["audit"]
    assert bulk["events"] == row_by_row["events"]
    assert bulk["deliveries"] == row_by_row["deliveries"]


def test_bulk_create_in_the_callers_transaction_rolls_back_with_it(factory: sessionmaker[Session]) -> None:
    _subscribe(factory)
    with pytest.raises(RuntimeError), UnitOfWork(factory) as tx:
        bulk_create_resources(tx.session, _documents(BULK))
        raise RuntimeError("the owning context's import failed after writing its TMF639 rows")

    with factory() as session, session.begin():
        for model in (ResourceRow, AuditRecord, OutboxEvent, EventDelivery):
            assert session.scalar(select(func.count()).select_from(model)) == 0, model


def test_import_with_one_bad_document_writes_nothing(factory: sessionmaker[Session]) -> None:
    documents = _documents(BULK)
    documents[15] = {**documents[15], "name": "x" * 256}  # wider than the column: 400

    with pytest.raises(InvalidInput):
        import_resources(UnitOfWork(factory), documents, batch_size=5)

    with factory() as session, session.begin():
        assert session.scalar(select(func.count()).select_from(ResourceRow)) == 0
        assert session.scalar(select(func.count()).select_from(AuditRecord)) == 0


def test_bulk_insert_reads_back_autoincrement_keys_in_row_order(factory: sessionmaker[Session]) -> None:
    from common.bulk import bulk_insert

    rows = [
        {"recorded_at": clock.now(), "actor": "a", "request_id": "r", "entity_type": "t", "entity_id": str(i),
         "action": "create", "before": None, "after": {"i": i}}
        for i in range(5)
    ]  # fmt: skip
    with UnitOfWork(factory) as tx:
        written = bulk_insert(tx, AuditRecord, rows)  # a unit of work or a session
        tx.commit()

    with factory() as session, session.begin():
        stored = {r.id: r.entity_id for r in session.scalars(select(AuditRecord))}
    assert [stored[row["id"]] for row in written] == ["0", "1", "2", "3", "4"]


def test_bulk_insert_writes_the_tmf639_rows_of_owned_rows_in_the_same_transaction(
    factory: sessionmaker[Session],
) -> None:
    # A context's own rows (here: hub subscriptions stand in for, say, number rows) and their TMF639 view
    # through the tmf639= hook: they commit together or not at all.
    from common.bulk import bulk_insert

    def own_rows(prefix: str) -> list[dict[str, Any]]:
        return [
            {"api": API, "callback": f"http://127.0.0.1:9/{prefix}{i}", "created_at": clock.now(), "created_by": "t"}
            for i in range(4)
        ]

    def tmf639(session: Session, rows: list[dict[str, Any]]) -> None:
        bulk_create_resources(session, [{"name": row["callback"], "category": "listener"} for row in rows])

    with pytest.raises(RuntimeError), UnitOfWork(factory) as tx:
        bulk_insert(tx, EventSubscription, own_rows("lost"), tmf639=tmf639)
        raise RuntimeError("failed after both writes")
    with UnitOfWork(factory) as tx:
        bulk_insert(tx, EventSubscription, own_rows("kept"), tmf639=tmf639)
        tx.commit()

    with factory() as session, session.begin():
        callbacks = sorted(session.scalars(select(EventSubscription.callback)))
        names = sorted(session.scalars(select(ResourceRow.name)))
        events = session.scalar(select(func.count()).select_from(OutboxEvent))
    assert callbacks == names == [f"http://127.0.0.1:9/kept{i}" for i in range(4)]
    assert events == 4
