"""One TMF630 query behaviour in every served API (issue 14, items 7 and 11): every list operation of
``server.apis.APIS`` is held to the same rules, so an API served later is checked the day it is served."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from tests.support.served import Operation, list_operations

RI = "/tmf-api/resourceInventoryManagement/v4"
AUDIT = "/provisio/audit/v1"
LISTS = list_operations()


def assert_error(response: httpx.Response, status: int, *mentions: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["@type"] == "Error" and body["status"] == str(status), body
    for mention in mentions:
        assert mention in body["message"], body
    return body


def test_every_list_of_the_api_table_is_covered() -> None:
    paths = {f"{op.api.base_path}{op.template}" for op in LISTS}
    assert {f"{RI}/resource", f"{AUDIT}/auditRecord", f"{AUDIT}/eventDelivery", f"{AUDIT}/eventSubscription"} <= paths


@pytest.mark.parametrize("operation", LISTS, ids=str)
def test_unknown_filter_is_a_400_naming_it(client: TestClient, operation: Operation) -> None:
    assert_error(client.get(f"{operation.url()}?foo=bar"), 400, "'foo'")


@pytest.mark.parametrize("operation", LISTS, ids=str)
def test_unknown_sort_key_is_a_400_naming_it(client: TestClient, operation: Operation) -> None:
    assert_error(client.get(f"{operation.url()}?sort=-bogus"), 400, "'bogus'")


@pytest.mark.parametrize("operation", LISTS, ids=str)
def test_unknown_field_is_a_400_naming_it(client: TestClient, operation: Operation) -> None:
    body = assert_error(client.get(f"{operation.url()}?fields=id,bogus"), 400, "'bogus'")
    assert body["code"] == "UNKNOWN_FIELD"


@pytest.mark.parametrize("operation", LISTS, ids=str)
@pytest.mark.parametrize("repeated", ["limit=1&limit=2", "offset=0&offset=1", "fields=id&fields=id", "sort=id&sort=id"])
def test_repeated_single_valued_parameter_is_a_400(client: TestClient, operation: Operation, repeated: str) -> None:
    assert_error(client.get(f"{operation.url()}?{repeated}"), 400, "more than once")


@pytest.mark.parametrize("operation", LISTS, ids=str)
@pytest.mark.parametrize("raw", ["id=%ZZ", "id=50%", "%ZZ=1", "id=%FF"])
def test_broken_percent_escape_is_a_400(client: TestClient, operation: Operation, raw: str) -> None:
    assert_error(client.get(f"{operation.url()}?{raw}"), 400, "percent-escape")


@pytest.mark.parametrize("operation", LISTS, ids=str)
def test_fields_none_keeps_only_the_identity(client: TestClient, operation: Operation) -> None:
    response = client.get(f"{operation.url()}?fields=none")
    assert response.status_code == 200, response.text


def test_dotted_fields_of_the_schema_are_projections(client: TestClient) -> None:
    # (resourceCharacteristic.name alone is a legitimate projection too, but the served Characteristic
    # schema requires value, and ResourceSpecificationRef requires id, so response validation would refuse
    # an answer without them: the documents, not the projection, are to change there.)
    spec = {"id": "s-1", "name": "router", "version": "1"}
    created = client.post(f"{RI}/resource", json={"name": "r", "resourceSpecification": spec})
    assert created.status_code == 201, created.text
    listed = client.get(f"{RI}/resource?fields=resourceSpecification.id,resourceSpecification.name")
    assert listed.status_code == 200, listed.text
    assert listed.json()[0]["resourceSpecification"] == {"id": "s-1", "name": "router"}
    selection = "fields=resourceSpecification.id,resourceSpecification.version"
    one = client.get(f"{RI}/resource/{created.json()['id']}?{selection}")
    assert one.status_code == 200 and one.json()["resourceSpecification"] == {"id": "s-1", "version": "1"}


def test_retrieve_refuses_an_unknown_field_and_a_repeated_one(client: TestClient) -> None:
    created = client.post(f"{RI}/resource", json={"name": "r"})
    target = f"{RI}/resource/{created.json()['id']}"
    assert_error(client.get(f"{target}?fields=bogus"), 400, "'bogus'")
    assert_error(client.get(f"{target}?fields=name&fields=id"), 400, "more than once")
    assert_error(client.get(f"{target}?foo=bar"), 400, "'foo'")
    assert client.get(f"{target}?fields=name").json() == {
        "id": created.json()["id"],
        "href": created.json()["href"],
        "@type": "LogicalResource",
        "name": "r",
    }


def _delivery(client: TestClient) -> None:
    """A listener (nothing listens there: no worker runs in these tests) and one event for it."""
    hub = client.post(f"{RI}/hub", json={"callback": "http://127.0.0.1:9/listener"})
    assert hub.status_code == 201, hub.text
    assert client.post(f"{RI}/resource", json={"name": "r"}).status_code == 201


def test_event_delivery_list_honours_fields_filters_and_sort(client: TestClient) -> None:
    _delivery(client)
    listed = client.get(f"{AUDIT}/eventDelivery?fields=state,eventType&eventType=ResourceCreateEvent&sort=-createdAt")
    assert listed.status_code == 200, listed.text
    [delivery] = listed.json()
    assert set(delivery) == {"id", "state", "eventType"} and delivery["state"] == "pending"
    assert client.get(f"{AUDIT}/eventDelivery?attempts.gt=0").json() == []


def test_event_subscription_list_honours_fields_and_filters(client: TestClient) -> None:
    _delivery(client)
    listed = client.get(f"{AUDIT}/eventSubscription?fields=callback&api=resourceInventoryManagement")
    assert listed.status_code == 200, listed.text
    assert [set(item) for item in listed.json()] == [{"id", "callback"}]
    assert client.get(f"{AUDIT}/eventSubscription?api=audit").json() == []


def test_unsupported_operator_is_named_with_the_operators(client: TestClient) -> None:
    body = assert_error(client.get(f"{RI}/resource?name.like=pe"), 400, "'like'", "eq, ne, gt, gte, lt, lte")
    assert body["code"] == "UNSUPPORTED_OPERATOR"
    assert len(body["message"]) < 200, body["message"]


def test_iso_date_out_of_range_in_utc_is_said_to_be_out_of_range(client: TestClient) -> None:
    body = assert_error(client.get(f"{RI}/resource?startOperatingDate.gt=0001-01-01T00:00:00%2B14:00"), 400)
    assert "out of range" in body["message"] and "must be an ISO 8601" not in body["message"]
