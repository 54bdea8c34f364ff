"""Reservation use cases (TMF685). One function, one transaction; events in the same one.

Holding is all or nothing: every item of a reservation is held by its provider inside the use case's
transaction, so when one item raises ``Unavailable`` the rollback takes every hold of the other items with
it (whichever provider made them), and the 409 says, per item, what is available (checked afresh after the
rollback).

Expiry is decided under the reservation's row lock: a commit, extension or transfer that finds
``now > validFor.endDateTime`` (and no entity in delivery holding it) expires the reservation there and
then (the items are released to their providers, the expiry committed) and answers 409
``RESERVATION_EXPIRED``, whether or not a sweeper has run. ``expire_due_reservations`` is the sweeper's use
case: it locks due rows with ``SKIP LOCKED`` (PostgreSQL), so a reservation being committed right now is the
committer's to decide, never both.

Events (outbox, before the commit): ReservationCreateEvent, ReservationStateChangeEvent (committed,
released, expired), ReservationAttributeValueChangeEvent (validFor, relatedEntity, description).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from common import clock, events, request_context
from common.errors import Conflict
from common.orm import new_id
from common.tmf import Fields, ListQuery, Page, Preconditions, entity_tag, parse_item_query, parse_list_query
from common.uow import UnitOfWork, retried_on_conflict
from oss.reservation import domain, mapping, registry
from oss.reservation.domain import (
    COMMITTED,
    EXPIRED,
    RELEASED,
    RESERVED,
    ReservationData,
    ReservationItemData,
)
from oss.reservation.errors import (
    InvalidReservation,
    InvalidStateTransition,
    ReservationExpired,
    ReservationNotFound,
    ReservationUnavailable,
    ResourcePoolNotFound,
    UnknownItemType,
)
from oss.reservation.models import ReservationHoldRow, ReservationItemRow, ReservationRow
from oss.reservation.provider import HeldResource, HoldOwner, ItemRequest, PoolView, Unavailable
from oss.reservation.repository import RESERVATION_QUERY, ReservationRepository

logger = logging.getLogger(__name__)

API = "resourcePoolManagement"
CREATE_EVENT = "ReservationCreateEvent"
STATE_CHANGE_EVENT = "ReservationStateChangeEvent"
ATTRIBUTE_CHANGE_EVENT = "ReservationAttributeValueChangeEvent"
events.register_event_types(API, (CREATE_EVENT, STATE_CHANGE_EVENT, ATTRIBUTE_CHANGE_EVENT))
events.register_event_schema(API, {"reservation": RESERVATION_QUERY.members})

EXPIRY_BATCH = 100
# PostgreSQL aborts a transaction that lost a deadlock (40P01) or a serialization check (40001): only the use
# case that owns the transaction can run it again, not the provider whose statement it hit.
_PATCHABLE = ("description", "reservationState", "validFor", "relatedEntity")


# --- create -----------------------------------------------------------------------------------------------


def create_reservation(
    uow: UnitOfWork, document: Mapping[str, Any], *, default_hold: timedelta | None = None
) -> ReservationData:
    """Hold every item of a TMF685 Reservation_Create document, all or nothing (409 with what is available).
    A transaction PostgreSQL aborted for a deadlock between providers' locks is run again
    (``common.uow.retried_on_conflict``)."""
    return _retried(lambda: _create_reservation(uow, document, default_hold))


def _retried(attempt: Callable[[], ReservationData]) -> ReservationData:
    return retried_on_conflict(attempt)


def _create_reservation(
    uow: UnitOfWork, document: Mapping[str, Any], default_hold: timedelta | None
) -> ReservationData:
    specs = checked_items(document.get("reservationItem") or [])
    if document.get("reservationState", RESERVED) != RESERVED:
        raise InvalidReservation("A new reservation is reserved; commit or release it with a PATCH.")
    now = clock.now()
    until = mapping.parse_end(document.get("validFor")) or now + (
        default_hold or timedelta(seconds=domain.DEFAULT_HOLD_SECONDS)
    )
    if until <= now:
        raise InvalidReservation("validFor.endDateTime must be in the future.")
    related_entity = [dict(entity) for entity in document.get("relatedEntity") or []]
    failed: tuple[int, Unavailable] | None = None
    with uow as tx:
        row = ReservationRow(
            id=new_id(),
            state=RESERVED,
            description=document.get("description"),
            valid_from=now,
            valid_until=until,
            expirable=not domain.never_expires(related_entity),
            document={
                "relatedParty": [dict(party) for party in document.get("relatedParty") or []],
                "relatedEntity": related_entity,
                **{key: document[key] for key in mapping.DOCUMENT_ATTRIBUTES if key in document},
            },
            state_changed_at=now,
            created_at=now,
            updated_at=now,
        )
        ReservationRepository(tx.session).add(row)
        # Items are held in one global order (pool, then position), whatever order the client wrote them in:
        # two reservations spanning the same two pools then lock their chunks in the same order and cannot
        # deadlock each other (a deadlock would cost a retry of the whole use case).
        for position, spec in sorted(enumerate(specs), key=lambda entry: (entry[1].pool_id or "", entry[0])):
            try:
                _hold_item(tx.session, row, position, spec, until)
            except Unavailable as unavailable:
                failed = (position, unavailable)
                break
        if failed is None:
            row.items.sort(key=lambda item: item.position)  # answered in the client's order, not the holding order
            tx.session.flush()
            reservation = to_data(row)
            _publish(tx.session, CREATE_EVENT, reservation)
            tx.commit()
    if failed is not None:  # the transaction is rolled back: nothing of any item is held
        raise _unavailable(uow, specs, *failed)
    logger.info("reserved %s (%d items)", reservation.id, len(reservation.items))
    return reservation


def checked_items(items: Sequence[Mapping[str, Any]]) -> list[mapping.ItemSpec]:
    """The items, each of a registered type, its criteria declared by and valid for that type (400)."""
    if not items:
        raise InvalidReservation("A reservation holds at least one reservationItem.")
    for item in items:
        if not isinstance(item.get("@type"), str):
            raise UnknownItemType("Every reservationItem needs an @type naming its item type.")
        resolved = registry.ITEM_TYPES.resolve(item["@type"])
        registry.provider_for(resolved.name)  # a type without a provider is a 400, not a 500
        registry.ITEM_TYPES.check_attributes(resolved, item)
    specs = mapping.item_specs(items)
    for spec in specs:
        domain.criteria_errors(spec.type, registry.item_schema(spec.type), spec.criteria)
    return specs


def _hold_item(session: Session, row: ReservationRow, position: int, spec: mapping.ItemSpec, until: datetime) -> None:
    provider = registry.provider_for(spec.type)  # an unknown pool is the provider's 404 (ResourcePoolNotFound)
    item = ReservationItemRow(
        id=new_id(),
        position=position,
        type=spec.type,
        provider=provider.name,
        pool_id=spec.pool_id,
        quantity=spec.quantity,
        criteria=dict(spec.criteria),
        schema_location=spec.schema_location,
        state=RESERVED,
    )
    row.items.append(item)
    request = ItemRequest(item_type=spec.type, pool_id=spec.pool_id, quantity=spec.quantity, criteria=spec.criteria)
    held = provider.hold(session, request, _owner(row, item), until)
    if len(held) != spec.quantity:  # a provider that breaks its contract must not half-hold silently
        raise RuntimeError(f"provider {provider.name} held {len(held)} of {spec.quantity} for {spec.type}")
    item.holds = [
        ReservationHoldRow(
            resource_id=resource.resource_id,
            value=resource.value,
            resource_type=resource.resource_type,
            pool_id=resource.pool_id,
        )
        for resource in held
    ]


def _unavailable(
    uow: UnitOfWork, specs: Sequence[mapping.ItemSpec], index: int, unavailable: Unavailable
) -> ReservationUnavailable:
    """The 409 of a reservation that could not be held: every item's availability now, read afresh."""
    answers = check_items(uow, specs)
    answers[index] = mapping.availability_to_tmf(specs[index], unavailable.availability)
    return ReservationUnavailable(
        f"reservationItem {index} ({specs[index].type}) cannot be satisfied: {unavailable.message} Nothing was held.",
        code=unavailable.code if unavailable.code != Unavailable.code else None,
        details={"unavailableItem": index, "availability": answers},
    )


