"""CPE inventory API (issue 18, "CPE"): models, units, the lifecycle with history and TMF639 rows, holds at
quote time through TMF685, picking, swap at install, stock levels and the low-stock event."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from common import clock
from common.events import OutboxEvent
from tests.api.cpe.helpers_cpe import (
    BASE,
    MERGE,
    RI,
    RP,
    WAREHOUSE,
    item,
    move,
    new_model,
    new_unit,
    pick,
    reserve,
    stock,
)


def _events(engine: Engine, event_type: str) -> list[dict[str, Any]]:
    with Session(engine) as session:
        rows = session.execute(select(OutboxEvent).where(OutboxEvent.event_type == event_type)).scalars()
        return [row.payload for row in rows]


def test_a_unit_goes_from_stock_to_install_to_refurbished_with_history_and_tmf639(client: TestClient) -> None:
    model = new_model(client)
    unit = new_unit(client, model["id"], 1)
    assert unit["state"] == "inStock" and unit["serialNumber"] == "SN000001" and "resource" not in unit
    assert client.get(f"{RI}/resource/{unit['id']}").status_code == 404  # plain stock: no TMF639 row

    held = reserve(client, item(model["id"]))
    assert held.status_code == 201, held.text
    reservation = held.json()
    assert stock(client, model["id"])["available"] == 0

    picked = pick(client, "sn000001", reservation)
    assert picked.status_code == 201, picked.text
    assert picked.json()["unit"]["state"] == "reserved"
    resource = client.get(f"{RI}/resource/{unit['id']}").json()
    assert resource["@type"] == "Cpe" and resource["@baseType"] == "PhysicalResource"
    assert resource["serialNumber"] == "SN000001"
    assert (resource["resourceStatus"], resource["usageState"]) == ("reserved", "idle")

    committed = client.patch(reservation["href"], json={"reservationState": "committed"}, headers=MERGE)
    assert committed.status_code == 200, committed.text
    assert client.get(f"{BASE}/cpeUnit/{unit['id']}").json()["state"] == "allocated"

    assert move(client, unit["id"], "shipped").status_code == 400  # carrier and tracking reference needed
    shipped = move(client, unit["id"], "shipped", carrier="DHL", trackingReference="JD0001")
    assert shipped.status_code == 201, shipped.text
    install = {"customerSiteId": "site-cust-9", "portId": "port-7", "scannedSerial": "SN000001"}
    installed = move(client, unit["id"], "installed", **install)
    assert installed.status_code == 201, installed.text
    assert installed.json()["unit"][0]["customerSiteId"] == "site-cust-9"
    resource = client.get(f"{RI}/resource/{unit['id']}").json()
    assert resource["place"]["id"] == "site-cust-9"
    assert resource["resourceRelationship"][0]["resource"]["id"] == "port-7"
    for state in ("active", "returned", "refurbished", "inStock"):
        moved = move(client, unit["id"], state, reason=f"to {state}")
        assert moved.status_code == 201, moved.text
    back = client.get(f"{BASE}/cpeUnit/{unit['id']}").json()
    assert back["state"] == "inStock" and "customerSiteId" not in back and back["resource"]["id"] == unit["id"]
    assert stock(client, model["id"])["available"] == 1
    resource = client.get(f"{RI}/resource/{unit['id']}").json()
    assert (resource["resourceStatus"], resource["usageState"]) == ("available", "idle")

    history = client.get(f"{BASE}/cpeUnit/{unit['id']}/history").json()
    steps = [(entry.get("fromState"), entry["toState"]) for entry in history]
    assert steps == [
        (None, "inStock"),
        ("inStock", "reserved"),
        ("reserved", "allocated"),
        ("allocated", "shipped"),
        ("shipped", "installed"),
        ("installed", "active"),
        ("active", "returned"),
        ("returned", "refurbished"),
        ("refurbished", "inStock"),
    ]
    assert history[1]["reservationId"] == reservation["id"] and history[1]["actor"]
    assert history[6]["reason"] == "to returned"


def test_a_forbidden_transition_is_a_409_naming_the_current_state(client: TestClient) -> None:
    model = new_model(client)
    unit = new_unit(client, model["id"], 1)
    refused = move(client, unit["id"], "active")
    assert refused.status_code == 409, refused.text
    body = refused.json()
    assert body["code"] == "INVALID_CPE_TRANSITION" and "inStock" in body["message"]
    assert client.get(f"{BASE}/cpeUnit/{unit['id']}/history").json()[-1]["toState"] == "inStock"
    assert move(client, unit["id"], "scrapped").status_code == 201
    assert move(client, unit["id"], "inStock").status_code == 409  # scrapped is final


def test_serial_and_mac_are_validated_and_unique(client: TestClient) -> None:
    model = new_model(client)
    new_unit(client, model["id"], 1)
    base = {"modelId": model["id"], "warehouseId": WAREHOUSE}
    bad_mac = client.post(f"{BASE}/cpeUnit", json={**base, "serialNumber": "SNX1", "macAddress": "zz:00:00:00:00:01"})
    assert bad_mac.status_code == 400 and "macAddress" in bad_mac.json()["message"], bad_mac.text
    multicast = client.post(f"{BASE}/cpeUnit", json={**base, "serialNumber": "SNX1", "macAddress": "01:00:5e:00:00:01"})
    assert multicast.status_code == 400, multicast.text
    same_serial = client.post(
        f"{BASE}/cpeUnit", json={**base, "serialNumber": "sn000001", "macAddress": "02:00:00:00:09:09"}
    )
    assert same_serial.status_code == 409 and same_serial.json()["code"] == "CPE_SERIAL_TAKEN", same_serial.text
    same_mac = client.post(f"{BASE}/cpeUnit", json={**base, "serialNumber": "SNX2", "macAddress": "0200.0000.0001"})
    assert same_mac.status_code == 409 and same_mac.json()["code"] == "CPE_MAC_TAKEN", same_mac.text
    assert stock(client, model["id"])["inStock"] == 1


def test_a_hold_beyond_the_stock_is_a_409_naming_model_and_stock_and_holds_nothing(client: TestClient) -> None:
    model = new_model(client, model="HG-200")
    new_unit(client, model["id"], 1)
    refused = reserve(client, item(model["id"], 2))
    assert refused.status_code == 409, refused.text
    body = refused.json()
    assert body["code"] == "CPE_OUT_OF_STOCK"
    assert "Acme HG-200" in body["message"] and WAREHOUSE in body["message"] and "1 in stock" in body["message"]
    assert stock(client, model["id"])["held"] == 0
    assert reserve(client, item(model["id"], 1)).status_code == 201
    assert reserve(client, item(model["id"], 1)).status_code == 409


def test_release_gives_back_the_count_and_the_picked_units(client: TestClient) -> None:
    model = new_model(client)
    new_unit(client, model["id"], 1)
    new_unit(client, model["id"], 2)
    reservation = reserve(client, item(model["id"], 2)).json()
    assert pick(client, "SN000001", reservation).status_code == 201
    level = stock(client, model["id"])
    assert (level["inStock"], level["held"], level["available"]) == (1, 1, 0)
    released = client.patch(reservation["href"], json={"reservationState": "released"}, headers=MERGE)
    assert released.status_code == 200, released.text
    level = stock(client, model["id"])
    assert (level["inStock"], level["held"], level["available"]) == (2, 0, 2)
    units = client.get(f"{BASE}/cpeUnit?serialNumber=SN000001").json()
    assert units[0]["state"] == "inStock" and "reservationId" not in units[0]
    assert pick(client, "SN000002", reservation).status_code == 409  # the hold is gone


def test_picking_checks_model_warehouse_and_count(client: TestClient) -> None:
    model = new_model(client)
    other = new_model(client, model="HG-300")
    new_unit(client, model["id"], 1)
    new_unit(client, model["id"], 2)
    new_unit(client, other["id"], 3)
    new_unit(client, model["id"], 4, warehouse="site-warehouse-2")
    reservation = reserve(client, item(model["id"], 1)).json()
    wrong_model = pick(client, "SN000003", reservation)
    assert wrong_model.status_code == 400 and wrong_model.json()["code"] == "CPE_UNIT_NOT_OF_HOLD", wrong_model.text
    assert pick(client, "SN000004", reservation).status_code == 400
    assert pick(client, "SN000001", reservation).status_code == 201
    exhausted = pick(client, "SN000002", reservation)
    assert exhausted.status_code == 409 and exhausted.json()["code"] == "CPE_HOLD_EXHAUSTED", exhausted.text


def test_the_technician_may_swap_in_another_unit_of_the_model_at_install(client: TestClient) -> None:
    model = new_model(client)
    other = new_model(client, model="HG-300")
    planned = new_unit(client, model["id"], 1)
    van = new_unit(client, model["id"], 2, warehouse="site-van-7")
    new_unit(client, other["id"], 3, warehouse="site-van-7")
    reservation = reserve(client, item(model["id"])).json()
    pick(client, "SN000001", reservation)
    move(client, planned["id"], "allocated", orderItemId="oi-1")
    move(client, planned["id"], "shipped", carrier="UPS", trackingReference="1Z")
    install = {"customerSiteId": "site-cust-1", "portId": "port-1"}
    unknown = move(client, planned["id"], "installed", scannedSerial="NOPE42", **install)
    assert unknown.status_code == 409 and unknown.json()["code"] == "CPE_SERIAL_MISMATCH", unknown.text
    other_model = move(client, planned["id"], "installed", scannedSerial="SN000003", **install)
    assert other_model.status_code == 409 and "another model" in other_model.json()["message"]
    swapped = move(client, planned["id"], "installed", scannedSerial="SN000002", **install)
    assert swapped.status_code == 201, swapped.text
    first, second = swapped.json()["unit"]
    assert (first["id"], first["state"], first["orderItemId"]) == (van["id"], "installed", "oi-1")
    assert first["reservationId"] == reservation["id"]
    assert (second["id"], second["state"]) == (planned["id"], "returned")
    assert stock(client, model["id"], "site-van-7")["inStock"] == 0
    history = client.get(f"{BASE}/cpeUnit/{van['id']}/history").json()
    assert [(e.get("fromState"), e["toState"]) for e in history] == [(None, "inStock"), ("inStock", "installed")]
    assert "swapped in" in history[-1]["reason"]


def test_stock_levels_thresholds_and_the_low_stock_event(client: TestClient, clean_db: Engine) -> None:
    model = new_model(client)
    for n in range(1, 4):
        new_unit(client, model["id"], n)
    level = stock(client, model["id"])
    changed = client.patch(f"{BASE}/stockLevel/{level['id']}", json={"threshold": 2}, headers=MERGE)
    assert changed.status_code == 200 and changed.json()["threshold"] == 2, changed.text
    assert _events(clean_db, "StockLevelLowEvent") == []
    assert reserve(client, item(model["id"])).status_code == 201  # 3 -> 2 available: not under 2
    assert _events(clean_db, "StockLevelLowEvent") == []
    assert reserve(client, item(model["id"])).status_code == 201  # 2 -> 1: under the threshold
    low = _events(clean_db, "StockLevelLowEvent")
    assert len(low) == 1
    assert low[0]["event"]["stockLevel"]["available"] == 1 and low[0]["event"]["stockLevel"]["low"] is True
    assert reserve(client, item(model["id"])).status_code == 201  # 1 -> 0: still low, no second event
    assert len(_events(clean_db, "StockLevelLowEvent")) == 1
    other = client.post(f"{BASE}/stockLevel", json={"modelId": model["id"], "warehouseId": "site-w9", "threshold": 1})
    assert other.status_code == 201, other.text
    assert other.json()["available"] == 0 and other.json()["low"] is True
    assert len(_events(clean_db, "StockLevelLowEvent")) == 2
    pools = client.get(f"{RP}/resourcePool").json()
    assert {pool["id"] for pool in pools} >= {level["id"], other.json()["id"]}


def test_a_hold_may_name_its_stock_as_the_resource_pool(client: TestClient) -> None:
    model = new_model(client)
    new_unit(client, model["id"], 1)
    level = stock(client, model["id"])
    body = {"@type": "CpeReservationItem", "quantity": 1, "resourceCapacity": {"resourcePool": {"id": level["id"]}}}
    held = reserve(client, body)
    assert held.status_code == 201, held.text
    resources = held.json()["reservationItem"][0]["appliedCapacityAmount"]["resource"]
    assert len(resources) == 1 and resources[0]["@referredType"] == "CpeStockHold"
    assert "Acme HG-100" in resources[0]["value"]
    assert reserve(client, {**body, "resourceCapacity": {"resourcePool": {"id": "nope"}}}).status_code == 404
    assert reserve(client, {"@type": "CpeReservationItem", "quantity": 1}).status_code == 400


def test_tmf639_refuses_writes_to_cpe_resources(client: TestClient) -> None:
    model = new_model(client)
    unit = new_unit(client, model["id"], 1)
    move(client, unit["id"], "rma")
    patched = client.patch(f"{RI}/resource/{unit['id']}", json={"description": "x"}, headers=MERGE)
    assert patched.status_code == 409 and patched.json()["code"] == "OWNED_BY_CPE", patched.text


def test_lists_filter_page_and_project(client: TestClient) -> None:
    model = new_model(client)
    for n in range(1, 6):
        new_unit(client, model["id"], n)
    page = client.get(f"{BASE}/cpeUnit?modelId={model['id']}&limit=2&offset=1&fields=serialNumber")
    assert page.status_code == 200, page.text
    assert page.headers["X-Total-Count"] == "5" and page.headers["X-Result-Count"] == "2"
    assert [unit["serialNumber"] for unit in page.json()] == ["SN000002", "SN000003"]
    assert set(page.json()[0]) == {"id", "href", "@type", "serialNumber"}
    assert client.get(f"{BASE}/cpeModel?manufacturer=Acme").json()[0]["id"] == model["id"]
    assert client.get(f"{BASE}/cpeUnit?state=bogus").status_code == 400


@pytest.fixture
def fixed_clock() -> Iterator[clock.FixedClock]:
    fixed = clock.FixedClock(datetime(2026, 12, 1, 12, 0, tzinfo=UTC))
    previous = clock.set_clock(fixed)
    yield fixed
    clock.set_clock(previous)


def test_an_expired_hold_gives_its_count_and_picked_units_back(
    client: TestClient, fixed_clock: clock.FixedClock
) -> None:
    from oss.reservation import expire_due_reservations
    from server import deps

    model = new_model(client)
    for n in (1, 2, 3):
        new_unit(client, model["id"], n)
    reservation = reserve(client, item(model["id"], 3)).json()
    assert pick(client, "SN000001", reservation).status_code == 201
    assert stock(client, model["id"])["available"] == 0
    fixed_clock.advance(timedelta(days=2))
    assert expire_due_reservations(deps.uow, fixed_clock.now()) == 1
    level = stock(client, model["id"])
    assert (level["inStock"], level["held"], level["available"]) == (3, 0, 3)
    unit = client.get(f"{BASE}/cpeUnit?serialNumber=SN000001").json()[0]
    assert unit["state"] == "inStock"
    history = client.get(f"{BASE}/cpeUnit/{unit['id']}/history").json()
    assert history[-1]["reason"] == "reservation expired" and history[-1]["fromState"] == "reserved"


def test_a_cancelled_allocation_returns_the_unit_and_the_hold_counts_it_again(client: TestClient) -> None:
    model = new_model(client)
    unit = new_unit(client, model["id"], 1)
    new_unit(client, model["id"], 2)
    reservation = reserve(client, item(model["id"])).json()
    pick(client, "SN000001", reservation)
    assert client.patch(reservation["href"], json={"reservationState": "committed"}, headers=MERGE).status_code == 200
    assert client.get(f"{BASE}/cpeUnit/{unit['id']}").json()["state"] == "allocated"
    cancelled = move(client, unit["id"], "inStock", reason="order item cancelled")
    assert cancelled.status_code == 201, cancelled.text
    level = stock(client, model["id"])
    assert (level["inStock"], level["held"], level["available"]) == (2, 1, 1)
    # The committed hold picks again, and its new unit is allocated at once.
    again = pick(client, "SN000002", reservation)
    assert again.status_code == 201 and again.json()["unit"]["state"] == "allocated", again.text


def test_a_unit_every_hold_counts_cannot_leave_stock_unpicked(client: TestClient) -> None:
    model = new_model(client)
    unit = new_unit(client, model["id"], 1)
    assert reserve(client, item(model["id"])).status_code == 201
    refused = move(client, unit["id"], "scrapped")
    assert refused.status_code == 409 and refused.json()["code"] == "CPE_OUT_OF_STOCK", refused.text
    assert client.get(f"{BASE}/cpeUnit/{unit['id']}").json()["state"] == "inStock"
    assert client.get(f"{RI}/resource/{unit['id']}").status_code == 404  # rolled back with the refusal
