"""TMF685 reservations of real telephone numbers (the number provider registered from the number pool's
facade): hold with criteria, 409s, commit to assigned, release, TMF639 rows with the holds."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from tests.api.number_pool.helpers_numbers import BASE, RI, london

RP = "/tmf-api/resourcePoolManagement/v1"
MERGE = {"Content-Type": "application/merge-patch+json"}
ITEM = "TelephoneNumberReservationItem"


def item(pool: str, quantity: int = 1, **criteria: Any) -> dict[str, Any]:
    return {"@type": ITEM, "quantity": quantity, "resourceCapacity": {"resourcePool": {"id": pool}}, **criteria}


def reserve(client: TestClient, *items: dict[str, Any]) -> Any:
    body = {"reservationItem": list(items), "relatedParty": [{"id": "cust-1", "role": "customer"}]}
    return client.post(f"{RP}/reservation", json=body)


def values(body: dict[str, Any]) -> list[str]:
    return [r["value"] for i in body["reservationItem"] for r in i["appliedCapacityAmount"]["resource"]]


def test_a_reservation_holds_numbers_by_pattern_and_commit_assigns_them(client: TestClient, clean_db: Any) -> None:
    pool, _ = london(client)
    created = reserve(client, item(pool["id"], 2, pattern="*77*", policy="lowestFirst"))
    assert created.status_code == 201, created.text
    held = values(created.json())
    assert held == ["+442079460077", "+442079460177"]
    number = client.get(f"{BASE}/telephoneNumber/{held[0]}").json()
    assert number["state"] == "reserved" and number["reservationId"] == created.json()["id"]
    assert client.get(f"{RI}/resource/{number['resource']['id']}").json()["resourceStatus"] == "reserved"
    committed = client.patch(created.json()["href"], json={"reservationState": "committed"}, headers=MERGE)
    assert committed.status_code == 200, committed.text
    assert client.get(f"{BASE}/telephoneNumber/{held[0]}").json()["state"] == "assigned"


def test_a_golden_number_without_the_flag_is_a_409(client: TestClient, clean_db: Any) -> None:
    pool, _ = london(client)
    refused = reserve(client, item(pool["id"], number="+442079460000"))
    assert refused.status_code == 409, refused.text
    assert client.get(f"{BASE}/telephoneNumber/+442079460000").json()["state"] == "available"
    allowed = reserve(client, item(pool["id"], number="+442079460000", allowGolden=True))
    assert allowed.status_code == 201 and values(allowed.json()) == ["+442079460000"]


def test_an_exhausted_pool_is_a_409_and_holds_nothing(client: TestClient, clean_db: Any) -> None:
    pool, _ = london(client)
    refused = reserve(client, item(pool["id"], 2, pattern="*7777"))
    assert refused.status_code == 409, refused.text
    assert client.get(f"{BASE}/numberPool/{pool['id']}").json()["available"] == 1000


def test_release_returns_a_hold_to_available(client: TestClient, clean_db: Any) -> None:
    pool, _ = london(client)
    created = reserve(client, item(pool["id"], 3, contiguous=True)).json()
    released = client.patch(created["href"], json={"reservationState": "released"}, headers=MERGE)
    assert released.status_code == 200, released.text
    assert client.get(f"{BASE}/numberPool/{pool['id']}").json()["available"] == 1000


def test_the_pool_shows_in_tmf685_resource_pools(client: TestClient, clean_db: Any) -> None:
    pool, _ = london(client)
    listed = client.get(f"{RP}/resourcePool").json()
    mine = [p for p in listed if p["id"] == pool["id"]]
    assert mine and mine[0]["name"] == "London 020"


def test_a_number_a_reservation_holds_cannot_be_changed_behind_its_back(client: TestClient, clean_db: Any) -> None:
    pool, _ = london(client)
    held = values(reserve(client, item(pool["id"])).json())[0]
    response = client.patch(f"{BASE}/telephoneNumber/{held}", json={"state": "available"}, headers=MERGE)
    assert response.status_code == 409 and response.json()["code"] == "NUMBER_NOT_AVAILABLE"
    assert client.get(f"{BASE}/telephoneNumber/{held}").json()["state"] == "reserved"


def test_a_keyed_reservation_retried_holds_once_and_a_lost_answer_is_rendered_from_the_reservation(
    client: TestClient, clean_db: Any
) -> None:
    # Idempotency-Key meets a use case that writes several kinds of rows (reservation, items, numbers, TMF639
    # rows): the effect a lost answer is rendered from must be the reservation, whatever the flush order.
    from tests.api.idempotency.helpers_idempotency import answer, lose_answers

    pool, _ = london(client)
    body = {"reservationItem": [item(pool["id"], 2)], "relatedParty": [{"id": "cust-1", "role": "customer"}]}
    headers = {"Idempotency-Key": "order-42-numbers"}
    first = client.post(f"{RP}/reservation", json=body, headers=headers)
    assert first.status_code == 201, first.text
    replay = client.post(f"{RP}/reservation", json=body, headers=headers)
    assert replay.headers["Idempotent-Replayed"] == "true" and replay.content == first.content
    lose_answers(clean_db)
    rendered = client.post(f"{RP}/reservation", json=body, headers=headers)
    status, rendered_headers, _ = answer(rendered)
    assert status == 201, rendered.text
    assert rendered.json() == first.json() and rendered_headers["location"] == first.headers["Location"]
    assert len(client.get(f"{RP}/reservation").json()) == 1
    assert client.get(f"{BASE}/numberPool/{pool['id']}").json()["available"] == 998
