"""TMF685 JSON <-> reservation dataclasses: hrefs, ``validFor`` as a TimePeriod, items with what they hold,
pools and availability answers, ``fields=`` projection.

Pure apart from reading the request's base URL for ``href``; the service uses ``to_tmf`` too, to put the
reservation in its events exactly as a client would GET it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from common import clock
from common.tmf import Fields, href, project
from oss.reservation.domain import ReservationData, ReservationItemData
from oss.reservation.errors import InvalidReservation
from oss.reservation.provider import Availability, PoolView
from oss.reservation.registry import ITEM_ATTRIBUTES

BASE_PATH = "/tmf-api/resourcePoolManagement/v1"
RESERVATION = "reservation"
POOL = "resourcePool"
TYPE = "Reservation"
POOL_TYPE = "ResourcePool"
# TMF members kept as they came in ``document``.
DOCUMENT_ATTRIBUTES = ("channelRef", "requestedPeriod", "productOfferingRef", "@schemaLocation")


@dataclass(frozen=True)
class ItemSpec:
    """One reservation item as a client asked for it."""

    type: str
    pool_id: str | None
    quantity: int
    criteria: Mapping[str, Any]
    schema_location: str | None


def reservation_href(reservation_id: str) -> str:
    return href(BASE_PATH, RESERVATION, reservation_id)


def pool_href(pool_id: str) -> str:
    return href(BASE_PATH, POOL, pool_id)


def item_specs(items: Sequence[Mapping[str, Any]]) -> list[ItemSpec]:
    """The items of a create or an availability check body, split into TMF685 attributes and criteria."""
    specs = []
    for item in items:
        capacity = item.get("resourceCapacity") or {}
        pool = capacity.get("resourcePool") or {}
        schema_location = item.get("@schemaLocation")
        specs.append(
            ItemSpec(
                type=str(item["@type"]),
                pool_id=str(pool["id"]) if pool.get("id") is not None else None,
                quantity=int(item.get("quantity", 1)),
                criteria={key: value for key, value in item.items() if key not in ITEM_ATTRIBUTES},
                schema_location=str(schema_location) if schema_location is not None else None,
            )
        )
    return specs


def parse_end(valid_for: Mapping[str, Any] | None) -> datetime | None:
    if not valid_for or valid_for.get("endDateTime") is None:
        return None
    try:
        return clock.parse_utc(str(valid_for["endDateTime"]))
    except ValueError:
        raise InvalidReservation(
            f"validFor.endDateTime must be an ISO 8601 date-time, not {valid_for['endDateTime']!r}."
        ) from None


def _item_to_tmf(item: ReservationItemData) -> dict[str, Any]:
    document: dict[str, Any] = {
        "id": item.id,
        "@type": item.type,
        "@baseType": "ReservationItem",
        "quantity": item.quantity,
        "subReservationState": item.state,
    }
    if item.schema_location is not None:
        document["@schemaLocation"] = item.schema_location
    if item.pool_id is not None:
        document["resourceCapacity"] = {"resourcePool": {"id": item.pool_id, "href": pool_href(item.pool_id)}}
    document.update(item.criteria)
    document["appliedCapacityAmount"] = {
        "appliedDemandAmount": str(len(item.held)),
        "resource": [
            {"id": held.resource_id, "name": held.value, "value": held.value, "@referredType": held.resource_type}
            for held in item.held
        ],
    }
    return document


def to_tmf(reservation: ReservationData, fields: Fields | None = None) -> dict[str, Any]:
    """The TMF685 Reservation a client sees, projected by ``fields``."""
    document: dict[str, Any] = {
        "id": reservation.id,
        "href": reservation_href(reservation.id),
        "@type": TYPE,
        "reservationState": reservation.state,
        "validFor": {
            "startDateTime": clock.isoformat(reservation.valid_from),
            "endDateTime": clock.isoformat(reservation.valid_until),
        },
    }
    if reservation.description is not None:
        document["description"] = reservation.description
    document["relatedParty"] = [dict(party) for party in reservation.related_party]
    document["relatedEntity"] = [dict(entity) for entity in reservation.related_entity]
    document["reservationItem"] = [_item_to_tmf(item) for item in reservation.items]
    document.update(reservation.attributes)
    document["creationDate"] = clock.isoformat(reservation.created_at)
    document["stateChangeDate"] = clock.isoformat(reservation.state_changed_at)
    if reservation.state_change_reason is not None:
        document["stateChangeReason"] = reservation.state_change_reason
    return project(document, fields)


def pool_to_tmf(pool: PoolView, fields: Fields | None = None) -> dict[str, Any]:
    document: dict[str, Any] = {
        "id": pool.id,
        "href": pool_href(pool.id),
        "@type": POOL_TYPE,
        "name": pool.name,
        "resourceType": pool.resource_type,
        "provider": pool.provider,
        "capacity": {"capacityAmount": pool.capacity, "availableCapacityAmount": pool.available},
    }
    if pool.description is not None:
        document["description"] = pool.description
    return project(document, fields)


def availability_to_tmf(spec: ItemSpec, availability: Availability) -> dict[str, Any]:
    document: dict[str, Any] = {
        "@type": spec.type,
        "quantity": availability.requested,
        "availableQuantity": availability.available,
        "sample": list(availability.sample),
    }
    pool_id = availability.pool_id or spec.pool_id
    if pool_id is not None:
        document["resourcePool"] = {"id": pool_id, "href": pool_href(pool_id)}
    return document


def availability_check_to_tmf(answers: Sequence[dict[str, Any]]) -> dict[str, Any]:
    enough = all(answer["availableQuantity"] >= answer["quantity"] for answer in answers)
    return {
        "@type": "AvailabilityCheck",
        "availabilityResult": "available" if enough else "unavailable",
        "checkedAt": clock.isoformat(clock.now()),
        "reservationItem": list(answers),
    }
