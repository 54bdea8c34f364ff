"""TMF685 reservations over HTTP: all-or-nothing holds across providers, commit / release / extend /
transfer by PATCH, expiry decided at commit time, typed item criteria, pools and availability checks."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, func, select
from starlette.testclient import TestClient

from common import clock
from common.events import OutboxEvent
from oss.reservation.models import ReservationHoldRow, ReservationRow
from tests.api.reservation.helpers import MERGE_PATCH, RP, address_item, held_values, number_item, reservation


def _create(client: TestClient, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(f"{RP}/reservation", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def _count(engine: Engine, table: Any) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(table)).scalar_one())


def test_create_holds_items_of_two_providers_in_one_call(client: TestClient, providers: Any, clean_db: Engine) -> None:
    numbers, addresses = providers
    response = client.post(f"{RP}/reservation", json=reservation(number_item(3), address_item(2)))
    assert response.status_code == 201, response.text
    body = response.json()
    assert response.headers["Location"] == body["href"]
    assert body["reservationState"] == "reserved" and body["@type"] == "Reservation"
    assert set(body["validFor"]) == {"startDateTime", "endDateTime"}
    assert body["relatedParty"] == [{"id": "cust-1", "role": "customer"}]
    assert held_values(body) == ["+442079460000", "+442079460001", "+442079460002", "192.0.2.1", "192.0.2.2"]
    first = body["reservationItem"][0]
    assert first["subReservationState"] == "reserved" and first["appliedCapacityAmount"]["appliedDemandAmount"] == "3"
    assert first["resourceCapacity"]["resourcePool"]["id"] == "fake-numbers-a"
    assert numbers.states(clean_db)["reserved"] == 3 and addresses.states(clean_db)["reserved"] == 2
    again = client.get(body["href"])
    assert again.status_code == 200 and again.json() == body


def test_one_unavailable_item_holds_nothing_and_the_409_says_what_is_available(
    client: TestClient, providers: Any, clean_db: Engine
) -> None:
    numbers, addresses = providers
    response = client.post(f"{RP}/reservation", json=reservation(number_item(3), address_item(5)))
    assert response.status_code == 409, response.text
    error = response.json()
    assert error["code"] == "RESOURCE_UNAVAILABLE" and error["@type"] == "Error"
    assert error["details"]["unavailableItem"] == 1
    availability = error["details"]["availability"]
    assert availability[0]["availableQuantity"] == 20 and availability[0]["quantity"] == 3
    assert availability[1]["availableQuantity"] == 4 and availability[1]["quantity"] == 5
    assert availability[1]["sample"] == ["192.0.2.1", "192.0.2.2", "192.0.2.3"]
    # The first provider's holds were rolled back with the reservation: nothing is held anywhere.
    assert numbers.states(clean_db) == {"available": 25} and addresses.states(clean_db) == {"available": 4}
    assert _count(clean_db, ReservationRow.__table__) == 0
    assert _count(clean_db, ReservationHoldRow.__table__) == 0
    assert _count(clean_db, OutboxEvent.__table__) == 0


def test_commit_assigns_and_then_state_is_final(client: TestClient, providers: Any, clean_db: Engine) -> None:
    numbers, _ = providers
    body = _create(client, reservation(number_item(2)))
    committed = client.patch(body["href"], json={"reservationState": "committed"}, headers=MERGE_PATCH)
    assert committed.status_code == 200, committed.text
    assert committed.json()["reservationState"] == "committed"
    assert committed.json()["reservationItem"][0]["subReservationState"] == "committed"
    assert numbers.states(clean_db)["assigned"] == 2
    released = client.patch(body["href"], json={"reservationState": "released"}, headers=MERGE_PATCH)
    assert released.status_code == 409 and released.json()["code"] == "INVALID_STATE_TRANSITION"
    assert released.json()["details"]["reservationState"] == "committed"
    same = client.patch(body["href"], json={"reservationState": "committed"}, headers=MERGE_PATCH)
    assert same.status_code == 200  # the current state: nothing changes


def test_release_gives_everything_back(client: TestClient, providers: Any, clean_db: Engine) -> None:
    numbers, addresses = providers
    body = _create(client, reservation(number_item(2), address_item(1)))
    released = client.patch(body["href"], json={"reservationState": "released"}, headers=MERGE_PATCH)
    assert released.status_code == 200 and released.json()["reservationState"] == "released"
    assert numbers.states(clean_db) == {"available": 25} and addresses.states(clean_db) == {"available": 4}
    assert ("release:released", body["id"]) in numbers.calls


def test_client_cannot_set_expired(client: TestClient, providers: Any) -> None:
    body = _create(client, reservation(number_item()))
    response = client.patch(body["href"], json={"reservationState": "expired"}, headers=MERGE_PATCH)
    assert response.status_code == 409 and response.json()["code"] == "INVALID_STATE_TRANSITION"


def test_commit_after_validity_is_409_and_expires_it_without_a_sweeper(
    client: TestClient, providers: Any, clean_db: Engine, fixed_clock: clock.FixedClock
) -> None:
    numbers, _ = providers
    end = clock.isoformat(fixed_clock.now() + timedelta(minutes=5))
    body = _create(client, reservation(number_item(2), validFor={"endDateTime": end}))
    fixed_clock.advance(timedelta(minutes=5, milliseconds=1))
    response = client.patch(body["href"], json={"reservationState": "committed"}, headers=MERGE_PATCH)
    assert response.status_code == 409, response.text
    assert response.json()["code"] == "RESERVATION_EXPIRED"
    after = client.get(body["href"]).json()
    assert after["reservationState"] == "expired" and after["stateChangeReason"]
    assert numbers.states(clean_db) == {"available": 25}
    assert [call for call, _ in numbers.calls] == ["hold", "release:expired"]


def test_commit_exactly_at_the_end_is_still_valid(
    client: TestClient, providers: Any, fixed_clock: clock.FixedClock
) -> None:
    end = fixed_clock.now() + timedelta(minutes=5)
    body = _create(client, reservation(number_item(), validFor={"endDateTime": clock.isoformat(end)}))
    fixed_clock.advance(timedelta(minutes=5))
    response = client.patch(body["href"], json={"reservationState": "committed"}, headers=MERGE_PATCH)
    assert response.status_code == 200, response.text


def test_extend_moves_the_end_and_tells_the_provider(
    client: TestClient, providers: Any, fixed_clock: clock.FixedClock
) -> None:
    numbers, _ = providers
    body = _create(client, reservation(number_item()))
    later = clock.isoformat(fixed_clock.now() + timedelta(hours=2))
    response = client.patch(body["href"], json={"validFor": {"endDateTime": later}}, headers=MERGE_PATCH)
    assert response.status_code == 200, response.text
    assert response.json()["validFor"]["endDateTime"] == later
    assert ("extend", body["id"]) in numbers.calls
    fixed_clock.advance(timedelta(hours=1))
    assert client.patch(body["href"], json={"reservationState": "committed"}, headers=MERGE_PATCH).status_code == 200


def test_extend_into_the_past_is_a_400(client: TestClient, providers: Any, fixed_clock: clock.FixedClock) -> None:
    body = _create(client, reservation(number_item()))
    past = clock.isoformat(fixed_clock.now() - timedelta(minutes=1))
    response = client.patch(body["href"], json={"validFor": {"endDateTime": past}}, headers=MERGE_PATCH)
    assert response.status_code == 400 and response.json()["code"] == "INVALID_RESERVATION"


def test_transfer_from_quote_to_order_item_in_delivery_never_expires(
    client: TestClient, providers: Any, clean_db: Engine, fixed_clock: clock.FixedClock
) -> None:
    from oss.reservation import expire_due_reservations
    from server import deps

    quote = [{"id": "q-1", "@referredType": "Quote", "role": "quote"}]
    body = _create(client, reservation(number_item(), relatedEntity=quote))
    order = [{"id": "oi-7", "@referredType": "ProductOrderItem", "role": "inDelivery"}]
    moved = client.patch(body["href"], json={"relatedEntity": order}, headers=MERGE_PATCH)
    assert moved.status_code == 200, moved.text
    assert moved.json()["relatedEntity"] == order
    fixed_clock.advance(timedelta(hours=1))
    assert expire_due_reservations(deps.uow, fixed_clock.now()) == 0
    listed = client.get(f"{RP}/reservation?relatedEntity.id=oi-7")
    assert [found["id"] for found in listed.json()] == [body["id"]]
    committed = client.patch(body["href"], json={"reservationState": "committed"}, headers=MERGE_PATCH)
    assert committed.status_code == 200, committed.text


def test_transfer_of_an_expired_hold_is_409(client: TestClient, providers: Any, fixed_clock: clock.FixedClock) -> None:
    body = _create(client, reservation(number_item()))
    fixed_clock.advance(timedelta(hours=1))
    order = [{"id": "oi-7", "role": "inDelivery"}]
    response = client.patch(body["href"], json={"relatedEntity": order}, headers=MERGE_PATCH)
    assert response.status_code == 409 and response.json()["code"] == "RESERVATION_EXPIRED"


def test_unknown_criterion_is_a_400_naming_it(client: TestClient, providers: Any, clean_db: Engine) -> None:
    response = client.post(f"{RP}/reservation", json=reservation(number_item(patern="*777*")))
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "UNKNOWN_ATTRIBUTE" and "'patern'" in response.json()["message"]
    assert _count(clean_db, ReservationRow.__table__) == 0


def test_criterion_with_a_bad_value_is_a_400(client: TestClient, providers: Any) -> None:
    response = client.post(f"{RP}/reservation", json=reservation(number_item(policy="sideways")))
    assert response.status_code == 400 and response.json()["code"] == "INVALID_CRITERION"


def test_criteria_choose_what_is_held(client: TestClient, providers: Any) -> None:
    body = _create(client, reservation(number_item(2, policy="highestFirst"), number_item(1, prefix="+4420794600")))
    assert held_values(body) == ["+442079460019", "+442079460018", "+442079460000"]
    assert body["reservationItem"][0]["policy"] == "highestFirst"


def test_unknown_item_type_is_a_400(client: TestClient, providers: Any) -> None:
    response = client.post(f"{RP}/reservation", json=reservation({"@type": "UnicornReservationItem"}))
    assert response.status_code == 400 and response.json()["code"] == "UNKNOWN_RESERVATION_ITEM_TYPE"


def test_unknown_pool_is_a_404(client: TestClient, providers: Any) -> None:
    response = client.post(f"{RP}/reservation", json=reservation(number_item(pool="nope")))
    assert response.status_code == 404 and response.json()["code"] == "RESOURCE_POOL_NOT_FOUND"


def test_item_without_pool_lets_the_provider_choose(client: TestClient, providers: Any) -> None:
    body = _create(client, reservation(number_item(21, pool=None)))
    assert len(held_values(body)) == 21


def test_unknown_reservation_is_a_404(client: TestClient, providers: Any) -> None:
    assert client.get(f"{RP}/reservation/nope").status_code == 404
    response = client.patch(f"{RP}/reservation/nope", json={"reservationState": "released"}, headers=MERGE_PATCH)
    assert response.status_code == 404 and response.json()["code"] == "RESERVATION_NOT_FOUND"


def test_list_filters_and_projects(client: TestClient, providers: Any) -> None:
    first = _create(client, reservation(number_item()))
    second = _create(client, reservation(address_item()))
    client.patch(second["href"], json={"reservationState": "released"}, headers=MERGE_PATCH)
    listed = client.get(f"{RP}/reservation?reservationState=reserved&fields=reservationState")
    assert listed.status_code == 200, listed.text
    assert listed.json() == [
        {"id": first["id"], "href": first["href"], "@type": "Reservation", "reservationState": "reserved"}
    ]
    assert listed.headers["X-Total-Count"] == "1"
    everything = client.get(f"{RP}/reservation?sort=-creationDate")
    assert everything.headers["X-Total-Count"] == "2"


def test_events_of_a_reservation_lifecycle(client: TestClient, providers: Any, clean_db: Engine) -> None:
    body = _create(client, reservation(number_item()))
    client.patch(body["href"], json={"description": "for the PBX"}, headers=MERGE_PATCH)
    client.patch(body["href"], json={"reservationState": "committed"}, headers=MERGE_PATCH)
    with clean_db.connect() as connection:
        types = list(connection.execute(select(OutboxEvent.event_type).order_by(OutboxEvent.seq)).scalars())
    assert types == ["ReservationCreateEvent", "ReservationAttributeValueChangeEvent", "ReservationStateChangeEvent"]


def test_pools_of_every_provider(client: TestClient, providers: Any) -> None:
    _create(client, reservation(number_item(2)))
    listed = client.get(f"{RP}/resourcePool")
    assert listed.status_code == 200, listed.text
    pools = {pool["id"]: pool for pool in listed.json()}
    assert {"fake-numbers-a", "fake-numbers-b", "fake-addresses"} <= set(pools)
    assert pools["fake-numbers-a"]["capacity"] == {"capacityAmount": 20, "availableCapacityAmount": 18}
    assert pools["fake-addresses"]["provider"] == "fake_addresses"
    filtered = client.get(f"{RP}/resourcePool?resourceType=IPAddress&fields=name")
    assert [pool["id"] for pool in filtered.json()] == ["fake-addresses"]
    small = client.get(f"{RP}/resourcePool?capacity.capacityAmount.lt=10&sort=-capacity.capacityAmount")
    assert [pool["id"] for pool in small.json()] == ["fake-numbers-b", "fake-addresses"]
    one = client.get(f"{RP}/resourcePool/fake-numbers-b")
    assert one.status_code == 200 and one.json()["capacity"]["capacityAmount"] == 5
    assert client.get(f"{RP}/resourcePool/nope").status_code == 404


def test_availability_check_holds_nothing(client: TestClient, providers: Any, clean_db: Engine) -> None:
    numbers, _ = providers
    body = {"reservationItem": [number_item(2, prefix="+44207946001"), address_item(9)]}
    response = client.post(f"{RP}/availabilityCheck", json=body)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["availabilityResult"] == "unavailable"
    assert answer["reservationItem"][0]["availableQuantity"] == 10
    assert answer["reservationItem"][0]["sample"] == ["+442079460010", "+442079460011", "+442079460012"]
    assert answer["reservationItem"][1]["availableQuantity"] == 4
    assert numbers.states(clean_db) == {"available": 25}
    assert _count(clean_db, ReservationRow.__table__) == 0


def test_fields_inside_items_keep_what_the_item_schema_requires(client: TestClient, providers: Any) -> None:
    body = _create(client, reservation(number_item(2)))
    response = client.get(f"{body['href']}?fields=reservationItem.quantity")
    assert response.status_code == 200, response.text
    item = response.json()["reservationItem"][0]
    assert item["quantity"] == 2 and "appliedCapacityAmount" not in item
    assert client.get(f"{body['href']}?fields=bogus").json()["code"] == "UNKNOWN_FIELD"


def test_hub_listeners_get_reservation_events(client: TestClient, providers: Any, clean_db: Engine) -> None:
    from common.events import EventDelivery

    listener = client.post(f"{RP}/hub", json={"callback": "http://127.0.0.1:9/reservations"})
    assert listener.status_code == 201, listener.text
    assert client.get(f"{RP}/hub/{listener.json()['id']}").status_code == 200
    ri_hub = client.get(f"/tmf-api/resourceInventoryManagement/v4/hub/{listener.json()['id']}")
    assert ri_hub.status_code == 404  # hubs are per API
    _create(client, reservation(number_item()))
    assert _count(clean_db, EventDelivery.__table__) == 1
    filtered = client.post(
        f"{RP}/hub", json={"callback": "http://127.0.0.1:9/x", "query": "eventType=ReservationStateChangeEvent"}
    )
    assert filtered.status_code == 201, filtered.text
    bad = client.post(f"{RP}/hub", json={"callback": "http://127.0.0.1:9/x", "query": "eventType=ResourceCreateEvent"})
    assert bad.status_code == 400


def test_a_provider_refusal_of_its_own_rolls_everything_back(
    client: TestClient, providers: Any, clean_db: Engine
) -> None:
    numbers, addresses = providers
    # The second item names a pool the provider does not know: its 404 takes the first item's holds back too.
    response = client.post(f"{RP}/reservation", json=reservation(address_item(2), number_item(pool="nope")))
    assert response.status_code == 404
    assert addresses.states(clean_db) == {"available": 4} and numbers.states(clean_db) == {"available": 25}
    assert _count(clean_db, ReservationRow.__table__) == 0


def test_etags_make_changes_conditional(client: TestClient, providers: Any, clean_db: Engine) -> None:
    numbers, _ = providers
    created = client.post(f"{RP}/reservation", json=reservation(number_item()))
    tag = created.headers["ETag"]
    assert tag == '"1"'
    fetched = client.get(created.json()["href"])
    assert fetched.headers["ETag"] == tag
    assert client.get(created.json()["href"], headers={"If-None-Match": tag}).status_code == 304
    changed = client.patch(
        created.json()["href"], json={"description": "pbx"}, headers={**MERGE_PATCH, "If-Match": tag}
    )
    assert changed.status_code == 200 and changed.headers["ETag"] != tag
    stale = client.patch(
        created.json()["href"], json={"reservationState": "committed"}, headers={**MERGE_PATCH, "If-Match": tag}
    )
    assert stale.status_code == 412, stale.text
    assert client.get(created.json()["href"]).json()["reservationState"] == "reserved"
    assert "assigned" not in numbers.states(clean_db)
