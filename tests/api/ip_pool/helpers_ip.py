"""Shared set-up of the IPAM API tests: documentation ranges only (192.0.2.0/24, 198.51.100.0/24,
203.0.113.0/24, 2001:db8::/32)."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

BASE = "/provisio/ipam/v1"
RI = "/tmf-api/resourceInventoryManagement/v4"
MERGE = {"Content-Type": "application/merge-patch+json"}


def new_prefix(client: TestClient, prefix: str, **extra: Any) -> dict[str, Any]:
    response = client.post(f"{BASE}/prefix", json={"prefix": prefix, **extra})
    assert response.status_code == 201, response.text
    return dict(response.json())


def allocate(client: TestClient, prefix_id: str, **body: Any) -> Any:
    return client.post(f"{BASE}/prefix/{prefix_id}/availableIp", json=body)


def prefix(client: TestClient, prefix_id: str) -> dict[str, Any]:
    response = client.get(f"{BASE}/prefix/{prefix_id}")
    assert response.status_code == 200, response.text
    return dict(response.json())
