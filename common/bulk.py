"""Set-wise writes that keep every guarantee of a row-by-row write (the one path every import uses).

An import of thousands of rows cannot afford one ORM flush per row, and a bare Core ``INSERT`` of many
rows would bypass what a flush gives for free: the audit record (``common.audit``'s ``after_flush``), the
outbox event with its hub deliveries (``common.events.publish``) and, for a type a context owns, its
TMF639 resource row. :func:`bulk_insert` writes all of them for a batch of rows, set-wise, inside the
caller's transaction::

    bulk_insert(tx.session, NumberRow, rows,
                api="resourceInventoryManagement", event_type="ResourceCreateEvent",
                to_event=lambda row: resource_json(row),
                tmf639=lambda session, rows: resource_inventory.bulk_create_resources(session, docs(rows), ...))

and :func:`bulk_import` cuts a large import into batches, one transaction per batch (a failed batch
rolls back alone; the ones before it stay committed, so validate everything a client sent before the
first batch, as ``oss.resource_inventory.import_resources`` does).

What it writes is exactly what the row-by-row path writes for the same rows -- same audit records, same
events in the same order, same deliveries -- which ``tests/integration/bulk`` proves on SQLite and
PostgreSQL. Per batch that is one multi-row INSERT per table (SQLAlchemy's insertmanyvalues), one read of
the subscriptions, and no ORM instances.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from itertools import islice
from typing import Any, Protocol

from sqlalchemy import Table, insert
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Mapper, Session

from common import audit
from common.events.outbox_bulk import publish_many
from common.uow import UnitOfWork

logger = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 1_000

Row = dict[str, Any]


class _HasSession(Protocol):
    @property
    def session(self) -> Session: ...


def _session_of(target: Session | _HasSession) -> Session:
    return target if isinstance(target, Session) else target.session


def complete_rows(model: type[Any], rows: Iterable[Mapping[str, Any]]) -> list[Row]:
    """The rows (by attribute key) with the values an ORM flush would fill in: Python-side column
    defaults (``default=new_id``, ``default=dict``) and 1 for the version counter. A column left out
    with no default stays out (the INSERT sends NULL, and the audit, as ``after_flush``'s, omits it);
    one with a server default is left to the database, as the ORM does."""
    mapper: Mapper[Any] = sa_inspect(model)
    fillers: list[tuple[str, Callable[[Row], Any] | None]] = []
    for attribute in mapper.column_attrs:
        column = attribute.columns[0]
        fillers.append((attribute.key, _filler(mapper, column)))
    completed: list[Row] = []
    for row in rows:
        values = dict(row)
        for key, filler in fillers:
            if key not in values and filler is not None:
                values[key] = filler(values)
        completed.append(values)
    return completed


class _RowContext:
    """What a context-sensitive column default reads (``context.get_current_parameters()``), for one row."""

    def __init__(self, values: Row) -> None:
        self._values = values

    def get_current_parameters(self) -> Row:
        return self._values


def _filler(mapper: Mapper[Any], column: Any) -> Callable[[Row], Any] | None:
    default = column.default
    if default is not None and getattr(default, "is_scalar", False):
        return lambda _values: default.arg
    if default is not None and getattr(default, "is_callable", False):
        # SQLAlchemy wraps a zero-argument default as fn(context); one that reads the row's other values
        # (``EventSubscription.callback_shown``) gets them from the row being completed.
        return lambda values: default.arg(_RowContext(values))
    if mapper.version_id_col is not None and column is mapper.version_id_col:
        return lambda _values: 1  # the ORM's first version (no version_id_generator configured here)
    return None  # NULL, the server default, or an autoincrement key read back with RETURNING


def bulk_insert(
    target: Session | _HasSession,
    model: type[Any],
    rows: Iterable[Mapping[str, Any]],
    *,
    api: str | None = None,
    event_type: str | None = None,
    to_event: Callable[[Row], dict[str, Any]] | None = None,
    payload_key: str = "resource",
    tmf639: Callable[[Session, list[Row]], object] | None = None,
) -> list[Row]:
    """Insert ``rows`` of ``model`` in the caller's transaction with everything a flush per row gives.

    In order: the rows (one multi-row INSERT), their audit records (``audit.record_bulk``, when the model
    is :class:`~common.audit.Audited`), ``tmf639(session, rows)`` for a context that owns a TMF639 type
    (typically ``oss.resource_inventory.bulk_create_resources``), then one ``event_type`` event per row
    with ``to_event(row)`` as its ``payload_key`` entity, fanned out to the hub as ``publish()`` does.
    Returns the completed rows (defaults and generated keys filled in). Never commits.
    """
    session = _session_of(target)
    completed = complete_rows(model, rows)
    if not completed:
        return completed
    _insert_rows(session, model, completed)
    audit.record_bulk(session, model, completed)
    if tmf639 is not None:
        tmf639(session, completed)
    if event_type is not None:
        if api is None or to_event is None:
            raise ValueError("an event_type needs api= and to_event=")
        publish_many(
            session,
            api=api,
            event_type=event_type,
            resources=[to_event(row) for row in completed],
            payload_key=payload_key,
        )
    return completed


def _insert_rows(session: Session, model: type[Any], rows: list[Row]) -> None:
    mapper: Mapper[Any] = sa_inspect(model)
    table: Table = mapper.local_table  # type: ignore[assignment]
    column_of = {attribute.key: attribute.columns[0] for attribute in mapper.column_attrs}
    generated = [
        (key, column) for key, column in column_of.items() if column.primary_key and any(key not in r for r in rows)
    ]
    # One statement for the batch needs the same keys in every row: what a row leaves out is NULL (a
    # column with a server default is sent only when some row gives it).
    sent = [
        (key, column)
        for key, column in column_of.items()
        if (key, column) not in generated and (column.server_default is None or any(key in r for r in rows))
    ]
    params = [{column.key: row.get(key) for key, column in sent} for row in rows]
    connection = session.connection()  # Core, not the ORM's bulk path: the rows are plain values
    if not generated:
        connection.execute(insert(table), params)
        return
    returning = [column for _, column in generated]
    statement = insert(table).returning(*returning, sort_by_parameter_order=True)
    for row, keys in zip(rows, connection.execute(statement, params).all(), strict=True):
        for (key, _), value in zip(generated, keys, strict=True):
            row[key] = value


def batches(rows: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """``rows`` in lists of ``size`` (the last one shorter)."""
    if size < 1:
        raise ValueError("batch size must be at least 1")
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


def bulk_import(
    uow: UnitOfWork,
    write_batch: Callable[[Session, list[Any]], object],
    items: Iterable[Any],
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> int:
    """Run ``write_batch(session, batch)`` (which calls :func:`bulk_insert`) for each batch of ``items``,
    one unit of work and one commit per batch. Returns how many items were written."""
    written = 0
    for batch in batches(items, batch_size):
        with uow as tx:
            write_batch(tx.session, batch)
            tx.commit()
        written += len(batch)
    logger.info("bulk import: %d row(s) in batches of %d", written, batch_size)
    return written


__all__ = ["DEFAULT_BATCH_SIZE", "batches", "bulk_import", "bulk_insert", "complete_rows"]
