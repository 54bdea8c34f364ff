"""Queries on the number pool tables. Never commits (the use case does).

The chunk queries are the concurrency design (issue 16, "Throughput design"):

- ``claim_next_unlocked`` takes the next free chunk nobody holds (``FOR UPDATE SKIP LOCKED``): "any number"
  requests from one pool proceed side by side, each on its own chunk;
- ``lock_chunk`` / ``lock_containing`` wait for the row they need (a blocking ``FOR UPDATE``): lowest
  first, a specific number, a contiguous run. Scans lock in ascending ``first_digits`` order, one global
  order, so two scans never deadlock on each other (the service retries a deadlock anyway);
- after waiting on a row another transaction split or emptied, a fresh statement sees the parts it
  committed (``READ COMMITTED`` takes a snapshot per statement), which is why a scan that saw a chunk change
  runs again before it answers ``POOL_EXHAUSTED``.

SQLite has no row locks: its writers are serialised by ``BEGIN IMMEDIATE``, and the same statements
(without ``FOR UPDATE``, which its dialect does not render) are exact there.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Row, Select, Table, delete, func, insert, or_, select, update
from sqlalchemy.orm import Session

from common import tmf
from common.tmf import DATETIME, INTEGER, column, enum_of
from oss.number_pool.domain import CATEGORIES, STATES, Interval
from oss.number_pool.models import (
    NumberBlockRow,
    NumberChunkRow,
    NumberHistoryRow,
    NumberPoolRow,
    TelephoneNumberRow,
)

SPEC = Path(__file__).resolve().parents[2] / "openapi" / "number_inventory.yaml"
CHUNK: Table = NumberChunkRow.__table__  # type: ignore[assignment]
NUMBER: Table = TelephoneNumberRow.__table__  # type: ignore[assignment]
HISTORY: Table = NumberHistoryRow.__table__  # type: ignore[assignment]
BLOCK: Table = NumberBlockRow.__table__  # type: ignore[assignment]
POOL: Table = NumberPoolRow.__table__  # type: ignore[assignment]

POOL_QUERY = tmf.QuerySpec(
    attributes=(
        column("id", POOL.c.id),
        column("name", POOL.c.name),
        column("region", POOL.c.region),
        column("numberType", POOL.c.number_type),
        column("agingDays", POOL.c.aging_days, INTEGER),
        column("createdAt", POOL.c.created_at, DATETIME),
    ),
    default_order=(POOL.c.created_at,),
    tiebreaker=POOL.c.id,
    members=tmf.schema_members(SPEC, "NumberPool"),
)
BLOCK_QUERY = tmf.QuerySpec(
    attributes=(
        column("id", BLOCK.c.id),
        column("poolId", BLOCK.c.pool_id),
        column("region", BLOCK.c.region),
        column("numberType", BLOCK.c.number_type),
        column("countryCode", BLOCK.c.country_code, INTEGER),
        column("size", BLOCK.c.size, INTEGER),
        column("createdAt", BLOCK.c.created_at, DATETIME),
    ),
    default_order=(BLOCK.c.first_digits,),
    tiebreaker=BLOCK.c.id,
    members=tmf.schema_members(SPEC, "NumberBlock"),
)
NUMBER_QUERY = tmf.QuerySpec(
    attributes=(
        column("id", NUMBER.c.value),
        column("value", NUMBER.c.value),
        column("poolId", NUMBER.c.pool_id),
        column("blockId", NUMBER.c.block_id),
        column("state", NUMBER.c.state, enum_of(*STATES)),
        column("category", NUMBER.c.category, enum_of(*CATEGORIES)),
        column("customerId", NUMBER.c.customer_id),
        column("serviceId", NUMBER.c.service_id),
        column("productId", NUMBER.c.product_id),
        column("reservationId", NUMBER.c.reservation_id),
        column("orderItemId", NUMBER.c.order_item_id),
        column("holdUntil", NUMBER.c.hold_until, DATETIME),
        column("agingUntil", NUMBER.c.aging_until, DATETIME),
        column("releasedAt", NUMBER.c.released_at, DATETIME),
        column("updatedAt", NUMBER.c.updated_at, DATETIME),
    ),
    default_order=(NUMBER.c.digits,),
    tiebreaker=NUMBER.c.id,
    members=tmf.schema_members(SPEC, "TelephoneNumber"),
)
HISTORY_QUERY = tmf.QuerySpec(
    attributes=(
        column("fromState", HISTORY.c.from_state, enum_of(*STATES)),
        column("toState", HISTORY.c.to_state, enum_of(*STATES)),
        column("actor", HISTORY.c.actor),
        column("reservationId", HISTORY.c.reservation_id),
        column("orderItemId", HISTORY.c.order_item_id),
        column("at", HISTORY.c.at, DATETIME),
    ),
    default_order=(HISTORY.c.id,),
    tiebreaker=HISTORY.c.id,
    members=tmf.schema_members(SPEC, "NumberHistory"),
)

_POOL_LISTS = tmf.ListStatements(POOL, POOL_QUERY)
_BLOCK_LISTS = tmf.ListStatements(BLOCK, BLOCK_QUERY)


def list_page(session: Session, lists: tmf.ListStatements, query: tmf.ListQuery) -> tuple[list[Row[Any]], int]:
    count, page, params = lists.for_query(query)
    connection = session.connection()
    total = connection.scalar(count, params) or 0
    if query.limit == 0 or query.offset >= total:
        return [], total
    return list(connection.execute(page, params)), total


def list_pools(session: Session, query: tmf.ListQuery) -> tuple[list[Row[Any]], int]:
    return list_page(session, _POOL_LISTS, query)


def list_blocks(session: Session, query: tmf.ListQuery) -> tuple[list[Row[Any]], int]:
    return list_page(session, _BLOCK_LISTS, query)


def list_numbers(
    session: Session, query: tmf.ListQuery, like: Sequence[tuple[bool, str]]
) -> tuple[list[Row[Any]], int]:
    """Touched numbers matching ``query`` and every ``(international, LIKE pattern)`` of ``like`` (on the
    E.164 value or on the national digits)."""
    condition = tmf.where_clause(query)
    for international, pattern in like:
        condition = condition & (NUMBER.c.value if international else NUMBER.c.national).like(pattern)
    connection = session.connection()
    total = connection.scalar(select(func.count()).select_from(NUMBER).where(condition)) or 0
    if query.limit == 0 or query.offset >= total:
        return [], total
    ordering = tmf.order_by(query, NUMBER_QUERY) if query.sort else [NUMBER.c.digits]
    page = select(NUMBER).where(condition).order_by(*ordering).offset(query.offset).limit(query.limit)
    return list(connection.execute(page)), total


def count_taken_matching(session: Session, pool_id: str, like: Sequence[tuple[bool, str]]) -> int:
    """How many numbers of the pool are out of the free space (a row in any state but ``available``) and match
    every ``(international, LIKE pattern)`` of ``like``. On PostgreSQL the trigram index
    ``ix_telephone_number_taken_trgm`` answers it (its partial predicate is this statement's ``state``
    condition, word for word)."""
    return int(session.connection().scalar(count_taken_statement(pool_id, like)) or 0)


def count_taken_statement(pool_id: str, like: Sequence[tuple[bool, str]]) -> Select[int]:
    condition = (NUMBER.c.pool_id == pool_id) & (NUMBER.c.state != "available")
    for international, pattern in like:
        condition = condition & (NUMBER.c.value if international else NUMBER.c.national).like(pattern)
    return select(func.count()).select_from(NUMBER).where(condition)


def list_history(session: Session, number_id: str, query: tmf.ListQuery) -> tuple[list[Row[Any]], int]:
    condition = tmf.where_clause(query) & (HISTORY.c.number_id == number_id)
    connection = session.connection()
    total = connection.scalar(select(func.count()).select_from(HISTORY).where(condition)) or 0
    ordering = tmf.order_by(query, HISTORY_QUERY) if query.sort else [HISTORY.c.id]
    page = select(HISTORY).where(condition).order_by(*ordering).offset(query.offset).limit(query.limit)
    return list(connection.execute(page)), total


def overlapping_blocks(session: Session, first: int, last: int) -> list[Row[Any]]:
    statement = (
        select(BLOCK.c.id, BLOCK.c.pool_id, BLOCK.c.first_digits, BLOCK.c.last_digits)
        .where(BLOCK.c.first_digits <= last, BLOCK.c.last_digits >= first)
        .order_by(BLOCK.c.first_digits)
        .limit(5)
    )
    return list(session.connection().execute(statement))


def block_containing(session: Session, digits: int) -> NumberBlockRow | None:
    statement = select(NumberBlockRow).where(
        NumberBlockRow.first_digits <= digits, NumberBlockRow.last_digits >= digits
    )
    return session.execute(statement).scalars().first()


def blocks_of(session: Session, pool_id: str) -> list[NumberBlockRow]:
    statement = select(NumberBlockRow).where(NumberBlockRow.pool_id == pool_id).order_by(NumberBlockRow.first_digits)
    return list(session.execute(statement).scalars())


def number_by_digits(session: Session, digits: int, *, lock: bool = False) -> TelephoneNumberRow | None:
    statement = select(TelephoneNumberRow).where(TelephoneNumberRow.digits == digits)
    if lock:
        statement = statement.with_for_update()
    return session.execute(statement).scalars().first()


def numbers_by_digits(session: Session, digits: Sequence[int], *, lock: bool = False) -> list[TelephoneNumberRow]:
    """The rows of ``digits``, in ascending order (the lock order)."""
    found: list[TelephoneNumberRow] = []
    for start in range(0, len(digits), 500):
        statement = (
            select(TelephoneNumberRow)
            .where(TelephoneNumberRow.digits.in_(list(digits[start : start + 500])))
            .order_by(TelephoneNumberRow.digits)
        )
        if lock:
            statement = statement.with_for_update()
        found.extend(session.execute(statement).scalars())
    return sorted(found, key=lambda row: row.digits)


def numbers_by_ids(session: Session, ids: Sequence[str]) -> list[TelephoneNumberRow]:
    statement = (
        select(TelephoneNumberRow)
        .where(TelephoneNumberRow.id.in_(list(ids)))
        .order_by(TelephoneNumberRow.digits)
        .with_for_update()
    )
    return list(session.execute(statement).scalars())


def touched_available(session: Session, interval: Interval) -> set[int]:
    statement = select(NUMBER.c.digits).where(
        NUMBER.c.digits.between(interval.first, interval.last), NUMBER.c.state == "available"
    )
    return set(session.connection().scalars(statement))


def least_recently_released(session: Session, pool_id: str, limit: int) -> list[int]:
    statement = (
        select(NUMBER.c.digits)
        .where(NUMBER.c.pool_id == pool_id, NUMBER.c.state == "available")
        .order_by(NUMBER.c.released_at.nulls_first(), NUMBER.c.digits)
        .limit(limit)
    )
    return list(session.connection().scalars(statement))


def due_aging(session: Session, now: Any, limit: int) -> list[TelephoneNumberRow]:
    """Aged numbers due back, locked; ones another sweeper holds are skipped (it returns them)."""
    statement = (
        select(TelephoneNumberRow)
        .where(TelephoneNumberRow.state == "aging", TelephoneNumberRow.aging_until <= now)
        .order_by(TelephoneNumberRow.digits)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(session.execute(statement).scalars())


def due_holds(session: Session, now: Any, limit: int) -> list[TelephoneNumberRow]:
    statement = (
        select(TelephoneNumberRow)
        .where(
            TelephoneNumberRow.state == "reserved",
            TelephoneNumberRow.hold_until <= now,
            TelephoneNumberRow.reservation_id.is_(None),  # a reservation's holds are its context's to expire
        )
        .order_by(TelephoneNumberRow.digits)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(session.execute(statement).scalars())


def state_counts(session: Session, pool_id: str) -> dict[str, int]:
    statement = select(NUMBER.c.state, func.count()).where(NUMBER.c.pool_id == pool_id).group_by(NUMBER.c.state)
    return {state: count for state, count in session.connection().execute(statement)}


def free_count(session: Session, pool_id: str | None = None, block_id: str | None = None) -> int:
    statement = select(func.coalesce(func.sum(CHUNK.c.last_digits - CHUNK.c.first_digits + 1), 0))
    if pool_id is not None:
        statement = statement.where(CHUNK.c.pool_id == pool_id)
    if block_id is not None:
        statement = statement.where(CHUNK.c.block_id == block_id)
    return int(session.connection().scalar(statement) or 0)


# ------------------------------------------------------------------------------------------ chunks

ChunkRow = Row[Any, Any, Any, Any, Any]  # (id, pool_id, block_id, first_digits, last_digits)
_CHUNK_COLUMNS = (CHUNK.c.id, CHUNK.c.pool_id, CHUNK.c.block_id, CHUNK.c.first_digits, CHUNK.c.last_digits)


class Chunks:
    """The free chunks of the pools, as plain rows ``(id, pool_id, block_id, first_digits, last_digits)``."""

    def __init__(self, session: Session) -> None:
        self.connection = session.connection()

    def insert(self, pool_id: str, block_id: str, intervals: Sequence[Interval]) -> None:
        if intervals:
            self.connection.execute(
                insert(CHUNK),
                [
                    {"pool_id": pool_id, "block_id": block_id, "first_digits": i.first, "last_digits": i.last}
                    for i in intervals
                ],
            )

    def claim_next_unlocked(self, pool_id: str, after_id: int) -> ChunkRow | None:
        statement = (
            select(*_CHUNK_COLUMNS)
            .where(CHUNK.c.pool_id == pool_id, CHUNK.c.id > after_id)
            .order_by(CHUNK.c.id)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        return self.connection.execute(statement).first()

    def claim_unlocked(self, chunk_id: int) -> ChunkRow | None:
        statement = select(*_CHUNK_COLUMNS).where(CHUNK.c.id == chunk_id).with_for_update(skip_locked=True)
        return self.connection.execute(statement).first()

    def ids(self, pool_id: str, *, from_digits: int | None = None) -> list[int]:
        statement = select(CHUNK.c.id).where(CHUNK.c.pool_id == pool_id).order_by(CHUNK.c.first_digits)
        if from_digits is not None:
            statement = statement.where(CHUNK.c.last_digits >= from_digits)
        return list(self.connection.scalars(statement))

    def lock_chunk(self, chunk_id: int) -> ChunkRow | None:
        statement = select(*_CHUNK_COLUMNS).where(CHUNK.c.id == chunk_id).with_for_update()
        return self.connection.execute(statement).first()

    def lock_containing(self, digits: int) -> ChunkRow | None:
        statement = (
            select(*_CHUNK_COLUMNS)
            .where(CHUNK.c.first_digits <= digits, CHUNK.c.last_digits >= digits)
            .with_for_update()
        )
        found = self.connection.execute(statement).first()
        if found is None:  # a chunk split while we waited: its new part is visible to a fresh statement
            found = self.connection.execute(statement).first()
        return found

    def lock_adjacent(self, block_id: str, freed: Interval) -> tuple[ChunkRow | None, ChunkRow | None]:
        """The free neighbours of ``freed`` in its block, locked in ascending order (the global order)."""
        statement = (
            select(*_CHUNK_COLUMNS)
            .where(
                CHUNK.c.block_id == block_id,
                or_(CHUNK.c.last_digits == freed.first - 1, CHUNK.c.first_digits == freed.last + 1),
            )
            .order_by(CHUNK.c.first_digits)
            .with_for_update()
        )
        rows = list(self.connection.execute(statement))
        left = next((row for row in rows if row.last_digits == freed.first - 1), None)
        right = next((row for row in rows if row.first_digits == freed.last + 1), None)
        return left, right

    def set_bounds(self, chunk_id: int, interval: Interval) -> None:
        self.connection.execute(
            update(CHUNK).where(CHUNK.c.id == chunk_id).values(first_digits=interval.first, last_digits=interval.last)
        )

    def delete(self, chunk_id: int) -> None:
        self.connection.execute(delete(CHUNK).where(CHUNK.c.id == chunk_id))

    def of_pool(self, pool_id: str, *, after: int | None = None) -> list[ChunkRow]:
        """The pool's chunks in ascending order (for searches: read, not locked)."""
        statement = select(*_CHUNK_COLUMNS).where(CHUNK.c.pool_id == pool_id).order_by(CHUNK.c.first_digits)
        if after is not None:
            statement = statement.where(CHUNK.c.last_digits >= after)
        return list(self.connection.execute(statement))

    def ascending(self, pool_id: str, *, page: int = 200) -> Iterator[ChunkRow]:
        """The pool's chunks in ascending order, read ``page`` rows at a time (a search that needs only its
        first matches stops early instead of loading the thousands of chunks a touched block has)."""
        after: int | None = None
        while True:
            statement = select(*_CHUNK_COLUMNS).where(CHUNK.c.pool_id == pool_id)
            if after is not None:
                statement = statement.where(CHUNK.c.first_digits > after)
            rows = list(self.connection.execute(statement.order_by(CHUNK.c.first_digits).limit(page)))
            yield from rows
            if len(rows) < page:
                return
            after = rows[-1].first_digits

    def all(self) -> list[ChunkRow]:
        """Every pool's chunks in ascending order (blocks never overlap, so numbers are in order too)."""
        return list(self.connection.execute(select(*_CHUNK_COLUMNS).order_by(CHUNK.c.first_digits)))

    def of_block(self, block_id: str) -> list[ChunkRow]:
        statement = select(*_CHUNK_COLUMNS).where(CHUNK.c.block_id == block_id).order_by(CHUNK.c.first_digits)
        return list(self.connection.execute(statement))


def interval_of(row: ChunkRow) -> Interval:
    return Interval(row.first_digits, row.last_digits)
