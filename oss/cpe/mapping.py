"""CPE JSON <-> dataclasses, and a unit's TMF639 resource document.

Our own API (``/provisio/cpe/v1``) in TMF style: ``id``, ``href``, ``@type``, camelCase attributes,
``fields=`` projection. A unit's TMF639 resource (once it has one) has the unit's id and is linked as
``resource``.
"""

from __future__ import annotations

from typing import Any

from common import clock
from common.tmf import Fields, href, project
from oss.cpe.domain import TMF639_STATUS, HistoryData, ModelData, StockData, UnitData

BASE_PATH = "/provisio/cpe/v1"
TMF639_BASE_PATH = "/tmf-api/resourceInventoryManagement/v4"
RESOURCE_TYPE = "Cpe"
BASE_TYPE = "PhysicalResource"
SITE_TYPE = "GeographicSite"


def _when(moment: Any) -> str | None:
    return clock.isoformat(moment) if moment is not None else None


def _without_none(document: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in document.items() if value is not None}


def model_json(model: ModelData, fields: Fields | None = None) -> dict[str, Any]:
    document = _without_none(
        {
            "id": model.id,
            "href": href(BASE_PATH, "cpeModel", model.id),
            "@type": "CpeModel",
            "manufacturer": model.manufacturer,
            "model": model.model,
            "name": model.name,
            "description": model.description,
            "createdAt": _when(model.created_at),
            "updatedAt": _when(model.updated_at),
        }
    )
    return project(document, fields)


def stock_json(stock: StockData, fields: Fields | None = None) -> dict[str, Any]:
    document = {
        "id": stock.id,
        "href": href(BASE_PATH, "stockLevel", stock.id),
        "@type": "StockLevel",
        "modelId": stock.model_id,
        "warehouseId": stock.warehouse_id,
        "inStock": stock.in_stock,
        "held": stock.held,
        "available": stock.available,
        "threshold": stock.threshold,
        "low": stock.low,
        "updatedAt": _when(stock.updated_at),
    }
    return project(document, fields)


def unit_json(unit: UnitData, fields: Fields | None = None) -> dict[str, Any]:
    resource = (
        {"id": unit.id, "href": href(TMF639_BASE_PATH, "resource", unit.id), "@referredType": RESOURCE_TYPE}
        if unit.has_resource
        else None
    )
    document = _without_none(
        {
            "id": unit.id,
            "href": href(BASE_PATH, "cpeUnit", unit.id),
            "@type": "CpeUnit",
            "modelId": unit.model_id,
            "serialNumber": unit.serial,
            "macAddress": unit.mac,
            "state": unit.state,
            "warehouseId": unit.warehouse_id,
            "holdId": unit.hold_id,
            "reservationId": unit.reservation_id,
            "orderItemId": unit.order_item_id,
            "carrier": unit.carrier,
            "trackingReference": unit.tracking_reference,
            "customerSiteId": unit.customer_site_id,
            "portId": unit.port_id,
            "createdAt": _when(unit.created_at),
            "updatedAt": _when(unit.updated_at),
            "resource": resource,
        }
    )
    return project(document, fields)


def history_json(entry: HistoryData, fields: Fields | None = None) -> dict[str, Any]:
    document = _without_none(
        {
            "id": str(entry.id),
            "@type": "CpeUnitHistory",
            "serialNumber": entry.serial,
            "at": _when(entry.at),
            "fromState": entry.from_state,
            "toState": entry.to_state,
            "actor": entry.actor,
            "reason": entry.reason,
            "reservationId": entry.reservation_id,
            "holdId": entry.hold_id,
            "orderItemId": entry.order_item_id,
        }
    )
    return project(document, fields, always=("id", "@type"))


def _characteristics(unit: UnitData, model: ModelData) -> list[dict[str, Any]]:
    values = [
        ("cpeState", unit.state),
        ("manufacturer", model.manufacturer),
        ("model", model.model),
        ("macAddress", unit.mac),
        ("warehouseId", unit.warehouse_id),
        ("orderItemId", unit.order_item_id),
        ("carrier", unit.carrier),
        ("trackingReference", unit.tracking_reference),
        ("portId", unit.port_id),
    ]
    return [{"name": name, "value": value, "valueType": "string"} for name, value in values if value is not None]


def _place(unit: UnitData) -> dict[str, Any]:
    if unit.customer_site_id:
        return {"id": unit.customer_site_id, "role": "installationSite", "@referredType": SITE_TYPE}
    return {"id": unit.warehouse_id, "role": "warehouse", "@referredType": SITE_TYPE}


def _relationships(unit: UnitData) -> list[dict[str, Any]] | None:
    if not unit.port_id:
        return None
    port = {"id": unit.port_id, "href": href(TMF639_BASE_PATH, "resource", unit.port_id)}
    return [{"relationshipType": "connectedTo", "resource": port}]


def resource_document(unit: UnitData, model: ModelData) -> dict[str, Any]:
    """The TMF639 Resource_Create of a unit (@type Cpe, a PhysicalResource with its serial)."""
    status, usage = TMF639_STATUS[unit.state]
    document: dict[str, Any] = {
        "@type": RESOURCE_TYPE,
        "@baseType": BASE_TYPE,
        "name": f"{model.manufacturer} {model.model} {unit.serial}",
        "category": "cpe",
        "serialNumber": unit.serial,
        "resourceStatus": status,
        "usageState": usage,
        "resourceCharacteristic": _characteristics(unit, model),
        "place": _place(unit),
    }
    relationships = _relationships(unit)
    if relationships:
        document["resourceRelationship"] = relationships
    return document


def resource_patch(unit: UnitData, model: ModelData) -> dict[str, Any]:
    """The merge-patch that brings a unit's TMF639 resource up to date."""
    status, usage = TMF639_STATUS[unit.state]
    return {
        "resourceStatus": status,
        "usageState": usage,
        "resourceCharacteristic": _characteristics(unit, model),
        "place": _place(unit),
        "resourceRelationship": _relationships(unit),
    }
