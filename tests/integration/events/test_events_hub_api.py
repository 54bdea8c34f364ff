"""POST /hub and DELETE /hub/{id} through HTTP (TMF630 hub), and the event operations of the ops API."""

from __future__ import annotations

import pytest
from helpers_events import deliveries
from sqlalchemy import Engine
from starlette.testclient import TestClient

from common import events
from common.uow import UnitOfWork
from server.db import make_session_factory

pytestmark = pytest.mark.integration

HUB = "/tmf-api/resourceInventoryManagement/v4/hub"
OPS = "/provisio/audit/v1"


def test_register_answers_201_with_the_subscription_and_location(client: TestClient) -> None:
    body = {"callback": "http://127.0.0.1:9999/listener", "query": "eventType=ResourceCreateEvent"}
    response = client.post(HUB, json=body, headers={"X-User": "crm"})
    assert response.status_code == 201, response.text
    created = response.json()
    assert created == {"id": created["id"], **body, "secret": created["secret"]}
    assert response.headers["Location"] == f"http://testserver{HUB}/{created['id']}"

    [listed] = client.get(f"{OPS}/eventSubscription").json()
    assert (listed["id"], listed["api"], listed["createdBy"]) == (created["id"], "resourceInventoryManagement", "crm")


def test_register_without_query_gets_everything(client: TestClient) -> None:
    response = client.post(HUB, json={"callback": "https://listener.example.net/events"})
    assert response.status_code == 201
    assert "query" not in response.json()


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"callback": "ftp://127.0.0.1/x"}, "INVALID_CALLBACK"),
        ({"callback": "not a url"}, "INVALID_CALLBACK"),
        ({"callback": "http:///no-host"}, "INVALID_CALLBACK"),
        ({"callback": "http://127.0.0.1:99999/x"}, "INVALID_CALLBACK"),
        ({"callback": "http://127.0.0.1:9/x", "query": "eventType"}, "INVALID_QUERY"),
        ({"callback": "http://127.0.0.1:9/x", "query": "colour=red"}, "INVALID_QUERY"),
        ({"callback": "http://127.0.0.1:9/x", "query": "eventType=ServiceCreateEvent"}, "INVALID_QUERY"),
    ],
)
def test_bad_callback_or_query_is_a_400_at_registration(client: TestClient, body: dict[str, str], code: str) -> None:
    response = client.post(HUB, json=body)
    assert response.status_code == 400, response.text
    assert response.json()["@type"] == "Error" and response.json()["code"] == code
    assert client.get(f"{OPS}/eventSubscription").json() == []


def test_register_without_callback_is_a_400(client: TestClient) -> None:
    response = client.post(HUB, json={"query": "eventType=ResourceCreateEvent"})
    assert response.status_code == 400 and response.json()["@type"] == "Error"


def test_unregister_answers_204_then_404(client: TestClient) -> None:
    created = client.post(HUB, json={"callback": "http://127.0.0.1:9/x"}).json()
    assert client.delete(f"{HUB}/{created['id']}").status_code == 204
    again = client.delete(f"{HUB}/{created['id']}")
    assert again.status_code == 404
    assert again.json()["code"] == "SUBSCRIPTION_NOT_FOUND" and again.json()["status"] == "404"


def test_unregister_unknown_id_is_a_tmf_404(client: TestClient) -> None:
    response = client.delete(f"{HUB}/no-such-listener")
    assert response.status_code == 404 and response.json()["@type"] == "Error"


def test_hub_subscription_gets_only_its_apis_events(client: TestClient, clean_db: Engine) -> None:
    client.post(HUB, json={"callback": "http://127.0.0.1:9/x"})
    factory = make_session_factory(clean_db)
    with UnitOfWork(factory) as tx:
        events.publish(tx.session, api="serviceInventory", event_type="ServiceCreateEvent", resource={"id": "s"})
        events.publish(tx.session, api="resourceInventoryManagement", event_type="ResourceCreateEvent", resource={})
        tx.commit()
    assert [event.event_type for _, event in deliveries(factory)] == ["ResourceCreateEvent"]


def test_ops_api_lists_deliveries_and_refuses_to_redeliver_a_pending_one(client: TestClient) -> None:
    client.post(HUB, json={"callback": "http://127.0.0.1:9/x"})
    created = client.post(
        "/tmf-api/resourceInventoryManagement/v4/resource", json={"name": "r1"}, headers={"X-User": "alice"}
    )
    assert created.status_code == 201
    response = client.get(f"{OPS}/eventDelivery", params={"state": "pending"})
    assert response.status_code == 200 and response.headers["X-Total-Count"] == "1"
    [delivery] = response.json()
    assert delivery["eventType"] == "ResourceCreateEvent" and delivery["attempts"] == 0
    conflict = client.post(f"{OPS}/eventDelivery/{delivery['id']}/redeliver")
    assert conflict.status_code == 409 and conflict.json()["code"] == "DELIVERY_PENDING"
    missing = client.post(f"{OPS}/eventDelivery/12345678/redeliver")
    assert missing.status_code == 404 and missing.json()["code"] == "DELIVERY_NOT_FOUND"
    assert client.get(f"{OPS}/eventDelivery", params={"state": "dead"}).json() == []