# --- availability and pools -------------------------------------------------------------------------------


def check_availability(uow: UnitOfWork, document: Mapping[str, Any]) -> dict[str, Any]:
    """What each item could hold now, holding nothing (the TMF685 AvailabilityCheck answer)."""
    specs = checked_items(document.get("reservationItem") or [])
    return mapping.availability_check_to_tmf(check_items(uow, specs))


def check_items(uow: UnitOfWork, specs: Sequence[mapping.ItemSpec]) -> list[dict[str, Any]]:
    with uow as tx:
        answers = []
        for spec in specs:
            provider = registry.provider_for(spec.type)
            request = ItemRequest(spec.type, spec.pool_id, spec.quantity, spec.criteria)
            answers.append(mapping.availability_to_tmf(spec, provider.check(tx.session, request)))
        return answers


def list_pools(uow: UnitOfWork) -> list[PoolView]:
    """Every registered provider's pools, ordered by provider, then pool id."""
    with uow as tx:
        pools = [pool for provider in registry.providers() for pool in provider.pools(tx.session)]
    return sorted(pools, key=lambda pool: (pool.provider, pool.id))


def retrieve_pool(uow: UnitOfWork, pool_id: str) -> PoolView:
    with uow as tx:
        for provider in registry.providers():
            pool = provider.pool(tx.session, pool_id)
            if pool is not None:
                return pool
    raise ResourcePoolNotFound(pool_id)


