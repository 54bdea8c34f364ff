"""TMF639 v4 create / retrieve / patch / delete through HTTP, every response checked against the official spec."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.resource_inventory.helpers_tmf639 import BASE, OfficialSpecClient, assert_tmf_error, new_resource

FULL: dict[str, Any] = {
    "name": "vlan-100 on pe1",
    "@type": "LogicalResource",
    "category": "vlan",
    "description": "customer VLAN",
    "value": "100",
    "resourceVersion": "1",
    "resourceStatus": "available",
    "usageState": "idle",
    "administrativeState": "unlocked",
    "operationalState": "enable",
    "startOperatingDate": "2026-01-01T00:00:00Z",
    "resourceCharacteristic": [{"name": "vlanId", "value": 100, "valueType": "integer"}],
    "resourceRelationship": [
        {"relationshipType": "isContainedIn", "resource": {"id": "port-1", "href": "http://x/resource/port-1"}}
    ],
    "resourceSpecification": {"id": "spec-vlan", "name": "VLAN", "@referredType": "ResourceSpecification"},
    "place": {"id": "site-1", "role": "installation site", "@referredType": "GeographicSite"},
    "relatedParty": [{"id": "cust-1", "role": "owner", "@referredType": "Individual"}],
    "note": [{"author": "noc", "text": "provisioned", "date": "2026-01-02T10:00:00Z"}],
}


def test_create_answers_201_with_location_and_the_resource(tmf: OfficialSpecClient) -> None:
    response = tmf.post(f"{BASE}/resource", json=FULL)
    assert response.status_code == 201
    body = response.json()
    assert response.headers["Location"] == body["href"] == f"http://testserver{BASE}/resource/{body['id']}"
    assert body["@baseType"] == "Resource"
    for key, value in FULL.items():
        if key != "startOperatingDate":
            assert body[key] == value, key
    assert body["startOperatingDate"] == "2026-01-01T00:00:00.000Z"


def test_create_physical_resource_keeps_subtype_attributes(tmf: OfficialSpecClient) -> None:
    body = new_resource(
        tmf, **{"@type": "PhysicalResource", "serialNumber": "SN-1", "manufactureDate": "2025-05-01T00:00:00Z"}
    )
    assert body["@type"] == "PhysicalResource"
    assert body["serialNumber"] == "SN-1"


def test_create_without_type_defaults_to_logical_resource(tmf: OfficialSpecClient) -> None:
    response = tmf.post(f"{BASE}/resource", json={"name": "untyped"})
    assert response.status_code == 201
    assert response.json()["@type"] == "LogicalResource"


def test_create_ignores_client_id_and_href(tmf: OfficialSpecClient) -> None:
    response = tmf.post(f"{BASE}/resource", json={"name": "x", "id": "mine", "href": "http://elsewhere/x"})
    assert response.status_code == 201
    assert response.json()["id"] != "mine"
    assert response.json()["href"].startswith("http://testserver/")


def test_retrieve_returns_what_create_returned(tmf: OfficialSpecClient) -> None:
    created = tmf.post(f"{BASE}/resource", json=FULL).json()
    response = tmf.get(f"{BASE}/resource/{created['id']}")
    assert response.status_code == 200
    assert response.json() == created


def test_retrieve_with_fields_keeps_id_href_and_type(tmf: OfficialSpecClient) -> None:
    created = new_resource(tmf, category="vlan", resourceStatus="available")
    body = tmf.get(f"{BASE}/resource/{created['id']}", params={"fields": "category"}).json()
    assert body == {"id": created["id"], "href": created["href"], "@type": "LogicalResource", "category": "vlan"}


def test_retrieve_with_fields_none_returns_only_identity(tmf: OfficialSpecClient) -> None:
    created = new_resource(tmf, category="vlan")
    body = tmf.get(f"{BASE}/resource/{created['id']}", params={"fields": "none"}).json()
    assert set(body) == {"id", "href", "@type"}


def test_href_follows_the_host_the_client_used(tmf: OfficialSpecClient) -> None:
    created = new_resource(tmf)
    body = tmf.get(
        f"{BASE}/resource/{created['id']}",
        headers={"X-Forwarded-Host": "inventory.example.net", "X-Forwarded-Proto": "https"},
    ).json()
    assert body["href"] == f"https://inventory.example.net{BASE}/resource/{created['id']}"


def test_retrieve_unknown_id_is_404(tmf: OfficialSpecClient) -> None:
    assert_tmf_error(tmf.get(f"{BASE}/resource/does-not-exist"), 404, "RESOURCE_NOT_FOUND")


@pytest.mark.parametrize("content_type", ["application/merge-patch+json", "application/json"])
def test_patch_merges_and_returns_the_result(tmf: OfficialSpecClient, content_type: str) -> None:
    created = tmf.post(f"{BASE}/resource", json=FULL).json()
    response = tmf.patch(
        f"{BASE}/resource/{created['id']}",
        {
            "description": "moved",
            "place": {"role": "installation site", "name": "Site One"},
            "note": [{"text": "only note"}],
        },
        headers={"content-type": content_type},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["description"] == "moved"
    assert body["place"] == {**FULL["place"], "name": "Site One"}  # objects merge (RFC 7396)
    assert body["note"] == [{"text": "only note"}]  # arrays are replaced
    assert body["name"] == FULL["name"]
    assert tmf.get(f"{BASE}/resource/{created['id']}").json() == body


def test_patch_null_removes_an_optional_attribute(tmf: OfficialSpecClient) -> None:
    created = new_resource(tmf, description="to remove", usageState="busy")
    body = tmf.patch(f"{BASE}/resource/{created['id']}", {"description": None, "usageState": None}).json()
    assert "description" not in body and "usageState" not in body


def test_patch_cannot_remove_the_name(tmf: OfficialSpecClient) -> None:
    created = new_resource(tmf)
    assert_tmf_error(tmf.patch(f"{BASE}/resource/{created['id']}", {"name": None}), 400)


def test_patch_cannot_change_the_id(tmf: OfficialSpecClient) -> None:
    created = new_resource(tmf)
    assert_tmf_error(tmf.patch(f"{BASE}/resource/{created['id']}", {"id": "other"}), 400, "IMMUTABLE_ATTRIBUTE")


def test_patch_that_sends_the_current_type_is_accepted(tmf: OfficialSpecClient) -> None:
    # Issue 14.9 made a change of @type a 400 (test_polymorphism.py); sending the current one is no change.
    created = new_resource(tmf, **{"@type": "PhysicalResource"})
    body = tmf.patch(f"{BASE}/resource/{created['id']}", {"@type": "PhysicalResource", "serialNumber": "S1"}).json()
    assert body["@type"] == "PhysicalResource" and body["serialNumber"] == "S1"


def test_patch_unknown_id_is_404(tmf: OfficialSpecClient) -> None:
    assert_tmf_error(tmf.patch(f"{BASE}/resource/nope", {"description": "x"}), 404, "RESOURCE_NOT_FOUND")


def test_patch_with_unsupported_media_type_is_rejected(tmf: OfficialSpecClient) -> None:
    created = new_resource(tmf)
    response = tmf.client.patch(
        f"{BASE}/resource/{created['id']}", content=b"description=x", headers={"content-type": "text/plain"}
    )
    assert_tmf_error(response, 415)


def test_delete_answers_204_then_404(tmf: OfficialSpecClient) -> None:
    created = new_resource(tmf)
    response = tmf.delete(f"{BASE}/resource/{created['id']}")
    assert response.status_code == 204
    assert response.content == b""
    assert_tmf_error(tmf.get(f"{BASE}/resource/{created['id']}"), 404)
    assert_tmf_error(tmf.delete(f"{BASE}/resource/{created['id']}"), 404)
