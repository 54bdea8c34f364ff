"""Queries on the reservation tables. Never commits (the use case does).

``RESERVATION_QUERY`` declares which TMF attributes a list can filter and sort on; ``common.tmf`` turns a
query string into SQL from it. Reads load a page of reservations, then their items and holds in two more
statements (``selectinload``), whatever the page size.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from sqlalchemy import Table, func, select
from sqlalchemy.orm import Session, selectinload

from common import tmf
from common.tmf import DATETIME, column, enum_of, json_array, json_object, json_value
from oss.reservation.domain import RESERVED, STATES
from oss.reservation.models import ReservationItemRow, ReservationRow

SPEC = Path(__file__).resolve().parents[2] / "openapi" / "reservation.yaml"
_DOC = ReservationRow.document
_TABLE: Table = ReservationRow.__table__  # type: ignore[assignment]

RESERVATION_QUERY = tmf.QuerySpec(
    attributes=(
        column("id", ReservationRow.id),
        column("reservationState", ReservationRow.state, enum_of(*STATES)),
        column("description", ReservationRow.description),
        column("validFor.startDateTime", ReservationRow.valid_from, DATETIME),
        column("validFor.endDateTime", ReservationRow.valid_until, DATETIME),
        column("creationDate", ReservationRow.created_at, DATETIME),
        column("stateChangeDate", ReservationRow.state_changed_at, DATETIME),
        column("stateChangeReason", ReservationRow.state_change_reason),
        *json_array(_DOC, "relatedEntity", "id", "role", "name", "@referredType"),
        *json_array(_DOC, "relatedParty", "id", "role", "name", "@referredType"),
        *json_object(_DOC, "channelRef", "id", "name"),
        *json_object(_DOC, "productOfferingRef", "id", "name"),
        json_value(_DOC, "@schemaLocation"),
    ),
    default_order=(ReservationRow.created_at,),
    tiebreaker=ReservationRow.id,
    members=tmf.schema_members(SPEC, "Reservation"),
)

_LISTS = tmf.ListStatements(_TABLE, RESERVATION_QUERY)
_WITH_ITEMS = selectinload(ReservationRow.items).selectinload(ReservationItemRow.holds)


class ReservationRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, row: ReservationRow) -> None:
        self.session.add(row)

    def get(self, reservation_id: str) -> ReservationRow | None:
        return self.session.get(ReservationRow, reservation_id, options=[_WITH_ITEMS])

    def get_for_update(self, reservation_id: str) -> ReservationRow | None:
        """The row, locked until the transaction ends (``FOR UPDATE`` on PostgreSQL; SQLite's ``BEGIN
        IMMEDIATE`` already serialises writers), read afresh: a state another transaction committed while
        we waited for the lock is the state we see."""
        return self.session.get(
            ReservationRow, reservation_id, with_for_update=True, options=[_WITH_ITEMS], populate_existing=True
        )

    def list(self, query: tmf.ListQuery) -> tuple[list[ReservationRow], int]:
        count, page, params = _LISTS.for_query(query)
        connection = self.session.connection()
        total = connection.scalar(count, params) or 0
        if query.limit == 0 or query.offset >= total:
            return [], total
        ids = [row.id for row in connection.execute(page, params)]
        loaded = {
            row.id: row
            for row in self.session.scalars(
                select(ReservationRow).where(ReservationRow.id.in_(ids)).options(_WITH_ITEMS)
            )
        }
        return [loaded[reservation_id] for reservation_id in ids if reservation_id in loaded], total

    def lock_due(self, now: datetime, limit: int) -> Sequence[ReservationRow]:
        """Reserved, expirable holds whose validity ended before ``now``, locked; on PostgreSQL rows another
        transaction holds (a commit in progress, another sweeper) are skipped, not waited for: whoever
        holds the lock decides that reservation."""
        statement = (
            select(ReservationRow)
            .where(
                ReservationRow.state == RESERVED, ReservationRow.expirable.is_(True), ReservationRow.valid_until < now
            )
            .order_by(ReservationRow.valid_until, ReservationRow.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
            .options(_WITH_ITEMS)
        )
        return list(self.session.scalars(statement))

    def count(self) -> int:
        return self.session.scalar(select(func.count()).select_from(ReservationRow)) or 0
