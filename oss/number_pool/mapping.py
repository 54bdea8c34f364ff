"""Number inventory JSON <-> dataclasses, and a number's TMF639 resource document.

Our own API (``/provisio/numberInventory/v1``) in TMF style: ``id``, ``href``, ``@type``, camelCase
attributes, ``fields=`` projection. A number's ``id`` is its E.164 value (``+442079460123``): every number
of every block is addressable, touched or not; its TMF639 resource (once it has one) is linked as
``resource``.
"""

from __future__ import annotations

from typing import Any

from common import clock
from common.tmf import Fields, href, project
from oss.number_pool.domain import TMF639_STATUS, Part

BASE_PATH = "/provisio/numberInventory/v1"
TMF639_BASE_PATH = "/tmf-api/resourceInventoryManagement/v4"
RESOURCE_TYPE = "TelephoneNumber"


def _when(moment: Any) -> str | None:
    return clock.isoformat(moment) if moment is not None else None


def _without_none(document: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in document.items() if value is not None}


def pool_json(pool: Any, fields: Fields | None = None) -> dict[str, Any]:
    document = _without_none(
        {
            "id": pool.id,
            "href": href(BASE_PATH, "numberPool", pool.id),
            "@type": "NumberPool",
            "name": pool.name,
            "description": pool.description,
            "region": pool.region,
            "numberType": pool.number_type,
            "agingDays": pool.aging_days,
            "categoryRule": [rule.to_json() for rule in pool.category_rules],
            "capacity": pool.capacity,
            "available": pool.available,
            "stateCount": dict(pool.counts) if pool.counts else None,
            "createdAt": _when(pool.created_at),
            "updatedAt": _when(pool.updated_at),
        }
    )
    return project(document, fields)


def block_json(block: Any, fields: Fields | None = None) -> dict[str, Any]:
    document = _without_none(
        {
            "id": block.id,
            "href": href(BASE_PATH, "numberBlock", block.id),
            "@type": "NumberBlock",
            "poolId": block.pool_id,
            "first": block.first,
            "last": block.last,
            "size": block.size,
            "available": block.available,
            "countryCode": block.country_code,
            "region": block.region,
            "numberType": block.number_type,
            "createdAt": _when(block.created_at),
        }
    )
    return project(document, fields)


def number_json(number: Any, fields: Fields | None = None) -> dict[str, Any]:
    resource = (
        {
            "id": number.resource_id,
            "href": href(TMF639_BASE_PATH, "resource", number.resource_id),
            "@referredType": RESOURCE_TYPE,
        }
        if number.resource_id
        else None
    )
    document = _without_none(
        {
            "id": number.value,
            "href": href(BASE_PATH, "telephoneNumber", number.value),
            "@type": RESOURCE_TYPE,
            "value": number.value,
            "state": number.state,
            "category": number.category,
            "poolId": number.pool_id,
            "blockId": number.block_id,
            "customerId": number.customer_id,
            "serviceId": number.service_id,
            "productId": number.product_id,
            "reservationId": number.reservation_id,
            "orderItemId": number.order_item_id,
            "holdUntil": _when(number.hold_until),
            "agingUntil": _when(number.aging_until),
            "releasedAt": _when(number.released_at),
            "updatedAt": _when(number.updated_at),
            "resource": resource,
        }
    )
    return project(document, fields)


def history_json(entry: Any, fields: Fields | None = None) -> dict[str, Any]:
    document = _without_none(
        {
            "id": str(entry.id),
            "@type": "NumberHistory",
            "value": entry.value,
            "at": _when(entry.at),
            "fromState": entry.from_state,
            "toState": entry.to_state,
            "actor": entry.actor,
            "reservationId": entry.reservation_id,
            "orderItemId": entry.order_item_id,
            "reason": entry.reason,
        }
    )
    return project(document, fields, always=("id", "@type"))


def _characteristics(number: Any) -> list[dict[str, Any]]:
    return [
        {"name": "numberState", "value": number.state, "valueType": "string"},
        {"name": "numberPoolId", "value": number.pool_id, "valueType": "string"},
    ]


def _parties(number: Any) -> list[dict[str, Any]] | None:
    if not number.customer_id:
        return None
    return [{"id": number.customer_id, "role": "customer", "@referredType": "Customer"}]


def resource_document(number: Any) -> dict[str, Any]:
    """The TMF639 Resource_Create of a number (TelephoneNumber, a LogicalResource whose value is E.164)."""
    status, usage = TMF639_STATUS[number.state]
    document: dict[str, Any] = {
        "@type": RESOURCE_TYPE,
        "@baseType": "LogicalResource",
        "name": number.value,
        "value": number.value,
        "category": number.category,
        "resourceStatus": status,
        "usageState": usage,
        "resourceCharacteristic": _characteristics(number),
    }
    parties = _parties(number)
    if parties:
        document["relatedParty"] = parties
    return document


def resource_patch(number: Any) -> dict[str, Any]:
    """The merge-patch that brings a number's TMF639 resource up to date (``relatedParty: null`` drops it)."""
    status, usage = TMF639_STATUS[number.state]
    return {
        "category": number.category,
        "resourceStatus": status,
        "usageState": usage,
        "resourceCharacteristic": _characteristics(number),
        "relatedParty": _parties(number),
    }


def like_of(part: Part) -> tuple[bool, str]:
    """A search pattern as SQL LIKE on the national digits or, for ``+`` patterns, the E.164 value."""
    regex = part.regex.replace(".*", "%").replace(".", "_")
    return (True, "+" + regex) if part.international else (False, regex)
