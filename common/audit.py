"""The audit trail: who changed which entity, when, in which request, and how (before/after).

Opting in is one line, the mixin on the model::

    class Resource(Audited, Base):
        __tablename__ = "resource"
        __audit_entity_type__ = "resource"       # optional; defaults to the table name
        __audit_exclude__ = frozenset({"secret"})  # optional; values replaced by "***"

Every flush of a session then writes one ``audit_record`` per inserted, updated or deleted audited
object, on the session's own connection, so the record commits and rolls back with the change (a
failed request records nothing). It is done in ``after_flush``, when primary keys are known and the
attribute history still says what changed: an update records only the changed fields, a create the
new values, a delete the old ones. The actor and request id come from ``common.request_context``
(``X-User`` / ``X-Request-ID`` in the API, ``system`` in workers).

Only column attributes are recorded; a child row is recorded when its own model opts in. The event
outbox and delivery tables deliberately do not opt in.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import enum
import logging
import uuid
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from sqlalchemy import BigInteger, CheckConstraint, Index, Integer, String, insert
from sqlalchemy import event as sa_event
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Mapped, Mapper, Session, UOWTransaction, mapped_column
from sqlalchemy.orm.base import NO_VALUE
from sqlalchemy.orm.state import InstanceState

from common import clock, request_context
from common.orm import Base, JSONType, UTCDateTime

logger = logging.getLogger(__name__)

CREATE = "create"
UPDATE = "update"
DELETE = "delete"
MASK = "***"


class Audited:
    """Mixin: changes to instances of this model are written to the audit trail."""

    __audit_entity_type__: ClassVar[str | None] = None
    __audit_exclude__: ClassVar[frozenset[str]] = frozenset()


class AuditRecord(Base):
    """One change to one entity."""

    __tablename__ = "audit_record"
    __table_args__ = (
        CheckConstraint("action IN ('create', 'update', 'delete')", name="action"),
        Index("ix_audit_record_entity_type_entity_id_id", "entity_type", "entity_id", "id"),
        Index("ix_audit_record_actor_id", "actor", "id"),
        Index("ix_audit_record_request_id", "request_id"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(request_context.IDENTITY_MAX_LENGTH))
    request_id: Mapped[str] = mapped_column(String(request_context.IDENTITY_MAX_LENGTH))
    entity_type: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(16))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)


def entity_type_of(model: type[Any]) -> str:
    explicit: str | None = getattr(model, "__audit_entity_type__", None)
    return explicit or str(model.__tablename__)


@sa_event.listens_for(Session, "after_flush")
def _record_changes(session: Session, _flush_context: UOWTransaction) -> None:
    """Write audit rows for what this flush changed (the session still shows the pre-flush state)."""
    rows: list[dict[str, Any]] = []
    for instance in session.new:
        if isinstance(instance, Audited):
            rows.append(_row(instance, CREATE, None, _snapshot(instance)))
    for instance in session.dirty:
        if isinstance(instance, Audited) and session.is_modified(instance, include_collections=False):
            before, after = _changes(instance)
            if before or after:
                rows.append(_row(instance, UPDATE, before, after))
    for instance in session.deleted:
        if isinstance(instance, Audited):
            rows.append(_row(instance, DELETE, _snapshot(instance), None))
    if rows:
        session.connection().execute(insert(AuditRecord), rows)


def _row(instance: Audited, action: str, before: dict[str, Any] | None, after: dict[str, Any] | None) -> dict[str, Any]:
    context = request_context.current()
    return {
        "recorded_at": clock.now(),
        "actor": context.actor,
        "request_id": context.request_id,
        "entity_type": entity_type_of(type(instance)),
        "entity_id": _entity_id(instance),
        "action": action,
        "before": before,
        "after": after,
    }


def _state(instance: Any) -> InstanceState[Any]:
    from sqlalchemy import inspect

    return inspect(instance)  # type: ignore[no-any-return]


def _column_keys(instance: Any) -> list[str]:
    mapper: Mapper[Any] = _state(instance).mapper
    return [attribute.key for attribute in mapper.column_attrs]


def _entity_id(instance: Any) -> str:
    state = _state(instance)
    mapper: Mapper[Any] = state.mapper
    # Read the loaded values only: a deleted row must not be lazily re-selected.
    values = [state.dict.get(mapper.get_property_by_column(column).key) for column in mapper.primary_key]
    return "/".join(str(value) for value in values)


def _snapshot(instance: Any) -> dict[str, Any]:
    """The loaded column values (a create's new row, a delete's old row)."""
    loaded = _state(instance).dict
    excluded = type(instance).__audit_exclude__
    return {key: (MASK if key in excluded else to_json(loaded[key])) for key in _column_keys(instance) if key in loaded}


def _changes(instance: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """Only the fields whose value really changed: ``({field: old}, {field: new})``."""
    state = _state(instance)
    excluded = type(instance).__audit_exclude__
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for key in _column_keys(instance):
        history = state.attrs[key].history
        if not history.added:
            continue
        new = history.added[0]
        old = history.deleted[0] if history.deleted else None
        if history.deleted and old == new:
            continue
        if old is NO_VALUE:
            old = None
        if key in excluded:
            before[key], after[key] = MASK, MASK
        else:
            before[key], after[key] = _diff(to_json(old), to_json(new))
    return before, after


def _diff(old: Any, new: Any) -> tuple[Any, Any]:
    """For two JSON objects (a JSON document column) only the members that differ, recursively;
    a member only on one side is ``null`` on the other. Anything else is kept whole."""
    if not (isinstance(old, dict) and isinstance(new, dict)):
        return old, new
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for key in [*old, *(key for key in new if key not in old)]:
        if old.get(key) != new.get(key) or (key in old) != (key in new):
            before[key], after[key] = _diff(old.get(key), new.get(key))
    return before, after


def to_json(value: Any) -> Any:
    """A JSON-able copy of a column value (dates as TMF ISO 8601, decimals and UUIDs as text)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dt.datetime):
        return clock.isoformat(value) if value.tzinfo else value.isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, enum.Enum):
        return to_json(value.value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, dict):
        return {str(key): to_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_json(item) for item in value]
    return str(value)


def record_bulk(session: Session, model: type[Any], rows: Sequence[Mapping[str, Any]]) -> None:
    """Audit records for rows inserted set-wise (``common.bulk``), identical to what ``after_flush``
    writes for the same rows added one by one: action ``create``, ``after`` the column values by
    attribute key (excluded ones masked), ``before`` null. ``rows`` hold every column attribute's value,
    defaults included, as ``common.bulk.complete_rows`` leaves them. Does nothing for a model that does
    not opt in (:class:`Audited`)."""
    if not rows or not issubclass(model, Audited):
        return
    mapper: Mapper[Any] = sa_inspect(model)
    keys = [attribute.key for attribute in mapper.column_attrs]
    primary_keys = [mapper.get_property_by_column(column).key for column in mapper.primary_key]
    excluded = model.__audit_exclude__
    entity_type = entity_type_of(model)
    context = request_context.current()
    records = [
        {
            "recorded_at": clock.now(),
            "actor": context.actor,
            "request_id": context.request_id,
            "entity_type": entity_type,
            "entity_id": "/".join(str(row.get(key)) for key in primary_keys),
            "action": CREATE,
            "before": None,
            "after": {key: (MASK if key in excluded else to_json(row[key])) for key in keys if key in row},
        }
        for row in rows
    ]
    session.connection().execute(insert(AuditRecord), records)
