"""Two small reservation providers for tests, each a stand-in for an inventory (numbers, addresses).

They keep their resources in a table of their own (``fake_pool_resource``, on the test database but
outside the models' metadata), written in the reservation use case's transaction as a real inventory's
would be: a rollback takes their holds back too, which is what the all-or-nothing tests rely on. Holding
takes rows with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL. ``pause_on`` lets a race test stop a provider
inside ``commit``/``release`` (with the reservation's row lock held) until the test lets it go.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Column, DateTime, Engine, Integer, MetaData, String, Table, and_, func, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from oss.reservation import (
    Availability,
    HeldResource,
    HoldOwner,
    ItemRequest,
    PoolView,
    ResourcePoolNotFound,
    Unavailable,
    register_provider,
)


class _Deadlock(Exception):
    sqlstate = "40P01"  # what psycopg's DeadlockDetected carries


METADATA = MetaData()
RESOURCES = Table(
    "fake_pool_resource",
    METADATA,
    Column("pool_id", String(64), primary_key=True),
    Column("value", String(64), primary_key=True),
    Column("position", Integer, nullable=False),
    Column("state", String(16), nullable=False),
    Column("reservation_id", String(36)),
    Column("until", DateTime(timezone=True)),
    Column("changes", Integer, nullable=False, default=0),
)


@dataclass
class FakeProvider:
    name: str
    item_type: str
    resource_type: str
    pools_sizes: dict[str, int]
    value_of: Any = None  # (pool_id, position) -> value
    calls: list[tuple[str, str]] = field(default_factory=list)  # (method, reservation id)
    pause_on: dict[str, tuple[threading.Event, threading.Event]] = field(default_factory=dict)
    deadlocks: int = 0  # how many of the next holds fail as PostgreSQL's deadlock detector fails a statement

    @property
    def item_schemas(self) -> Mapping[str, Mapping[str, Any]]:
        return {
            self.item_type: {
                "type": "object",
                "properties": {
                    "prefix": {"type": "string", "maxLength": 32},
                    "policy": {"type": "string", "enum": ["lowestFirst", "highestFirst"]},
                },
            }
        }

    def value(self, pool_id: str, position: int) -> str:
        return self.value_of(pool_id, position) if self.value_of else f"{pool_id}-{position:04d}"

    def reset(self, engine: Engine) -> None:
        METADATA.create_all(engine, checkfirst=True)
        with engine.begin() as connection:
            connection.execute(RESOURCES.delete().where(RESOURCES.c.pool_id.in_(list(self.pools_sizes))))
            rows = [
                {"pool_id": pool, "value": self.value(pool, n), "position": n, "state": "available", "changes": 0}
                for pool, size in self.pools_sizes.items()
                for n in range(size)
            ]
            if rows:
                connection.execute(RESOURCES.insert(), rows)
        self.calls.clear()
        self.pause_on.clear()
        self.deadlocks = 0

    # --- ReservationProvider -------------------------------------------------------------------------------

    def pools(self, session: Session) -> Sequence[PoolView]:
        return [view for pool in sorted(self.pools_sizes) if (view := self.pool(session, pool)) is not None]

    def pool(self, session: Session, pool_id: str) -> PoolView | None:
        if pool_id not in self.pools_sizes:
            return None
        available = session.execute(
            select(func.count()).where(RESOURCES.c.pool_id == pool_id, RESOURCES.c.state == "available")
        ).scalar_one()
        return PoolView(
            id=pool_id,
            name=f"{self.name} pool {pool_id}",
            resource_type=self.resource_type,
            capacity=self.pools_sizes[pool_id],
            available=available,
            provider=self.name,
        )

    def _matching(self, request: ItemRequest) -> Any:
        if request.pool_id is not None and request.pool_id not in self.pools_sizes:
            raise ResourcePoolNotFound(request.pool_id)
        pools = [request.pool_id] if request.pool_id else sorted(self.pools_sizes)
        condition = and_(RESOURCES.c.pool_id.in_(pools), RESOURCES.c.state == "available")
        prefix = request.criteria.get("prefix")
        if prefix:
            condition = and_(condition, RESOURCES.c.value.startswith(str(prefix), autoescape=True))
        descending = request.criteria.get("policy") == "highestFirst"
        order = (RESOURCES.c.position.desc() if descending else RESOURCES.c.position, RESOURCES.c.pool_id)
        return condition, order

    def check(self, session: Session, request: ItemRequest) -> Availability:
        condition, order = self._matching(request)
        available = session.execute(select(func.count()).where(condition)).scalar_one()
        sample = session.execute(select(RESOURCES.c.value).where(condition).order_by(*order).limit(3)).scalars()
        return Availability(request.pool_id, request.quantity, available, tuple(sample))

    def hold(self, session: Session, request: ItemRequest, owner: HoldOwner, until: datetime) -> Sequence[HeldResource]:
        condition, order = self._matching(request)
        if self.deadlocks > 0:
            self.deadlocks -= 1
            raise OperationalError("SELECT ... FOR UPDATE", {}, _Deadlock("deadlock detected"))
        statement = (
            select(RESOURCES.c.pool_id, RESOURCES.c.value)
            .where(condition)
            .order_by(*order)
            .limit(request.quantity)
            .with_for_update(skip_locked=True)
        )
        taken = list(session.execute(statement))
        if len(taken) < request.quantity:
            raise Unavailable(
                f"{self.name}: {len(taken)} of {request.quantity} available.",
                self.check(session, request),
            )
        for pool_id, value in taken:
            self._set(session, pool_id, value, "reserved", owner.reservation_id, until)
        self.calls.append(("hold", owner.reservation_id))
        return [HeldResource(f"{pool_id}/{value}", value, self.resource_type, pool_id) for pool_id, value in taken]

    def extend(self, session: Session, held: Sequence[HeldResource], owner: HoldOwner, until: datetime) -> None:
        for resource in held:
            self._set(session, resource.pool_id, resource.value, "reserved", owner.reservation_id, until)
        self.calls.append(("extend", owner.reservation_id))

    def commit(self, session: Session, held: Sequence[HeldResource], owner: HoldOwner) -> None:
        self._pause("commit")
        for resource in held:
            self._set(session, resource.pool_id, resource.value, "assigned", owner.reservation_id, None)
        self.calls.append(("commit", owner.reservation_id))

    def release(self, session: Session, held: Sequence[HeldResource], owner: HoldOwner, *, reason: str) -> None:
        self._pause("release")
        for resource in held:
            self._set(session, resource.pool_id, resource.value, "available", None, None)
        self.calls.append((f"release:{reason}", owner.reservation_id))

    # --- helpers -------------------------------------------------------------------------------------------

    def _pause(self, method: str) -> None:
        events = self.pause_on.get(method)
        if events is not None:
            reached, go_on = events
            reached.set()
            assert go_on.wait(timeout=20), f"{self.name}.{method} was never let go"

    def _set(
        self, session: Session, pool_id: str, value: str, state: str, reservation_id: str | None, until: datetime | None
    ) -> None:
        session.execute(
            update(RESOURCES)
            .where(RESOURCES.c.pool_id == pool_id, RESOURCES.c.value == value)
            .values(state=state, reservation_id=reservation_id, until=until, changes=RESOURCES.c.changes + 1)
        )

    def states(self, engine: Engine) -> dict[str, int]:
        """How many of this provider's resources are in each state."""
        with engine.connect() as connection:
            rows = connection.execute(
                select(RESOURCES.c.state, func.count())
                .where(RESOURCES.c.pool_id.in_(list(self.pools_sizes)))
                .group_by(RESOURCES.c.state)
            )
            return {state: count for state, count in rows}


NUMBERS = FakeProvider(
    name="fake_numbers",
    item_type="FakeNumberReservationItem",
    resource_type="TelephoneNumber",
    pools_sizes={"fake-numbers-a": 20, "fake-numbers-b": 5},
    value_of=lambda pool, n: f"+4420794{'6' if pool.endswith('a') else '7'}{n:04d}",
)
ADDRESSES = FakeProvider(
    name="fake_addresses",
    item_type="FakeAddressReservationItem",
    resource_type="IPAddress",
    pools_sizes={"fake-addresses": 4},
    value_of=lambda _pool, n: f"192.0.2.{n + 1}",
)


def install(engine: Engine) -> tuple[FakeProvider, FakeProvider]:
    """Register both fakes (idempotent) and give them fresh pools."""
    for provider in (NUMBERS, ADDRESSES):
        register_provider(provider)
        provider.reset(engine)
    return NUMBERS, ADDRESSES
