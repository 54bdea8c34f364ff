"""Shared set-up of the CPE API tests: a model, units at a warehouse, reservations holding its stock."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

BASE = "/provisio/cpe/v1"
RI = "/tmf-api/resourceInventoryManagement/v4"
RP = "/tmf-api/resourcePoolManagement/v1"
MERGE = {"Content-Type": "application/merge-patch+json"}
ITEM = "CpeReservationItem"
WAREHOUSE = "site-warehouse-1"


def new_model(client: TestClient, manufacturer: str = "Acme", model: str = "HG-100", **extra: Any) -> dict[str, Any]:
    response = client.post(f"{BASE}/cpeModel", json={"manufacturer": manufacturer, "model": model, **extra})
    assert response.status_code == 201, response.text
    return dict(response.json())


def new_unit(client: TestClient, model_id: str, n: int, warehouse: str = WAREHOUSE, **extra: Any) -> dict[str, Any]:
    body = {
        "modelId": model_id,
        "serialNumber": f"SN{n:06d}",
        "macAddress": f"02:00:00:00:{n // 256:02x}:{n % 256:02x}",
        "warehouseId": warehouse,
        **extra,
    }
    response = client.post(f"{BASE}/cpeUnit", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def item(model_id: str, quantity: int = 1, warehouse: str = WAREHOUSE, **extra: Any) -> dict[str, Any]:
    return {"@type": ITEM, "quantity": quantity, "modelId": model_id, "warehouseId": warehouse, **extra}


def reserve(client: TestClient, *items: dict[str, Any]) -> Any:
    return client.post(f"{RP}/reservation", json={"reservationItem": list(items)})


def stock(client: TestClient, model_id: str, warehouse: str = WAREHOUSE) -> dict[str, Any]:
    response = client.get(f"{BASE}/stockLevel?modelId={model_id}&warehouseId={warehouse}")
    assert response.status_code == 200, response.text
    levels = response.json()
    assert len(levels) == 1, levels
    return dict(levels[0])


def move(client: TestClient, unit_id: str, state: str, **extra: Any) -> Any:
    return client.post(f"{BASE}/cpeStateChange", json={"unit": unit_id, "state": state, **extra})


def pick(client: TestClient, serial: str, reservation: dict[str, Any], index: int = 0) -> Any:
    item_id = reservation["reservationItem"][index]["id"]
    return client.post(f"{BASE}/cpePick", json={"serialNumber": serial, "reservationItemId": item_id})
