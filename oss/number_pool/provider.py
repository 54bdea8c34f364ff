"""The reservation provider of numbers (``oss.reservation.ReservationProvider``): TMF685 reservation items of
``@type`` ``TelephoneNumberReservationItem`` hold numbers of a pool.

Criteria (validated against ``ITEM_SCHEMA``, closed): ``quantity`` (or ``count``), ``prefix``, ``pattern``,
``category``, ``contiguous`` (a run, e.g. a DID range for a PBX), ``policy`` (``any``: whichever chunk nobody
else holds; ``lowestFirst``; ``random``, seeded by ``seed`` or by the provider's injected chooser;
``leastRecentlyReleased``: never-used numbers first, then those that rested longest), ``number`` (a
specific one), ``allowGolden`` (holding a golden number without it is 409 ``GOLDEN_NUMBER_NEEDS_FLAG``).

Everything runs in the reservation's session: a hold and the reservation that holds it commit together.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from common.errors import Conflict
from oss.number_pool import domain, repository, service
from oss.number_pool.errors import InvalidCriteria
from oss.number_pool.models import NumberBlockRow, NumberPoolRow
from oss.reservation import (
    Availability,
    HeldResource,
    HoldOwner,
    ItemRequest,
    PoolView,
    ResourcePoolNotFound,
    Unavailable,
)

ITEM_TYPE = "TelephoneNumberReservationItem"
RESOURCE_TYPE = "TelephoneNumber"
ITEM_SCHEMA: Mapping[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "quantity": {"type": "integer", "minimum": 1, "maximum": service.MAX_QUANTITY},
        "count": {"type": "integer", "minimum": 1, "maximum": service.MAX_QUANTITY},
        "prefix": {"type": "string", "maxLength": 20},
        "pattern": {"type": "string", "maxLength": 40},
        "category": {"type": "string", "enum": list(domain.CATEGORIES)},
        "contiguous": {"type": "boolean"},
        "policy": {"type": "string", "enum": list(domain.POLICIES)},
        "seed": {"type": "integer"},
        "number": {"type": "string", "maxLength": 32},
        "allowGolden": {"type": "boolean"},
    },
}


def criteria_of(request: ItemRequest) -> domain.Criteria:
    """The hold criteria of a reservation item (400 ``INVALID_CRITERIA`` for one outside ``ITEM_SCHEMA``)."""
    raw = dict(request.criteria)
    unknown = sorted(set(raw) - set(ITEM_SCHEMA["properties"]))
    if unknown:
        raise InvalidCriteria(f"{ITEM_TYPE} has no criterion {unknown[0]!r}.")
    quantity = raw.get("quantity", raw.get("count", request.quantity))
    if not isinstance(quantity, int) or isinstance(quantity, bool):
        raise InvalidCriteria(f"quantity must be an integer, not {quantity!r}.")
    return domain.Criteria(
        quantity=quantity,
        pattern=raw.get("pattern"),
        prefix=raw.get("prefix"),
        category=raw.get("category"),
        contiguous=bool(raw.get("contiguous", False)),
        policy=str(raw.get("policy", domain.ANY)),
        number=raw.get("number"),
        allow_golden=bool(raw.get("allowGolden", False)),
        seed=raw.get("seed"),
    )


def _holder(owner: HoldOwner, reason: str | None = None) -> service.Holder:
    order_item = next(
        (str(e.get("id")) for e in owner.related_entity if "OrderItem" in str(e.get("@referredType", ""))), None
    )
    customer = next(
        (
            str(e.get("id"))
            for e in owner.related_entity
            if str(e.get("@referredType", "")) in ("Customer", "Party", "Individual", "Organization")
            or e.get("role") == "customer"
        ),
        None,
    )
    return service.Holder(
        reservation_id=owner.reservation_id,
        reservation_item_id=owner.reservation_item_id,
        order_item_id=order_item,
        customer_id=customer,
        reason=reason,
        actor=owner.actor,
    )


class NumberProvider:
    """Numbers for TMF685 reservations. ``choose(n) -> 0..n-1`` drives the ``random`` policy (injectable)."""

    name = "number_pool"

    def __init__(self, choose: Callable[[int], int] | None = None) -> None:
        self._choose = choose

    @property
    def item_schemas(self) -> Mapping[str, Mapping[str, Any]]:
        return {ITEM_TYPE: ITEM_SCHEMA}

    def pools(self, session: Session) -> Sequence[PoolView]:
        rows = session.execute(select(NumberPoolRow).order_by(NumberPoolRow.name)).scalars()
        return [self._view(session, row) for row in rows]

    def pool(self, session: Session, pool_id: str) -> PoolView | None:
        row = session.get(NumberPoolRow, pool_id)
        return self._view(session, row) if row is not None else None

    def _view(self, session: Session, row: NumberPoolRow) -> PoolView:
        blocks = session.execute(select(NumberBlockRow.size).where(NumberBlockRow.pool_id == row.id)).scalars()
        return PoolView(
            id=row.id,
            name=row.name,
            resource_type=RESOURCE_TYPE,
            capacity=int(sum(blocks)),
            available=repository.free_count(session, pool_id=row.id),
            provider=self.name,
            description=row.description,
        )

    def _pool_ids(self, session: Session, request: ItemRequest) -> list[str]:
        if request.pool_id is not None:
            if session.get(NumberPoolRow, request.pool_id) is None:
                raise ResourcePoolNotFound(request.pool_id)
            return [request.pool_id]
        return [view.id for view in self.pools(session)]

    def check(self, session: Session, request: ItemRequest) -> Availability:
        criteria = criteria_of(request)
        total, sample = 0, list[str]()
        for pool_id in self._pool_ids(session, request):
            available, found = service.check_numbers(session, pool_id, criteria)
            if request.pool_id is not None or available >= criteria.quantity:
                return Availability(pool_id, criteria.quantity, available, tuple(found))
            total, sample = max(total, available), sample or found
        return Availability(request.pool_id, criteria.quantity, total, tuple(sample))

    def hold(self, session: Session, request: ItemRequest, owner: HoldOwner, until: datetime) -> Sequence[HeldResource]:
        criteria = criteria_of(request)
        choose = self._chooser(criteria)
        last_error: Conflict | None = None
        for pool_id in self._pool_ids(session, request):
            try:
                numbers = service.hold_numbers(session, pool_id, criteria, _holder(owner), until, choose=choose)
            except Conflict as error:
                if getattr(error, "code", "") == "GOLDEN_NUMBER_NEEDS_FLAG":
                    raise
                last_error = error
                continue
            return [HeldResource(str(n.resource_id), n.value, RESOURCE_TYPE, n.pool_id) for n in numbers]
        availability = self.check(session, request)
        message = last_error.message if last_error is not None else "No number pool can satisfy the item."
        code = getattr(last_error, "code", "POOL_EXHAUSTED")
        raise Unavailable(message, availability, code=code)

    def _chooser(self, criteria: domain.Criteria) -> Callable[[int], int]:
        if criteria.seed is not None:
            return random.Random(criteria.seed).randrange
        return self._choose or random.randrange

    def extend(self, session: Session, held: Sequence[HeldResource], owner: HoldOwner, until: datetime) -> None:
        service.extend_holds(session, [h.resource_id for h in held], until)

    def commit(self, session: Session, held: Sequence[HeldResource], owner: HoldOwner) -> None:
        service.commit_numbers(session, [h.resource_id for h in held], _holder(owner, "reservation committed"))

    def release(self, session: Session, held: Sequence[HeldResource], owner: HoldOwner, *, reason: str) -> None:
        service.release_numbers(session, [h.resource_id for h in held], _holder(owner, reason))


NUMBER_PROVIDER = NumberProvider()
