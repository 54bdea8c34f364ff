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
        rows = connection.execute(select(OutboxEvent.event_type).where(OutboxEvent.api == api).order_by(OutboxEvent.seq))
        return [row.event_type for row in rows]
