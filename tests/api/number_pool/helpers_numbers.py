"""Shared set-up of the number inventory API tests: fictional ranges only (+44 20 7946 0xxx, +1 202 555 01xx)."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

BASE = "/provisio/numberInventory/v1"
RI = "/tmf-api/resourceInventoryManagement/v4"
LONDON_FIRST, LONDON_LAST = "+442079460000", "+442079460999"
MERGE = {"Content-Type": "application/merge-patch+json"}


def new_pool(client: TestClient, name: str = "London 020", **extra: Any) -> dict[str, Any]:
    body = {"name": name, "region": "GB", "numberType": "fixedLine", "agingDays": 30, **extra}
    response = client.post(f"{BASE}/numberPool", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def new_block(client: TestClient, pool_id: str, first: str = LONDON_FIRST, last: str = LONDON_LAST) -> dict[str, Any]:
    response = client.post(f"{BASE}/numberBlock", json={"poolId": pool_id, "first": first, "last": last})
    assert response.status_code == 201, response.text
    return dict(response.json())


def london(client: TestClient, **extra: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    pool = new_pool(client, **extra)
    return pool, new_block(client, pool["id"])


def patch_number(client: TestClient, number: str, **body: Any) -> Any:
    return client.patch(f"{BASE}/telephoneNumber/{number}", json=body, headers=MERGE)
