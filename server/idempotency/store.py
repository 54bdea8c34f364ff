"""Reads and writes of ``idempotency_key`` (Core statements: one row, by primary key, no ORM session)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from server.idempotency.models import IdempotencyRecord

_TABLE = cast(Table, IdempotencyRecord.__table__)
_COLUMNS = _TABLE.c


@dataclass(frozen=True)
class Slot:
    """Whose key: the same key from two users is two keys (the draft scopes a key to its client)."""

    actor: str
    key: str


@dataclass(frozen=True)
class Answer:
    """An HTTP answer as sent: status, headers (latin-1 text pairs, as ASGI carries them) and body."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def with_header(self, name: str, value: str) -> Answer:
        return Answer(self.status, (*self.headers, (name, value)), self.body)

    @classmethod
    def created(cls, document: Any, location: str) -> Answer:
        """A 201 with a JSON body and its Location, encoded as the handlers' answers are."""
        from server.responses import JSONIFIER

        body = JSONIFIER.dumps(document).encode("utf-8")
        headers = (("content-type", "application/json"), ("location", location), ("content-length", str(len(body))))
        return cls(201, headers, body)


@dataclass(frozen=True)
class Record:
    fingerprint: str
    expires_at: datetime
    effect_type: str | None
    effect_id: str | None
    effect_path: str | None
    answer: Answer | None


def _where(slot: Slot) -> Any:
    return (_COLUMNS.actor == slot.actor) & (_COLUMNS.key == slot.key)


def find(connection: Connection, slot: Slot) -> Record | None:
    row = connection.execute(select(_TABLE).where(_where(slot))).mappings().first()
    if row is None:
        return None
    answer = None
    if row["status"] is not None:
        headers = tuple((str(name), str(value)) for name, value in row["headers"] or ())
        answer = Answer(int(row["status"]), headers, bytes(row["body"] or b""))
    return Record(
        fingerprint=row["fingerprint"],
        expires_at=row["expires_at"],
        effect_type=row["effect_type"],
        effect_id=row["effect_id"],
        effect_path=row["effect_path"],
        answer=answer,
    )


def insert_key(connection: Connection, values: dict[str, Any]) -> bool:
    """Insert the key row unless one exists; False when it does. On PostgreSQL a concurrent transaction's
    uncommitted row with the same key makes this wait for that transaction: then False if it committed,
    True (this one inserted) if it rolled back. So two requests with one key never both commit."""
    dialect = connection.dialect.name
    insert: Callable[..., Any] = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(_TABLE)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["actor", "key"])
        .returning(_COLUMNS.key)  # rowcount is not to be trusted here: psycopg reported 1 for a conflict
    )
    return connection.execute(statement).first() is not None


def save_answer(connection: Connection, slot: Slot, answer: Answer) -> None:
    """Keep the rendered answer, unless one is kept already (a retry's re-render never overwrites it)."""
    connection.execute(
        update(_TABLE)
        .where(_where(slot), _COLUMNS.status.is_(None))
        .values(status=answer.status, headers=[list(pair) for pair in answer.headers], body=answer.body)
    )


def forget_expired(connection: Connection, slot: Slot, now: datetime) -> None:
    connection.execute(delete(_TABLE).where(_where(slot), _COLUMNS.expires_at <= now))


def purge_expired(connection: Connection, now: datetime, batch_size: int = 5_000) -> int:
    """Delete expired keys, about ``batch_size`` of the oldest per call (rows expiring at the same instant go
    together); returns how many. Call again while it returns at least ``batch_size``."""
    cutoff = connection.execute(
        select(_COLUMNS.expires_at)
        .where(_COLUMNS.expires_at <= now)
        .order_by(_COLUMNS.expires_at)
        .offset(batch_size - 1)
        .limit(1)
    ).scalar()
    result = connection.execute(delete(_TABLE).where(_COLUMNS.expires_at <= (cutoff or now)))
    return int(result.rowcount)
