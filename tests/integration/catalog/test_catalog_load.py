"""The catalog file (issue 20 "Catalog"): ``provisio catalog load`` is idempotent, a changed file makes new
versions up to the offering, an order item's pinned snapshot keeps what was sold, and a fourth product
built only from the shipped specifications decomposes with no code change."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from bss.catalog import loader, offering_snapshot
from bss.catalog.errors import InvalidCatalogFile
from bss.catalog.models import CatalogVersionRow, ProductOfferingRow
from common.uow import UnitOfWork
from server.catalog_cli import SHIPPED_CATALOG
from server.db import make_session_factory


@pytest.fixture
def factory(clean_db: Engine) -> sessionmaker[Session]:
    return make_session_factory(clean_db)


def _load(factory: sessionmaker[Session], data: dict[str, Any]) -> loader.LoadSummary:
    return loader.load(UnitOfWork(factory), data)


def _shipped() -> dict[str, Any]:
    return loader.read_file(SHIPPED_CATALOG)


def _offering_id(factory: sessionmaker[Session], name: str) -> str:
    with factory() as session, session.begin():
        return str(session.scalar(select(ProductOfferingRow.id).where(ProductOfferingRow.name == name)))


def _versions(factory: sessionmaker[Session]) -> int:
    with factory() as session, session.begin():
        return int(session.scalar(select(func.count()).select_from(CatalogVersionRow)) or 0)


def test_the_shipped_catalog_loads_and_a_reload_changes_nothing(factory: sessionmaker[Session]) -> None:
    first = _load(factory, _shipped())
    assert first.created["productOffering"] == 3 and not first.changed
    versions = _versions(factory)
    again = loader.load_file(UnitOfWork(factory), SHIPPED_CATALOG)
    assert not again.created and not again.changed and sum(again.unchanged.values()) == sum(first.created.values())
    assert _versions(factory) == versions


def test_the_shipped_products_decompose_as_the_issue_describes(factory: sessionmaker[Session]) -> None:
    _load(factory, _shipped())
    internet = offering_snapshot(UnitOfWork(factory), _offering_id(factory, "Business Internet"))
    plan = internet.decompose({"bandwidthMbps": 500})
    assert [hold.reservation_item_type for hold in plan.holds] == [
        "PortReservationItem", "VlanReservationItem", "IpPrefixReservationItem", "IpPrefixReservationItem",
        "CpeReservationItem",
    ]  # fmt: skip
    assert [hold.criteria.get("prefixLength") for hold in plan.holds[2:4]] == [30, 29]
    assert [(a.service_type, a.target_role) for a in plan.activations] == [("l3-access", "pe"), ("cpe-wan", "cpe")]
    assert [task.role for task in plan.manual_tasks] == ["technician"]
    voice = offering_snapshot(UnitOfWork(factory), _offering_id(factory, "Business Voice"))
    (numbers,) = voice.decompose({"numberCount": 20, "didRange": True}).holds
    assert numbers.quantity == 20 and numbers.criteria == {"contiguous": True}
    licence = offering_snapshot(UnitOfWork(factory), _offering_id(factory, "Licence key"))
    assert licence.decompose({}).instant and licence.orderable
    assert [price["price"] for price in licence.prices] == [{"unit": "EUR", "value": 49.0}]


def test_a_changed_price_makes_new_versions_and_the_pinned_snapshot_keeps_the_old(
    factory: sessionmaker[Session],
) -> None:
    _load(factory, _shipped())
    offering_id = _offering_id(factory, "Business Internet")
    sold = offering_snapshot(UnitOfWork(factory), offering_id)
    changed = _shipped()
    for price in changed["productOfferingPrices"]:
        if price["name"] == "Business Internet monthly":
            price["price"] = {"unit": "EUR", "value": 99.0}
    summary = _load(factory, changed)
    assert summary.changed == {"productOfferingPrice": 1, "productOffering": 1}
    current = offering_snapshot(UnitOfWork(factory), offering_id)
    assert (sold.version, current.version) == ("1.0", "1.1")
    assert current.prices[0]["price"]["value"] == 99.0
    pinned = offering_snapshot(UnitOfWork(factory), offering_id, sold.version)
    assert pinned.prices[0]["price"]["value"] == 89.0 and pinned == sold


def test_a_fourth_product_from_existing_specifications_needs_no_code(factory: sessionmaker[Session]) -> None:
    data = _shipped()
    data["productSpecifications"].append(
        {
            "name": "Internet and Voice",
            "serviceSpecification": ["Internet access CFS", "Voice CFS"],
            "productSpecCharacteristic": [
                {
                    "name": "bandwidthMbps",
                    "valueType": "integer",
                    "characteristicValueSpecification": [{"value": 100, "isDefault": True}],
                },
                {
                    "name": "cpeModel",
                    "valueType": "string",
                    "characteristicValueSpecification": [{"value": "edge-900", "isDefault": True}],
                },
                {"name": "numberCount", "valueType": "integer", "minCardinality": 1},
                {
                    "name": "didRange",
                    "valueType": "boolean",
                    "characteristicValueSpecification": [{"value": False, "isDefault": True}],
                },
            ],
        }
    )
    data["productOfferingPrices"].append({"name": "Bundle monthly", "priceType": "recurring",
                                          "price": {"unit": "EUR", "value": 120.0}})  # fmt: skip
    data["productOfferings"].append({"name": "Internet and Voice", "lifecycleStatus": "Launched",
                                     "productSpecification": "Internet and Voice",
                                     "productOfferingPrice": ["Bundle monthly"]})  # fmt: skip
    _load(factory, data)
    plan = offering_snapshot(UnitOfWork(factory), _offering_id(factory, "Internet and Voice")).decompose(
        {"numberCount": 3}
    )
    assert [service.layer for service in plan.services].count("CFS") == 2
    assert plan.holds[-1].reservation_item_type == "TelephoneNumberReservationItem" and plan.holds[-1].quantity == 3
    assert {a.service_type for a in plan.activations} == {"l3-access", "cpe-wan", "sip-trunk"}
    assert plan.manual_tasks[0].name == "Ship and install the edge-900"


def test_a_bad_file_is_refused_and_writes_nothing(factory: sessionmaker[Session], tmp_path: Path) -> None:
    data = _shipped()
    data["productOfferings"].append({"name": "Broken", "productSpecification": "No such spec"})
    with pytest.raises(InvalidCatalogFile, match="No such spec"):
        _load(factory, data)
    assert _versions(factory) == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"resourceSpecifications": [
        {"name": "X", "decompositionRule": {"reservationItemType": "TruckReservationItem"}}]}))  # fmt: skip
    with pytest.raises(InvalidCatalogFile, match="reservationItemType"):
        loader.load_file(UnitOfWork(factory), bad)
    bad.write_text(yaml.safe_dump({"nonsense": []}))
    with pytest.raises(InvalidCatalogFile, match="unknown section"):
        loader.read_file(bad)
