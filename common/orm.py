"""ORM base shared by every context: one MetaData with a naming convention.

Constraint names are stable and predictable (``uq_<table>_<cols>``), so that an IntegrityError can be
turned into the right 409 by constraint name, on SQLite and PostgreSQL alike, and alembic can
migrate them.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, MetaData, String, Table, TypeDecorator
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that is always timezone-aware UTC, also on SQLite (which stores naive text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; use common.clock.now()")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# JSON everywhere, JSONB on PostgreSQL (indexable, and comparable in filters).
JSONType = JSON().with_variant(JSONB(), "postgresql")


def new_id() -> str:
    """Identifiers are UUID4 strings: unguessable, and safe to create on any node."""
    return str(uuid.uuid4())


def id_column_type() -> String:
    return String(36)


def as_dict(value: Any) -> dict[str, Any]:
    """A JSON column's value as a dict (never None)."""
    return dict(value) if value else {}


def overlong_column(table: Table, values: Mapping[str, Any]) -> tuple[str, int] | None:
    """The first ``(column, width)`` whose string in ``values`` is wider than the column declares.

    PostgreSQL refuses such a value and SQLite stores it: use cases check first, so that both answer the
    same 400 instead of one of them failing at the database.
    """
    for name, value in values.items():
        column = table.c.get(name)
        width = getattr(column.type, "length", None) if column is not None else None
        if isinstance(value, str) and width is not None and len(value) > width:
            return name, width
    return None
