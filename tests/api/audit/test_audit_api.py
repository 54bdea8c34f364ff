"""The audit trail through HTTP: TMF639 changes made as a user, listed per entity and per user."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

RI = "/tmf-api/resourceInventoryManagement/v4"
AUDIT = "/provisio/audit/v1"
MERGE_PATCH = {"content-type": "application/merge-patch+json"}


@pytest.fixture
def client(proxy_client: TestClient) -> TestClient:
    """Requests come through the trusted reverse proxy, which vouches for ``X-User`` (README "Authentication")."""
    return proxy_client


def as_user(user: str, request_id: str | None = None, **extra: str) -> dict[str, str]:
    headers = {"X-User": user, **extra}
    if request_id:
        headers["X-Request-ID"] = request_id
    return headers


def audit(client: TestClient, **params: Any) -> httpx.Response:
    response: httpx.Response = client.get(f"{AUDIT}/auditRecord", params=params)
    assert response.status_code == 200, response.text
    return response


@pytest.fixture
def lifecycle(client: TestClient) -> str:
    """alice creates, patches and deletes one resource; returns its id."""
    created = client.post(
        f"{RI}/resource", json={"name": "port-1", "resourceStatus": "available"}, headers=as_user("alice", "req-c")
    )
    assert created.status_code == 201, created.text
    resource_id = str(created.json()["id"])
    patched = client.patch(
        f"{RI}/resource/{resource_id}",
        json={"resourceStatus": "reserved", "description": "for order 42"},
        headers=as_user("alice", "req-p", **MERGE_PATCH),
    )
    assert patched.status_code == 200, patched.text
    deleted = client.delete(f"{RI}/resource/{resource_id}", headers=as_user("alice", "req-d"))
    assert deleted.status_code == 204
    return resource_id


def test_create_patch_delete_produce_three_records_newest_first(client: TestClient, lifecycle: str) -> None:
    response = audit(client, entityType="resource", entityId=lifecycle)
    deleted, updated, created = response.json()
    assert response.headers["X-Total-Count"] == "3" and response.headers["X-Result-Count"] == "3"

    assert [record["action"] for record in (created, updated, deleted)] == ["create", "update", "delete"]
    assert {record["actor"] for record in (created, updated, deleted)} == {"alice"}
    assert [record["requestId"] for record in (created, updated, deleted)] == ["req-c", "req-p", "req-d"]
    assert created["before"] is None and created["after"]["name"] == "port-1"
    assert created["after"]["resource_status"] == "available"
    # Only what changed (the model's attribute names), plus the change's own timestamp.
    assert updated["before"].pop("updated_at") <= updated["after"].pop("updated_at")
    assert updated["before"] == {"description": None, "resource_status": "available"}
    assert updated["after"] == {"description": "for order 42", "resource_status": "reserved"}
    assert deleted["after"] is None and deleted["before"]["resource_status"] == "reserved"
    assert deleted["href"].endswith(f"{AUDIT}/auditRecord/{deleted['id']}")


def test_failed_request_records_nothing(client: TestClient) -> None:
    bad = client.post(f"{RI}/resource", json={"resourceStatus": "not-a-status"}, headers=as_user("mallory"))
    assert bad.status_code == 400
    missing = client.patch(
        f"{RI}/resource/00000000-0000-0000-0000-000000000000",
        json={"name": "x"},
        headers=as_user("mallory", **MERGE_PATCH),
    )
    assert missing.status_code == 404
    assert audit(client, actor="mallory").json() == []
    assert audit(client).headers["X-Total-Count"] == "0"


def test_list_per_user_and_paging(client: TestClient, lifecycle: str) -> None:
    client.post(f"{RI}/resource", json={"name": "bob's"}, headers=as_user("bob"))

    alice = audit(client, actor="alice")
    assert len(alice.json()) == 3 and all(record["actor"] == "alice" for record in alice.json())
    bob = audit(client, actor="bob").json()
    assert [(record["actor"], record["action"]) for record in bob] == [("bob", "create")]

    page = audit(client, offset=1, limit=2)
    assert page.headers["X-Total-Count"] == "4" and page.headers["X-Result-Count"] == "2"
    everything = audit(client).json()
    assert [record["id"] for record in page.json()] == [record["id"] for record in everything[1:3]]


def test_filter_by_action_and_fields_projection(client: TestClient, lifecycle: str) -> None:
    records = audit(client, action="update", fields="actor").json()
    assert len(records) == 1
    assert set(records[0]) == {"id", "href", "@type", "actor"}


def test_retrieve_one_record_and_unknown_id_is_404(client: TestClient, lifecycle: str) -> None:
    first = audit(client).json()[0]
    response = client.get(f"{AUDIT}/auditRecord/{first['id']}")
    assert response.status_code == 200 and response.json() == first
    missing = client.get(f"{AUDIT}/auditRecord/999999")
    assert missing.status_code == 404 and missing.json()["@type"] == "Error"


def test_unknown_filter_attribute_is_a_400(client: TestClient) -> None:
    response = client.get(f"{AUDIT}/auditRecord", params={"colour": "red"})
    assert response.status_code == 400 and response.json()["@type"] == "Error"
