"""TMF620/633/634 catalog APIs (issue 20 "Catalog"): create, list, retrieve, patch, versions, hub events."""

from __future__ import annotations

from sqlalchemy import Engine, select
from starlette.testclient import TestClient

from bss.catalog.models import CatalogVersionRow
from common.events.models import OutboxEvent

PC = "/tmf-api/productCatalogManagement/v5"
SC = "/tmf-api/serviceCatalogManagement/v4"
RC = "/tmf-api/resourceCatalog/v5"
MERGE = {"Content-Type": "application/merge-patch+json"}


def _create(client: TestClient, base: str, collection: str, body: dict) -> dict:
    response = client.post(f"{base}/{collection}", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def test_a_created_offering_has_defaults_href_and_location(client: TestClient) -> None:
    response = client.post(f"{PC}/productOffering", json={"name": "Business Internet"})
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["@type"] == "ProductOffering" and body["version"] == "1.0" and body["lifecycleStatus"] == "In design"
    assert body["href"].endswith(f"{PC}/productOffering/{body['id']}")
    assert response.headers["Location"] == body["href"]
    assert client.get(f"{PC}/productOffering/{body['id']}").json() == body


def test_every_catalog_collection_lists_with_paging_headers_and_fields(client: TestClient) -> None:
    for base, collection, name in (
        (PC, "productSpecification", "Access"),
        (PC, "productOfferingPrice", "Monthly"),
        (SC, "serviceSpecification", "L3 access CFS"),
        (RC, "resourceSpecification", "VLAN"),
    ):
        _create(client, base, collection, {"name": name})
        _create(client, base, collection, {"name": f"{name} 2", "lifecycleStatus": "Active"})
        listed = client.get(f"{base}/{collection}?lifecycleStatus=Active&fields=name")
        assert listed.status_code == 200, listed.text
        assert listed.headers["X-Total-Count"] == "1" and listed.headers["X-Result-Count"] == "1"
        (only,) = listed.json()
        assert set(only) == {"id", "href", "@type", "name"} and only["name"] == f"{name} 2"


def test_a_content_change_makes_a_new_version_and_keeps_the_old(client: TestClient, clean_db: Engine) -> None:
    price = _create(client, PC, "productOfferingPrice",
                    {"name": "Monthly", "priceType": "recurring", "price": {"unit": "EUR", "value": 50}})  # fmt: skip
    offering = _create(client, PC, "productOffering",
                       {"name": "BI", "productOfferingPrice": [{"id": price["id"]}]})  # fmt: skip
    changed = client.patch(f"{PC}/productOffering/{offering['id']}", json={"description": "faster"}, headers=MERGE)
    assert changed.status_code == 200, changed.text
    assert changed.json()["version"] == "1.1" and changed.json()["description"] == "faster"
    status = client.patch(f"{PC}/productOffering/{offering['id']}", json={"lifecycleStatus": "Launched"}, headers=MERGE)
    assert status.json()["version"] == "1.1" and status.json()["lifecycleStatus"] == "Launched"
    with clean_db.connect() as connection:
        versions = connection.execute(
            select(CatalogVersionRow.version, CatalogVersionRow.document)
            .where(CatalogVersionRow.entity_id == offering["id"])
            .order_by(CatalogVersionRow.created_at)
        ).all()
    assert [version for version, _ in versions] == ["1.0", "1.1"]
    assert "description" not in versions[0][1]
    # The offering's version pinned the price's version it referred to.
    assert versions[0][1]["productOfferingPrice"] == [{"id": price["id"], "version": "1.0"}]


def test_naming_an_existing_version_is_a_409(client: TestClient) -> None:
    spec = _create(client, PC, "productSpecification", {"name": "Access"})
    client.patch(f"{PC}/productSpecification/{spec['id']}", json={"brand": "X", "version": "2.0"}, headers=MERGE)
    again = client.patch(f"{PC}/productSpecification/{spec['id']}", json={"brand": "Y", "version": "1.0"},
                         headers=MERGE)  # fmt: skip
    assert again.status_code == 409 and again.json()["code"] == "CATALOG_VERSION_EXISTS"


def test_an_unknown_id_is_a_404_and_a_bad_body_a_400(client: TestClient) -> None:
    missing = client.get(f"{SC}/serviceSpecification/nope")
    assert missing.status_code == 404 and missing.json()["code"] == "CATALOG_ENTITY_NOT_FOUND"
    bad = client.post(f"{RC}/resourceSpecification", json={"name": "x", "lifecycleStatus": "Gone"})
    assert bad.status_code == 400 and bad.json()["@type"] == "Error"


def test_changes_publish_create_state_and_attribute_events(client: TestClient, clean_db: Engine) -> None:
    offering = _create(client, PC, "productOffering", {"name": "Voice"})
    client.patch(f"{PC}/productOffering/{offering['id']}", json={"lifecycleStatus": "Active", "isSellable": True},
                 headers=MERGE)  # fmt: skip
    with clean_db.connect() as connection:
        rows = connection.execute(select(OutboxEvent.event_type, OutboxEvent.payload).order_by(OutboxEvent.seq)).all()
    assert [(event_type, payload.get("fieldPath")) for event_type, payload in rows] == [
        ("ProductOfferingCreateEvent", None),
        ("ProductOfferingStateChangeEvent", "lifecycleStatus"),
        ("ProductOfferingAttributeValueChangeEvent", "isSellable,version"),
    ]
