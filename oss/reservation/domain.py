"""Reservation rules (TMF685 v1 shapes, TMF716 fields): the state machine, when a hold has expired, which
holds never expire, and how an item's criteria are checked against its type's schema.

Pure: no database, no HTTP.

States (``reservationState``, camelCase)::

    reserved --commit--> committed
    reserved --release--> released
    reserved --expire--> expired        (validFor.endDateTime passed; decided under the row lock)

``committed``, ``released`` and ``expired`` are final. A hold whose ``relatedEntity`` names an entity with
role ``inDelivery`` (an order item whose delivery has started) does not expire: the order owns it until it
commits or releases it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from jsonschema import Draft4Validator

from oss.reservation.errors import InvalidCriterion, InvalidStateTransition
from oss.reservation.provider import HeldResource

RESERVED = "reserved"
COMMITTED = "committed"
RELEASED = "released"
EXPIRED = "expired"
STATES = (RESERVED, COMMITTED, RELEASED, EXPIRED)
FINAL_STATES = frozenset({COMMITTED, RELEASED, EXPIRED})

_TRANSITIONS: dict[str, frozenset[str]] = {
    RESERVED: frozenset({COMMITTED, RELEASED, EXPIRED}),
    COMMITTED: frozenset(),
    RELEASED: frozenset(),
    EXPIRED: frozenset(),
}

# The relatedEntity role that keeps a hold from expiring (an order item in delivery owns it).
IN_DELIVERY_ROLE = "inDelivery"
DEFAULT_HOLD_SECONDS = 15 * 60


def check_transition(current: str, target: str) -> None:
    """409 naming the current state when ``current -> target`` is not a transition of the state machine."""
    if target not in _TRANSITIONS.get(current, frozenset()):
        allowed = sorted(_TRANSITIONS.get(current, frozenset()))
        raise InvalidStateTransition(
            f"A {current} reservation cannot become {target}"
            + (f"; it can become {', '.join(allowed)}." if allowed else f" ({current} is final)."),
            details={"reservationState": current},
        )


def never_expires(related_entity: Iterable[Mapping[str, Any]]) -> bool:
    """True when an entity holding the reservation is in delivery (its hold does not expire)."""
    return any(entity.get("role") == IN_DELIVERY_ROLE for entity in related_entity)


def has_expired(valid_until: datetime, now: datetime, *, expirable: bool) -> bool:
    """``now`` is past the end of validity (and nothing in delivery protects the hold)."""
    return expirable and now > valid_until


def criteria_errors(item_type: str, schema: Mapping[str, Any], criteria: Mapping[str, Any]) -> None:
    """400 for a criterion value ``schema`` does not allow (unknown names are refused before, by the
    type registry, as UNKNOWN_ATTRIBUTE)."""
    closed = {**schema, "type": "object"}
    validator = Draft4Validator(closed)
    for error in sorted(validator.iter_errors(dict(criteria)), key=lambda found: list(found.absolute_path)):
        where = ".".join(str(part) for part in error.absolute_path) or "criteria"
        raise InvalidCriterion(
            f"{item_type}: {where} breaks its {error.validator} rule ({error.message[:200]}).",
            details={"criterion": where},
        )


@dataclass(frozen=True)
class ReservationItemData:
    id: str
    type: str
    provider: str
    pool_id: str | None
    quantity: int
    criteria: Mapping[str, Any]
    state: str
    held: tuple[HeldResource, ...]
    schema_location: str | None = None


@dataclass(frozen=True)
class ReservationData:
    """A reservation as use cases return it. ``attributes``: the TMF members with no column of their own
    (channelRef, requestedPeriod, productOfferingRef, @schemaLocation)."""

    id: str
    state: str
    description: str | None
    valid_from: datetime
    valid_until: datetime
    expirable: bool
    related_party: Sequence[Mapping[str, Any]]
    related_entity: Sequence[Mapping[str, Any]]
    attributes: Mapping[str, Any]
    items: tuple[ReservationItemData, ...]
    created_at: datetime
    updated_at: datetime
    state_changed_at: datetime
    state_change_reason: str | None
    version: int = 1
