"""TMF639 list: filters of every kind, sort, paging headers, fields -- responses checked against TM Forum's spec."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.resource_inventory.helpers_tmf639 import BASE, OfficialSpecClient, assert_tmf_error, new_resource


@pytest.fixture
def inventory(tmf: OfficialSpecClient) -> dict[str, dict[str, Any]]:
    specs: dict[str, dict[str, Any]] = {
        "pe1-vlan100": {
            "category": "vlan",
            "resourceStatus": "available",
            "usageState": "idle",
            "startOperatingDate": "2026-01-10T00:00:00Z",
            "resourceCharacteristic": [{"name": "vlan", "value": 100}, {"name": "mtu", "value": 1500}],
            "relatedParty": [{"id": "cust-1", "role": "owner", "@referredType": "Organization"}],
            "resourceSpecification": {"id": "spec-vlan"},
        },
        "pe1-vlan200": {
            "category": "vlan",
            "resourceStatus": "reserved",
            "usageState": "active",
            "startOperatingDate": "2026-03-01T00:00:00Z",
            "resourceCharacteristic": [{"name": "vlan", "value": "200"}],
            "relatedParty": [{"id": "cust-2", "role": "owner", "@referredType": "Organization"}],
        },
        "router-1": {
            "@type": "PhysicalResource",
            "category": "router",
            "resourceStatus": "alarm",
            "serialNumber": "SN-0001",
            "place": {"id": "site-1", "role": "installation site"},
        },
    }
    return {name: new_resource(tmf, name=name, **attributes) for name, attributes in specs.items()}


def names(tmf: OfficialSpecClient, **params: Any) -> list[str]:
    response = tmf.get(f"{BASE}/resource", params=params)
    assert response.status_code == 200, response.text
    return [item["name"] for item in response.json()]


def test_list_returns_all_with_paging_headers(tmf: OfficialSpecClient, inventory: dict[str, Any]) -> None:
    response = tmf.get(f"{BASE}/resource")
    assert response.status_code == 200
    assert response.headers["X-Total-Count"] == "3"
    assert response.headers["X-Result-Count"] == "3"
    assert [item["name"] for item in response.json()] == ["pe1-vlan100", "pe1-vlan200", "router-1"]


def test_list_of_nothing_is_an_empty_array(tmf: OfficialSpecClient) -> None:
    response = tmf.get(f"{BASE}/resource")
    assert (response.status_code, response.json(), response.headers["X-Total-Count"]) == (200, [], "0")


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"name": "router-1"}, ["router-1"]),
        ({"resourceStatus": "available"}, ["pe1-vlan100"]),
        ({"resourceStatus": "available,reserved"}, ["pe1-vlan100", "pe1-vlan200"]),
        ({"resourceStatus.ne": "alarm"}, ["pe1-vlan100", "pe1-vlan200"]),
        ({"@type": "PhysicalResource"}, ["router-1"]),
        ({"category": "vlan", "usageState": "active"}, ["pe1-vlan200"]),
        ({"startOperatingDate.gt": "2026-02-01"}, ["pe1-vlan200"]),
        ({"startOperatingDate.gte": "2026-01-10T00:00:00Z"}, ["pe1-vlan100", "pe1-vlan200"]),
        ({"startOperatingDate.lt": "2026-02-01T00:00:00Z"}, ["pe1-vlan100"]),
        ({"startOperatingDate.lte": "2026-01-09"}, []),
        ({"resourceCharacteristic.name": "vlan"}, ["pe1-vlan100", "pe1-vlan200"]),
        ({"resourceCharacteristic.name": "mtu"}, ["pe1-vlan100"]),
        ({"resourceCharacteristic.value": "100"}, ["pe1-vlan100"]),
        ({"resourceCharacteristic.value": "200"}, ["pe1-vlan200"]),
        ({"relatedParty.id": "cust-2"}, ["pe1-vlan200"]),
        ({"resourceSpecification.id": "spec-vlan"}, ["pe1-vlan100"]),
        ({"place.id": "site-1"}, ["router-1"]),
        ({"serialNumber": "SN-0001"}, ["router-1"]),
    ],
)
def test_list_filters(
    tmf: OfficialSpecClient, inventory: dict[str, Any], params: dict[str, str], expected: list[str]
) -> None:
    assert names(tmf, **params) == expected


def test_filter_counts_only_matching_rows(tmf: OfficialSpecClient, inventory: dict[str, Any]) -> None:
    response = tmf.get(f"{BASE}/resource", params={"category": "vlan", "limit": 1})
    assert response.headers["X-Total-Count"] == "2"
    assert response.headers["X-Result-Count"] == "1"


def test_sort_ascending_and_descending(tmf: OfficialSpecClient, inventory: dict[str, Any]) -> None:
    assert names(tmf, sort="-name") == ["router-1", "pe1-vlan200", "pe1-vlan100"]
    assert names(tmf, sort="category,-startOperatingDate") == ["router-1", "pe1-vlan200", "pe1-vlan100"]


def test_offset_and_limit_page_through_without_overlap(tmf: OfficialSpecClient) -> None:
    for index in range(7):
        new_resource(tmf, name=f"r{index}", category="same")
    seen: list[str] = []
    for offset in range(0, 7, 3):
        response = tmf.get(f"{BASE}/resource", params={"sort": "category", "offset": offset, "limit": 3})
        assert response.status_code == 200  # never 206
        assert response.headers["X-Total-Count"] == "7"
        assert response.headers["X-Result-Count"] == str(min(3, 7 - offset))
        seen += [item["name"] for item in response.json()]
    assert sorted(seen) == [f"r{index}" for index in range(7)]


def test_offset_past_the_end_is_an_empty_page(tmf: OfficialSpecClient, inventory: dict[str, Any]) -> None:
    response = tmf.get(f"{BASE}/resource", params={"offset": 10})
    assert (response.status_code, response.json()) == (200, [])
    assert (response.headers["X-Total-Count"], response.headers["X-Result-Count"]) == ("3", "0")


def test_fields_projects_every_item(tmf: OfficialSpecClient, inventory: dict[str, Any]) -> None:
    items = tmf.get(f"{BASE}/resource", params={"fields": "name,resourceStatus"}).json()
    assert all(set(item) <= {"id", "href", "@type", "name", "resourceStatus"} for item in items)
    assert all({"id", "href", "@type", "name"} <= set(item) for item in items)
    router = next(item for item in items if item["name"] == "router-1")
    assert router["href"] == inventory["router-1"]["href"]


def test_filter_value_with_a_literal_plus_is_kept(tmf: OfficialSpecClient) -> None:
    new_resource(tmf, name="+442079460001")
    response = tmf.client.get(f"{BASE}/resource?name=+442079460001")  # '+' is not a space in TMF filters
    assert [item["name"] for item in response.json()] == ["+442079460001"]


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("colour=red", "UNKNOWN_FILTER_ATTRIBUTE"),
        ("resourceCharacteristic.colour=red", "UNKNOWN_FILTER_ATTRIBUTE"),
        ("resourceStatus=broken", "INVALID_FILTER_VALUE"),
        ("startOperatingDate.gt=yesterday", "INVALID_FILTER_VALUE"),
        ("resourceStatus.gt=available", "UNSUPPORTED_OPERATOR"),
        ("resourceCharacteristic.name.lt=z", "UNSUPPORTED_OPERATOR"),
        ("sort=colour", "UNKNOWN_SORT_ATTRIBUTE"),
    ],
)
def test_bad_query_is_a_400_tmf_error(
    tmf: OfficialSpecClient, inventory: dict[str, Any], query: str, code: str
) -> None:
    assert_tmf_error(tmf.get(f"{BASE}/resource?{query}"), 400, code)


@pytest.mark.parametrize("query", ["limit=-1", "offset=x", "limit=1001"])
def test_bad_paging_parameter_is_a_400_tmf_error(tmf: OfficialSpecClient, query: str) -> None:
    assert_tmf_error(tmf.get(f"{BASE}/resource?{query}"), 400)
