"""The hub checks a query's paths against the schema of the events its API publishes (issue 14 item 12):
the README promises a 400 for a malformed query, so a path no event can have is refused at registration."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

HUB = "/tmf-api/resourceInventoryManagement/v4/hub"
CALLBACK = "http://127.0.0.1:9/listener"


@pytest.mark.parametrize(
    ("query", "mentions"),
    [
        ("event.resource.bogus=1", ["'bogus'", "'event.resource'"]),
        ("event.resource.name.like=x", ["'like'", "not supported", "eq, ne, gt, gte, lt, lte"]),
        ("event.resource.resourceSpecification.bogus=1", ["'bogus'"]),
        ("event.service.id=1", ["'service'"]),
        ("eventType=ResourceCreateEvent&event.resource.resourceStatu=available", ["Did you mean 'resourceStatus'"]),
    ],
)
def test_query_path_outside_the_event_schema_is_a_400(client: TestClient, query: str, mentions: list[str]) -> None:
    response = client.post(HUB, json={"callback": CALLBACK, "query": query})
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["code"] == "INVALID_QUERY"
    for mention in mentions:
        assert mention in body["message"], body


@pytest.mark.parametrize(
    "query",
    [
        "event.resource.resourceStatus=available",
        "event.resource.name=pe-1&eventType=ResourceCreateEvent",
        "event.resource.resourceCharacteristic.name=vlan",
        "event.resource.resourceCharacteristic.value.unit=Mbps",  # a characteristic's value may be anything
        "event.resource.serialNumber=SN1",  # PhysicalResource
        "event.resource.startOperatingDate.gte=2026-01-01",
        "eventTime.gte=2026-01-01T00:00:00Z",
        "fieldPath=resourceStatus",
    ],
)
def test_query_path_of_the_event_schema_is_registered(client: TestClient, query: str) -> None:
    response = client.post(HUB, json={"callback": CALLBACK, "query": query})
    assert response.status_code == 201, response.text
