"""The audit trail recorded from SQLAlchemy session events, on a real database, with a model of the test's own."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, String, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from common import clock, events, request_context
from common.audit import Audited, AuditRecord
from common.events import EventSubscription
from common.orm import JSONType, new_id
from common.uow import UnitOfWork
from server.db import make_session_factory

pytestmark = pytest.mark.integration


class WidgetBase(DeclarativeBase):
    pass


class Widget(Audited, WidgetBase):
    __tablename__ = "audit_test_widget"
    __audit_entity_type__ = "widget"
    __audit_exclude__ = frozenset({"secret"})

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(64))
    status: Mapped[str | None] = mapped_column(String(16))
    secret: Mapped[str | None] = mapped_column(String(64))
    document: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)


class Unaudited(WidgetBase):
    __tablename__ = "audit_test_unaudited"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)


@pytest.fixture
def factory(clean_db: Engine) -> Iterator[sessionmaker[Session]]:
    WidgetBase.metadata.create_all(clean_db)
    yield make_session_factory(clean_db)
    WidgetBase.metadata.drop_all(clean_db)


@pytest.fixture(autouse=True)
def fixed_clock() -> Iterator[clock.FixedClock]:
    fixed = clock.FixedClock(datetime(2026, 11, 29, 10, 0, tzinfo=UTC))
    previous = clock.set_clock(fixed)
    yield fixed
    clock.set_clock(previous)


def records(factory: sessionmaker[Session]) -> list[AuditRecord]:
    with factory() as session, session.begin():
        return list(session.execute(select(AuditRecord).order_by(AuditRecord.id)).scalars())


def create_widget(factory: sessionmaker[Session], **values: Any) -> str:
    with UnitOfWork(factory) as tx:
        widget = Widget(name="w1", status="planned", **values)
        tx.session.add(widget)
        tx.session.flush()
        tx.commit()
        return widget.id


def test_create_update_delete_are_recorded_with_actor_request_and_diff(factory: sessionmaker[Session]) -> None:
    with request_context.bind(request_id="req-1", actor="alice"):
        widget_id = create_widget(factory, document={"note": "a"})
    with request_context.bind(request_id="req-2", actor="bob"), UnitOfWork(factory) as tx:
        widget = tx.session.get(Widget, widget_id)
        assert widget is not None
        widget.status = "installed"
        widget.name = "w1"  # set to the same value: not a change
        tx.commit()
    with request_context.bind(request_id="req-3", actor="carol"), UnitOfWork(factory) as tx:
        tx.session.delete(tx.session.get(Widget, widget_id))
        tx.commit()

    created, updated, deleted = records(factory)
    assert (created.actor, created.request_id, created.action) == ("alice", "req-1", "create")
    assert (created.entity_type, created.entity_id) == ("widget", widget_id)
    assert created.before is None
    assert created.after == {"id": widget_id, "name": "w1", "status": "planned", "document": {"note": "a"}}
    assert created.recorded_at == datetime(2026, 11, 29, 10, 0, tzinfo=UTC)

    assert (updated.actor, updated.request_id, updated.action) == ("bob", "req-2", "update")
    assert (updated.before, updated.after) == ({"status": "planned"}, {"status": "installed"})

    assert (deleted.actor, deleted.action) == ("carol", "delete")
    assert deleted.before is not None and deleted.before["status"] == "installed"
    assert deleted.after is None


def test_json_document_update_records_only_the_changed_members(factory: sessionmaker[Session]) -> None:
    widget_id = create_widget(factory, document={"note": "a", "keep": 1, "gone": True})
    with UnitOfWork(factory) as tx:
        widget = tx.session.get(Widget, widget_id)
        assert widget is not None
        widget.document = {"note": "b", "keep": 1, "new": "x"}
        tx.commit()

    update = records(factory)[-1]
    assert update.before == {"document": {"note": "a", "gone": True, "new": None}}
    assert update.after == {"document": {"note": "b", "gone": None, "new": "x"}}


def test_update_that_changes_nothing_records_nothing(factory: sessionmaker[Session]) -> None:
    widget_id = create_widget(factory)
    with UnitOfWork(factory) as tx:
        widget = tx.session.get(Widget, widget_id)
        assert widget is not None
        widget.status = "planned"
        tx.commit()
    assert [record.action for record in records(factory)] == ["create"]


def test_rolled_back_change_leaves_no_audit_record(factory: sessionmaker[Session]) -> None:
    with pytest.raises(RuntimeError), UnitOfWork(factory) as tx:
        tx.session.add(Widget(name="never"))
        tx.session.flush()  # the audit row is written here ...
        raise RuntimeError("... and rolled back with the change")
    assert records(factory) == []


def test_changes_outside_a_request_are_recorded_as_system(factory: sessionmaker[Session]) -> None:
    create_widget(factory)
    [record] = records(factory)
    assert record.actor == "system"


def test_excluded_fields_are_masked(factory: sessionmaker[Session]) -> None:
    widget_id = create_widget(factory, secret="hunter2")
    with UnitOfWork(factory) as tx:
        widget = tx.session.get(Widget, widget_id)
        assert widget is not None
        widget.secret = "correct horse"
        tx.commit()
    created, updated = records(factory)
    assert created.after is not None and created.after["secret"] == "***"
    assert (updated.before, updated.after) == ({"secret": "***"}, {"secret": "***"})


def test_models_that_do_not_opt_in_and_event_tables_are_not_audited(factory: sessionmaker[Session]) -> None:
    with UnitOfWork(factory) as tx:
        tx.session.add(Unaudited())
        tx.session.add(
            EventSubscription(api="x", callback="http://127.0.0.1:9/", created_at=clock.now(), created_by="t")
        )
        events.publish(tx.session, api="x", event_type="ResourceCreateEvent", resource={"id": "r"})
        tx.commit()
    assert records(factory) == []