# --- reads ------------------------------------------------------------------------------------------------


def parse_query(query_string: str) -> ListQuery:
    return parse_list_query(query_string, RESERVATION_QUERY)


def parse_retrieve_query(query_string: str) -> Fields | None:
    return parse_item_query(query_string, RESERVATION_QUERY.members)


def retrieve_reservation(uow: UnitOfWork, reservation_id: str) -> ReservationData:
    with uow as tx:
        row = ReservationRepository(tx.session).get(reservation_id)
        if row is None:
            raise ReservationNotFound(reservation_id)
        return to_data(row)


def list_reservations(uow: UnitOfWork, query: ListQuery) -> Page[ReservationData]:
    with uow as tx:
        rows, total = ReservationRepository(tx.session).list(query)
        return Page(items=[to_data(row) for row in rows], total=total, offset=query.offset, limit=query.limit)


# --- changes ----------------------------------------------------------------------------------------------


def patch_reservation(
    uow: UnitOfWork,
    reservation_id: str,
    patch: Mapping[str, Any],
    *,
    preconditions: Preconditions | None = None,
) -> ReservationData:
    """Apply a JSON merge-patch: relatedEntity (transfer), validFor.endDateTime (extend), description, then
    reservationState (commit or release), all in one transaction under the row lock (run again after a
    deadlock, as a create is). ``preconditions`` (If-Match) are checked against the locked row: 412."""
    return _retried(lambda: _patch_reservation(uow, reservation_id, patch, preconditions))


