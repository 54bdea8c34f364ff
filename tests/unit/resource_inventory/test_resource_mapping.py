"""TMF639 JSON <-> ResourceData."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from common import request_context
from common.tmf import parse_fields
from oss.resource_inventory.domain import ResourceData
from oss.resource_inventory.errors import ImmutableAttribute, InvalidAttributeValue
from oss.resource_inventory.mapping import from_tmf, to_tmf

MOMENT = datetime(2026, 1, 1, tzinfo=UTC)
RESOURCE = ResourceData(
    id="r-1",
    type="PhysicalResource",
    base_type="Resource",
    name="router",
    category=None,
    description=None,
    resource_status="available",
    usage_state=None,
    administrative_state=None,
    operational_state=None,
    start_operating_date=MOMENT,
    end_operating_date=None,
    resource_version=None,
    attributes={"serialNumber": "SN-1", "place": {"id": "site-1", "role": "site"}},
    created_at=MOMENT,
    updated_at=MOMENT,
)


def test_to_tmf_builds_href_from_the_request_base_url() -> None:
    with request_context.bind(base_url="https://inv.example.net"):
        document = to_tmf(RESOURCE)
    assert document == {
        "id": "r-1",
        "href": "https://inv.example.net/tmf-api/resourceInventoryManagement/v4/resource/r-1",
        "@type": "PhysicalResource",
        "@baseType": "Resource",
        "name": "router",
        "resourceStatus": "available",
        "startOperatingDate": "2026-01-01T00:00:00.000Z",
        "serialNumber": "SN-1",
        "place": {"id": "site-1", "role": "site"},
    }
    assert list(document)[:4] == ["id", "href", "@type", "@baseType"]


def test_to_tmf_projects_fields() -> None:
    assert set(to_tmf(RESOURCE, parse_fields("serialNumber"))) == {"id", "href", "@type", "serialNumber"}


def test_from_tmf_splits_columns_from_json_attributes_and_drops_server_attributes() -> None:
    fields = from_tmf(
        {
            "id": "x",
            "href": "h",
            "@baseType": "b",
            "@type": "LogicalResource",
            "name": "n",
            "usageState": "idle",
            "endOperatingDate": "2026-02-01T01:00:00+01:00",
            "value": "42",
        }
    )
    assert fields.type == "LogicalResource"
    assert fields.columns == {
        "name": "n",
        "usage_state": "idle",
        "end_operating_date": datetime(2026, 2, 1, tzinfo=UTC),
    }
    assert fields.attributes == {"value": "42"}


def test_from_tmf_refuses_a_changed_id() -> None:
    with pytest.raises(ImmutableAttribute):
        from_tmf({"id": "other", "name": "n"}, resource_id="r-1")
    assert from_tmf({"id": "r-1", "name": "n"}, resource_id="r-1").columns == {"name": "n"}


def test_from_tmf_refuses_a_date_it_cannot_read() -> None:
    with pytest.raises(InvalidAttributeValue):
        from_tmf({"name": "n", "startOperatingDate": "soon"})
