"""Every error is a TMF Error (checked against the official schema) and a failing request changes nothing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from oss.resource_inventory import RESOURCE_TYPES, Ownership, ResourceType
from tests.api.resource_inventory.helpers_tmf639 import BASE, OfficialSpecClient, assert_tmf_error, counts, new_resource

NUMBER_POOL = Ownership(
    context="number_pool", code="OWNED_BY_NUMBER_POOL", api_path="/tmf-api/numberPool/v1/telephoneNumber"
)


@pytest.fixture
def owned_type() -> Iterator[str]:
    """A type owned by another context, registered for the test only."""
    with RESOURCE_TYPES.temporarily(ResourceType("TelephoneNumber", base_type="LogicalResource", owner=NUMBER_POOL)):
        yield "TelephoneNumber"


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"name": "x", "usageState": "sleeping"}, "usageState"),
        ({"name": "x", "resourceStatus": "gone"}, "resourceStatus"),
        ({"name": "x", "administrativeState": "open"}, "administrativeState"),
        ({"name": "x", "operationalState": "on"}, "operationalState"),
        ({"category": "no name"}, "name"),
        ({"name": 42}, "name"),
        ({"name": "x", "resourceCharacteristic": [{"value": 1}]}, "name"),
        ({"name": "x", "relatedParty": [{"id": "p"}]}, "@referredType"),
        ({"name": "x", "startOperatingDate": "not a date"}, "startOperatingDate"),
    ],
)
def test_create_with_invalid_body_is_400_and_changes_nothing(
    tmf: OfficialSpecClient, clean_db: Engine, body: dict[str, object], fragment: str
) -> None:
    before = counts(clean_db)
    error = assert_tmf_error(tmf.post(f"{BASE}/resource", json=body), 400)
    assert fragment in error["message"]
    assert counts(clean_db) == before


def test_create_with_unknown_type_is_400(tmf: OfficialSpecClient, clean_db: Engine) -> None:
    before = counts(clean_db)
    error = assert_tmf_error(
        tmf.post(f"{BASE}/resource", json={"name": "x", "@type": "Toaster"}), 400, "UNKNOWN_RESOURCE_TYPE"
    )
    assert "LogicalResource" in error["message"]
    assert counts(clean_db) == before


def test_malformed_json_is_400(tmf: OfficialSpecClient, clean_db: Engine) -> None:
    before = counts(clean_db)
    response = tmf.post(f"{BASE}/resource", content=b'{"name": ', headers={"content-type": "application/json"})
    assert_tmf_error(response, 400)
    assert counts(clean_db) == before


def test_non_utf8_body_is_400(tmf: OfficialSpecClient, clean_db: Engine) -> None:
    before = counts(clean_db)
    response = tmf.post(
        f"{BASE}/resource", content='{"name": "é"}'.encode("latin-1"), headers={"content-type": "application/json"}
    )
    assert_tmf_error(response, 400)
    assert counts(clean_db) == before


def test_body_that_is_not_an_object_is_400(tmf: OfficialSpecClient) -> None:
    assert_tmf_error(tmf.post(f"{BASE}/resource", json=["name"]), 400)


def test_invalid_patch_is_400_and_changes_nothing(tmf: OfficialSpecClient, clean_db: Engine) -> None:
    created = new_resource(tmf, usageState="idle")
    before = counts(clean_db)
    assert_tmf_error(tmf.patch(f"{BASE}/resource/{created['id']}", {"usageState": "sleeping"}), 400)
    assert_tmf_error(tmf.patch(f"{BASE}/resource/{created['id']}", {"@type": "Toaster"}), 400, "IMMUTABLE_ATTRIBUTE")
    assert counts(clean_db) == before
    assert tmf.get(f"{BASE}/resource/{created['id']}").json() == created


@pytest.mark.parametrize("method", ["PUT", "POST"])
def test_unsupported_method_on_an_item_is_405(tmf: OfficialSpecClient, method: str) -> None:
    created = new_resource(tmf)
    assert_tmf_error(tmf.request(method, f"{BASE}/resource/{created['id']}", json={"name": "x"}), 405)


def test_unsupported_method_on_the_collection_is_405(tmf: OfficialSpecClient) -> None:
    assert_tmf_error(tmf.request("DELETE", f"{BASE}/resource"), 405)


def test_unknown_path_is_404(tmf: OfficialSpecClient) -> None:
    assert_tmf_error(tmf.get(f"{BASE}/resourceX"), 404)


def test_create_of_an_owned_type_is_409_naming_the_owner(
    tmf: OfficialSpecClient, clean_db: Engine, owned_type: str
) -> None:
    before = counts(clean_db)
    response = tmf.post(f"{BASE}/resource", json={"name": "+442079460001", "@type": owned_type})
    error = assert_tmf_error(response, 409, "OWNED_BY_NUMBER_POOL")
    assert NUMBER_POOL.api_path in error["message"]
    assert counts(clean_db) == before


def test_patch_and_delete_of_an_owned_resource_are_409(
    tmf: OfficialSpecClient, clean_db: Engine, owned_type: str
) -> None:
    from oss.resource_inventory import create_resource
    from server import deps

    owned = create_resource(deps.uow(), {"name": "+442079460002", "@type": owned_type}, acting_context="number_pool")
    before = counts(clean_db)
    assert_tmf_error(
        tmf.patch(f"{BASE}/resource/{owned.id}", {"resourceStatus": "available"}), 409, "OWNED_BY_NUMBER_POOL"
    )
    assert_tmf_error(tmf.delete(f"{BASE}/resource/{owned.id}"), 409, "OWNED_BY_NUMBER_POOL")
    assert counts(clean_db) == before
    # Reading it through TMF639 is fine.
    assert tmf.get(f"{BASE}/resource/{owned.id}").json()["@type"] == owned_type


def test_patch_cannot_turn_a_resource_into_an_owned_type(
    tmf: OfficialSpecClient, clean_db: Engine, owned_type: str
) -> None:
    # Issue 14.9: a resource keeps its class, so it cannot become the number pool's either.
    created = new_resource(tmf)
    before = counts(clean_db)
    assert_tmf_error(tmf.patch(f"{BASE}/resource/{created['id']}", {"@type": owned_type}), 400, "IMMUTABLE_ATTRIBUTE")
    assert counts(clean_db) == before