def _patch_reservation(
    uow: UnitOfWork, reservation_id: str, patch: Mapping[str, Any], preconditions: Preconditions | None
) -> ReservationData:
    unknown = sorted(key for key in patch if key not in _PATCHABLE)
    if unknown:
        raise InvalidReservation(f"{unknown[0]!r} cannot be changed by a PATCH.")
    target_state = patch.get("reservationState")
    new_end = mapping.parse_end(patch.get("validFor")) if "validFor" in patch else None
    expired = False
    with uow as tx:
        repository = ReservationRepository(tx.session)
        row = repository.get_for_update(reservation_id)
        if row is None:
            raise ReservationNotFound(reservation_id)
        if preconditions is not None:
            preconditions.check(entity_tag(row.row_version), f"Reservation {reservation_id}")
        now = clock.now()
        changes_hold = target_state == COMMITTED or new_end is not None or "relatedEntity" in patch
        if row.state == RESERVED and changes_hold and _expired_now(row, now):
            _finish(tx.session, row, EXPIRED, now, reason="validFor ended before the change")
            tx.session.flush()
            _publish(tx.session, STATE_CHANGE_EVENT, to_data(row))
            tx.commit()
            expired = True
        else:
            changed = _apply_attributes(tx.session, row, patch, new_end, now)
            state_changed = _apply_state(tx.session, row, target_state, now)
            if not changed and not state_changed:
                return to_data(row)
            row.updated_at = now
            try:
                tx.session.flush()
            except StaleDataError:
                raise Conflict("The reservation was changed concurrently; retry.", code="CONCURRENT_UPDATE") from None
            after = to_data(row)
            if changed:
                _publish(tx.session, ATTRIBUTE_CHANGE_EVENT, after, field_path=",".join(changed))
            if state_changed:
                _publish(tx.session, STATE_CHANGE_EVENT, after)
            tx.commit()
    if expired:
        raise ReservationExpired(
            f"Reservation {reservation_id} expired at {clock.isoformat(row.valid_until)}; its items were released.",
            details={"reservationState": EXPIRED},
        )
    return after


def _expired_now(row: ReservationRow, now: datetime) -> bool:
    """Expired under the lock: past its end and not held by an entity in delivery (a transfer to an order in
    delivery rescues a hold only while it is still valid)."""
    return domain.has_expired(row.valid_until, now, expirable=row.expirable)


def _apply_attributes(
    session: Session, row: ReservationRow, patch: Mapping[str, Any], new_end: datetime | None, now: datetime
) -> list[str]:
    changed: list[str] = []
    if "description" in patch and patch["description"] != row.description:
        row.description = patch["description"]
        changed.append("description")
    owner_changed = False
    if "relatedEntity" in patch:
        entities = [dict(entity) for entity in patch["relatedEntity"] or []]
        if entities != _related_entity(row):
            _require_state(row, RESERVED, "transferred")
            row.document = {**(row.document or {}), "relatedEntity": entities}  # a new object: the ORM sees it
            row.expirable = not domain.never_expires(entities)
            changed.append("relatedEntity")
            owner_changed = True
    if new_end is not None and new_end != row.valid_until:
        _require_state(row, RESERVED, "extended")
        if new_end <= now:
            raise InvalidReservation("validFor.endDateTime must be in the future.")
        row.valid_until = new_end
        changed.append("validFor")
    if owner_changed or "validFor" in changed:  # the providers learn the new owner and end in the same transaction
        for item in row.items:
            registry.provider_for(item.type).extend(session, _held(item), _owner(row, item), row.valid_until)
    return changed


def _apply_state(session: Session, row: ReservationRow, target: str | None, now: datetime) -> bool:
    if target is None or target == row.state:
        return False
    if row.state == EXPIRED and target == COMMITTED:  # a sweeper (or an earlier request) expired it first
        raise ReservationExpired(
            f"Reservation {row.id} expired at {clock.isoformat(row.valid_until)}; its items were released.",
            details={"reservationState": EXPIRED},
        )
    if target in (COMMITTED, RELEASED):
        domain.check_transition(row.state, target)
    if target == COMMITTED:
        for item in row.items:
            registry.provider_for(item.type).commit(session, _held(item), _owner(row, item))
        _set_state(row, COMMITTED, now, reason=None)
        return True
    if target == RELEASED:
        _finish(session, row, RELEASED, now, reason=None)
        return True
    raise InvalidStateTransition(
        f"reservationState {target!r} cannot be set by a client: a {row.state} reservation can be committed or"
        " released; the server expires holds.",
        details={"reservationState": row.state},
    )


