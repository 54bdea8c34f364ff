"""TMF630 polymorphism on TMF639 (issue 14 items 1, 8, 9): @type Resource and client subclasses are
accepted and answered faithfully, every registered type's schema is closed, and a resource keeps its class."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine

from tests.api.resource_inventory.helpers_tmf639 import (
    BASE,
    MERGE_PATCH,
    OfficialSpecClient,
    assert_tmf_error,
    counts,
    new_resource,
)


def test_the_base_class_resource_is_accepted_stored_and_answered_as_sent(tmf: OfficialSpecClient) -> None:
    response = tmf.post(f"{BASE}/resource", json={"name": "RouterXX", "@type": "Resource"})
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["@type"] == "Resource" and "@baseType" not in created
    assert tmf.get(f"{BASE}/resource/{created['id']}").json() == created
    listed = tmf.get(f"{BASE}/resource", params={"@type": "Resource"}).json()
    assert [item["id"] for item in listed] == [created["id"]]


def test_a_client_subclass_with_a_registered_base_type_is_accepted_and_answered_with_both_names(
    tmf: OfficialSpecClient,
) -> None:
    body = {
        "name": "edge-1",
        "@type": "EdgeRouter",
        "@baseType": "PhysicalResource",
        "@schemaLocation": "https://example.com/schemas/EdgeRouter.json",
        "serialNumber": "SN-42",
    }
    created = tmf.post(f"{BASE}/resource", json=body).json()
    assert {key: created[key] for key in body} == body
    assert tmf.get(f"{BASE}/resource/{created['id']}").json() == created


def test_a_client_subclass_gets_only_its_base_types_attributes(tmf: OfficialSpecClient, clean_db: Engine) -> None:
    # A LogicalResource has no serialNumber, and an @schemaLocation cannot add attributes (it is not trusted).
    before = counts(clean_db)
    body = {
        "name": "x",
        "@type": "VanityNumber",
        "@baseType": "LogicalResource",
        "@schemaLocation": "https://example.com/schemas/VanityNumber.json",
        "serialNumber": "S",
    }
    error = assert_tmf_error(tmf.post(f"{BASE}/resource", json=body), 400, "UNKNOWN_ATTRIBUTE")
    assert "'serialNumber'" in error["message"]
    assert counts(clean_db) == before


def test_an_unknown_type_without_a_known_base_type_is_400(tmf: OfficialSpecClient) -> None:
    for body in ({"name": "x", "@type": "Toaster"}, {"name": "x", "@type": "Toaster", "@baseType": "Appliance"}):
        error = assert_tmf_error(tmf.post(f"{BASE}/resource", json=body), 400, "UNKNOWN_RESOURCE_TYPE")
        assert "PhysicalResource" in error["message"]


@pytest.mark.parametrize(
    ("body", "unknown"),
    [
        ({"name": "x", "bogus": 1}, "bogus"),
        ({"name": "x", "@type": "PhysicalResource", "value": "1"}, "value"),  # LogicalResource's, not Physical's
        ({"name": "x", "@type": "Resource", "value": "1"}, "value"),
    ],
)
def test_a_create_with_an_undeclared_attribute_is_400_naming_it_and_stores_nothing(
    tmf: OfficialSpecClient, clean_db: Engine, body: dict[str, Any], unknown: str
) -> None:
    before = counts(clean_db)
    error = assert_tmf_error(tmf.post(f"{BASE}/resource", json=body), 400, "UNKNOWN_ATTRIBUTE")
    assert repr(unknown) in error["message"]
    assert counts(clean_db) == before


@pytest.mark.parametrize(
    ("patch", "unknown"),
    [
        ({"resourceStatu": "alarm"}, "resourceStatu"),  # a typo, refused by the document
        ({"serialNumber": "S1"}, "serialNumber"),  # declared for PhysicalResource, not for this LogicalResource
    ],
)
def test_a_patch_with_an_attribute_the_resources_type_does_not_declare_is_400_and_changes_nothing(
    tmf: OfficialSpecClient, clean_db: Engine, patch: dict[str, Any], unknown: str
) -> None:
    created = new_resource(tmf)
    before = counts(clean_db)
    response = tmf.request("PATCH", f"{BASE}/resource/{created['id']}", json=patch, headers=MERGE_PATCH)
    error = assert_tmf_error(response, 400, "UNKNOWN_ATTRIBUTE")
    assert repr(unknown) in error["message"]
    assert counts(clean_db) == before
    assert tmf.get(f"{BASE}/resource/{created['id']}").json() == created


def test_a_client_sending_only_declared_attributes_sees_no_change(tmf: OfficialSpecClient) -> None:
    created = new_resource(tmf, **{"@type": "PhysicalResource", "serialNumber": "SN-1", "powerState": "3"})
    patched = tmf.patch(f"{BASE}/resource/{created['id']}", {"versionNumber": "2", "resourceStatus": "available"})
    assert patched.status_code == 200, patched.text
    assert patched.json()["serialNumber"] == "SN-1" and patched.json()["versionNumber"] == "2"


@pytest.mark.parametrize(
    "patch",
    [{"@type": "LogicalResource"}, {"@baseType": "LogicalResource"}, {"@type": None}, {"@baseType": None}],
)
def test_a_patch_that_changes_the_class_is_400_and_changes_nothing(
    tmf: OfficialSpecClient, clean_db: Engine, patch: dict[str, Any]
) -> None:
    created = new_resource(tmf, **{"@type": "PhysicalResource", "serialNumber": "SN-1"})
    before = counts(clean_db)
    error = assert_tmf_error(tmf.patch(f"{BASE}/resource/{created['id']}", patch), 400, "IMMUTABLE_ATTRIBUTE")
    assert next(iter(patch)) in error["message"]
    assert counts(clean_db) == before
    assert tmf.get(f"{BASE}/resource/{created['id']}").json() == created


def test_a_client_subclass_keeps_its_names_through_a_patch(tmf: OfficialSpecClient) -> None:
    created = tmf.post(
        f"{BASE}/resource", json={"name": "e", "@type": "EdgeRouter", "@baseType": "PhysicalResource"}
    ).json()
    patched = tmf.patch(f"{BASE}/resource/{created['id']}", {"serialNumber": "SN-2", "@type": "EdgeRouter"}).json()
    names = (patched["@type"], patched["@baseType"], patched["serialNumber"])
    assert names == ("EdgeRouter", "PhysicalResource", "SN-2")
    assert_tmf_error(tmf.patch(f"{BASE}/resource/{created['id']}", {"value": "1"}), 400, "UNKNOWN_ATTRIBUTE")


def test_the_hub_registration_is_closed_too(tmf: OfficialSpecClient) -> None:
    body = {"callback": "http://127.0.0.1:9/listener", "bogus": 1}
    error = assert_tmf_error(tmf.post(f"{BASE}/hub", json=body), 400, "UNKNOWN_ATTRIBUTE")
    assert "'bogus'" in error["message"]
