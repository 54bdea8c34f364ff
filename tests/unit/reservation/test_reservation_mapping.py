"""TMF685 shapes of reservations, pools and availability answers, without a database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from common.tmf import parse_item_query
from oss.reservation import mapping
from oss.reservation.domain import ReservationData, ReservationItemData
from oss.reservation.provider import Availability, HeldResource, PoolView
from oss.reservation.repository import RESERVATION_QUERY

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
HELD = HeldResource("tn-1", "+442079460001", "TelephoneNumber", "pool-1")
ITEM = ReservationItemData(
    "i-1", "TelephoneNumberReservationItem", "number_pool", "pool-1", 1, {"prefix": "+44"}, "reserved", (HELD,)
)
RESERVATION = ReservationData(
    id="r-1",
    state="reserved",
    description=None,
    valid_from=NOW,
    valid_until=NOW + timedelta(minutes=15),
    expirable=True,
    related_party=({"id": "c-1", "role": "customer"},),
    related_entity=({"id": "q-1", "@referredType": "Quote", "role": "quote"},),
    attributes={"channelRef": {"id": "web"}},
    items=(ITEM,),
    created_at=NOW,
    updated_at=NOW,
    state_changed_at=NOW,
    state_change_reason=None,
)


def test_a_reservation_is_tmf685_with_valid_for_as_a_time_period() -> None:
    document = mapping.to_tmf(RESERVATION)
    assert document["href"].endswith("/tmf-api/resourcePoolManagement/v1/reservation/r-1")
    assert document["validFor"] == {
        "startDateTime": "2026-12-01T12:00:00.000Z",
        "endDateTime": "2026-12-01T12:15:00.000Z",
    }
    assert "valid_for" not in document and "description" not in document
    assert document["relatedEntity"] == [{"id": "q-1", "@referredType": "Quote", "role": "quote"}]
    assert document["channelRef"] == {"id": "web"}
    [item] = document["reservationItem"]
    assert item["prefix"] == "+44" and item["@baseType"] == "ReservationItem"
    assert item["resourceCapacity"]["resourcePool"]["id"] == "pool-1"
    assert item["appliedCapacityAmount"] == {
        "appliedDemandAmount": "1",
        "resource": [
            {"id": "tn-1", "name": "+442079460001", "value": "+442079460001", "@referredType": "TelephoneNumber"}
        ],
    }


def test_fields_project_a_reservation() -> None:
    fields = parse_item_query("fields=reservationState", RESERVATION_QUERY.members)
    assert mapping.to_tmf(RESERVATION, fields) == {
        "id": "r-1",
        "href": mapping.reservation_href("r-1"),
        "@type": "Reservation",
        "reservationState": "reserved",
    }


def test_items_split_into_tmf_attributes_and_criteria() -> None:
    [spec] = mapping.item_specs(
        [{"@type": "T", "quantity": 3, "resourceCapacity": {"resourcePool": {"id": "p"}}, "pattern": "*777*"}]
    )
    assert (spec.type, spec.pool_id, spec.quantity, dict(spec.criteria)) == ("T", "p", 3, {"pattern": "*777*"})
    [default] = mapping.item_specs([{"@type": "T"}])
    assert (default.pool_id, default.quantity) == (None, 1)


def test_pools_and_availability_answers() -> None:
    pool = mapping.pool_to_tmf(PoolView("p", "London", "TelephoneNumber", 100, 7, "number_pool"))
    assert pool["capacity"] == {"capacityAmount": 100, "availableCapacityAmount": 7} and pool["@type"] == "ResourcePool"
    spec = mapping.item_specs([{"@type": "T", "quantity": 2}])[0]
    answer = mapping.availability_to_tmf(spec, Availability("p", 2, 1, ("+1",)))
    assert answer == {
        "@type": "T",
        "quantity": 2,
        "availableQuantity": 1,
        "sample": ["+1"],
        "resourcePool": answer["resourcePool"],
    }
    assert mapping.availability_check_to_tmf([answer])["availabilityResult"] == "unavailable"