def _require_state(row: ReservationRow, state: str, what: str) -> None:
    if row.state != state:
        raise InvalidStateTransition(
            f"A {row.state} reservation cannot be {what}.", details={"reservationState": row.state}
        )


def _finish(session: Session, row: ReservationRow, state: str, now: datetime, *, reason: str | None) -> None:
    """Release every item to its provider and end the reservation in ``state`` (released or expired)."""
    for item in row.items:
        registry.provider_for(item.type).release(session, _held(item), _owner(row, item), reason=state)
    _set_state(row, state, now, reason=reason)


def _set_state(row: ReservationRow, state: str, now: datetime, *, reason: str | None) -> None:
    domain.check_transition(row.state, state)
    row.state = state
    row.state_changed_at = now
    row.state_change_reason = reason
    row.updated_at = now
    for item in row.items:
        item.state = state


# --- expiry (the sweeper's use case) ----------------------------------------------------------------------


def expire_due_reservations(uow_factory: Callable[[], UnitOfWork], now: datetime, *, batch: int = EXPIRY_BATCH) -> int:
    """Expire every reserved hold whose validity ended before ``now`` (holds an entity in delivery owns
    excepted): the items go back to their providers (``release(reason="expired")``). One transaction per
    batch; returns how many expired. Rows locked by a commit in progress are skipped (PostgreSQL): the
    commit decides them under its lock, so a reservation is never both committed and expired."""
    expired = 0
    while True:
        with uow_factory() as tx:
            rows = ReservationRepository(tx.session).lock_due(now, batch)
            if not rows:
                return expired
            for row in rows:
                _finish(tx.session, row, EXPIRED, now, reason="validFor ended")
            tx.session.flush()
            for row in rows:
                _publish(tx.session, STATE_CHANGE_EVENT, to_data(row))
            tx.commit()
        expired += len(rows)
        logger.info("expired %d reservations", len(rows))
        if len(rows) < batch:
            return expired


# --- helpers ----------------------------------------------------------------------------------------------


def _owner(row: ReservationRow, item: ReservationItemRow) -> HoldOwner:
    return HoldOwner(
        reservation_id=row.id,
        reservation_item_id=item.id,
        related_entity=tuple(_related_entity(row)),
        actor=request_context.current().actor,
    )


def _related_entity(row: ReservationRow) -> list[dict[str, Any]]:
    return [dict(entity) for entity in (row.document or {}).get("relatedEntity") or ()]


def _held(item: ReservationItemRow) -> tuple[HeldResource, ...]:
    return tuple(_held_resource(hold) for hold in item.holds)


def _held_resource(hold: ReservationHoldRow) -> HeldResource:
    return HeldResource(
        resource_id=hold.resource_id, value=hold.value, resource_type=hold.resource_type, pool_id=hold.pool_id
    )


def to_data(row: ReservationRow) -> ReservationData:
    return ReservationData(
        id=row.id,
        state=row.state,
        description=row.description,
        valid_from=row.valid_from,
        valid_until=row.valid_until,
        expirable=bool(row.expirable),
        related_party=tuple((row.document or {}).get("relatedParty") or ()),
        related_entity=tuple(_related_entity(row)),
        attributes={key: value for key, value in (row.document or {}).items() if key in mapping.DOCUMENT_ATTRIBUTES},
        items=tuple(
            ReservationItemData(
                id=item.id,
                type=item.type,
                provider=item.provider,
                pool_id=item.pool_id,
                quantity=item.quantity,
                criteria=dict(item.criteria or {}),
                state=item.state,
                held=_held(item),
                schema_location=item.schema_location,
            )
            for item in row.items
        ),
        created_at=row.created_at,
        updated_at=row.updated_at,
        state_changed_at=row.state_changed_at,
        state_change_reason=row.state_change_reason,
        version=row.row_version or 1,
    )


def _publish(session: Session, event_type: str, reservation: ReservationData, field_path: str | None = None) -> str:
    return events.publish(
        session,
        api=API,
        event_type=event_type,
        resource=mapping.to_tmf(reservation),
        payload_key="reservation",
        field_path=field_path,
    )
