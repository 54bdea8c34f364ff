"""Helpers of the physical inventory API tests."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, select
from starlette.testclient import TestClient

from common.events import OutboxEvent

SITES = "/tmf-api/geographicSiteManagement/v4"
MERGE = {"Content-Type": "application/merge-patch+json"}


def point(latitude: float, longitude: float) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [longitude, latitude]}


def new_site(client: TestClient, name: str = "Paris CO", latitude: float | None = 48.8566, longitude: float = 2.3522,
             **extra: Any) -> dict[str, Any]:  # fmt: skip
    body: dict[str, Any] = {"name": name, **extra}
    if latitude is not None:
        body.setdefault("place", []).append(point(latitude, longitude))
    response = client.post(f"{SITES}/geographicSite", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def event_types(engine: Engine, api: str) -> list[str]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(OutboxEvent.event_type).where(OutboxEvent.api == api).order_by(OutboxEvent.seq)
        )
        return [row.event_type for row in rows]


DCIM = "/provisio/dcim/v1"
RI = "/tmf-api/resourceInventoryManagement/v4"


def created(response: Any) -> dict[str, Any]:
    assert response.status_code == 201, response.text
    return dict(response.json())


def new_rack(client: TestClient, site_id: str, name: str = "R1", height: int = 42) -> dict[str, Any]:
    return created(client.post(f"{DCIM}/rack", json={"siteId": site_id, "name": name, "height": height}))


def switch_type(client: TestClient, ports: int = 4, height: int = 1, model: str = "SW-4") -> dict[str, Any]:
    templates = [{"name": f"ge-0/0/{index}", "type": "1000base-t", "speed": 1_000_000} for index in range(ports)]
    return created(client.post(f"{DCIM}/deviceType", json={"manufacturer": "Acme", "model": model, "height": height,
                                                            "portTemplate": templates}))  # fmt: skip


def panel_type(client: TestClient, positions: int = 2, model: str = "PP-2") -> dict[str, Any]:
    templates = [{"name": f"rear{index}", "portClass": "rear", "type": "lc"} for index in range(positions)]
    templates += [
        {"name": f"front{index}", "portClass": "front", "rearPort": f"rear{index}", "type": "lc"}
        for index in range(positions)
    ]
    return created(client.post(f"{DCIM}/deviceType", json={"manufacturer": "Acme", "model": model, "height": 1,
                                                            "portTemplate": templates}))  # fmt: skip


def new_device(client: TestClient, type_id: str, name: str, **extra: Any) -> dict[str, Any]:
    return created(client.post(f"{DCIM}/device", json={"name": name, "deviceTypeId": type_id, **extra}))


def ports_of(client: TestClient, device_id: str) -> dict[str, dict[str, Any]]:
    response = client.get(f"{DCIM}/port?deviceId={device_id}&limit=1000")
    assert response.status_code == 200, response.text
    return {port["name"]: port for port in response.json()}


def cable(client: TestClient, a: str, b: str, **extra: Any) -> Any:
    return client.post(f"{DCIM}/cable", json={"aPortId": a, "bPortId": b, **extra})
