"""TMF639 JSON <-> ``ResourceData``: which TMF attribute is a column, hrefs, ``@type``/``@baseType``,
and ``fields=`` projection.

Pure apart from reading the request's base URL for ``href``; the service uses ``to_tmf`` too, to put the
resource in its events exactly as a client would GET it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from common import clock
from common.tmf import Fields, href, project
from oss.resource_inventory.domain import ResourceData
from oss.resource_inventory.errors import ImmutableAttribute, InvalidAttributeValue

BASE_PATH = "/tmf-api/resourceInventoryManagement/v4"
COLLECTION = "resource"

# TMF attribute -> ResourceData field, for attributes kept in their own column.
COLUMN_ATTRIBUTES: dict[str, str] = {
    "name": "name",
    "category": "category",
    "description": "description",
    "resourceStatus": "resource_status",
    "usageState": "usage_state",
    "administrativeState": "administrative_state",
    "operationalState": "operational_state",
    "resourceVersion": "resource_version",
}
DATE_ATTRIBUTES: dict[str, str] = {
    "startOperatingDate": "start_operating_date",
    "endOperatingDate": "end_operating_date",
}
# Set by the server, never stored from a request.
SERVER_ATTRIBUTES = ("id", "href", "@type", "@baseType")

# The order members appear in a response: TMF's own order for the common part, then the rest.
_LEADING = ("id", "href", "@type", "@baseType", "@schemaLocation", "name", "description", "category")


@dataclass(frozen=True)
class ResourceFields:
    """The writable content of a resource, split as it is stored."""

    type: str | None
    columns: dict[str, Any]  # ResourceData field -> value
    attributes: dict[str, Any]  # every other TMF attribute


def resource_href(resource_id: str) -> str:
    return href(BASE_PATH, COLLECTION, resource_id)


def document_of(resource: ResourceData) -> dict[str, Any]:
    """The TMF document without ``href`` (what merge-patch applies to)."""
    document: dict[str, Any] = {"id": resource.id, "@type": resource.type}
    if resource.base_type is not None:  # the base class itself (@type Resource) has none
        document["@baseType"] = resource.base_type
    for attribute, field_name in COLUMN_ATTRIBUTES.items():
        value = getattr(resource, field_name)
        if value is not None:
            document[attribute] = value
    for attribute, field_name in DATE_ATTRIBUTES.items():
        moment = getattr(resource, field_name)
        if moment is not None:
            document[attribute] = clock.isoformat(moment)
    document.update(resource.attributes)
    return document


def to_tmf(resource: ResourceData, fields: Fields | None = None) -> dict[str, Any]:
    """The TMF639 Resource a client sees (``href`` from the request's base URL), projected by ``fields``."""
    document = document_of(resource)
    document["href"] = resource_href(resource.id)
    # The leading members moved out first, the rest appended as they come: one dict copy, no filtering pass.
    ordered = {key: document.pop(key) for key in _LEADING if key in document}
    ordered.update(document)
    return project(ordered, fields)


def from_tmf(document: Mapping[str, Any], *, resource_id: str | None = None) -> ResourceFields:
    """Split a create body or a merged document into columns and JSON attributes.

    The schema has already checked shapes and enums; what is left here is what it cannot say: ``id``
    cannot change, and ``href``/``@baseType`` are the server's to set.
    """
    given_id = document.get("id")
    if given_id is not None and resource_id is not None and given_id != resource_id:
        raise ImmutableAttribute(f"id cannot be changed (resource {resource_id!r}, body says {given_id!r}).")
    columns: dict[str, Any] = {}
    attributes: dict[str, Any] = {}
    for key, value in document.items():
        if key in SERVER_ATTRIBUTES:
            continue
        if key in COLUMN_ATTRIBUTES:
            columns[COLUMN_ATTRIBUTES[key]] = value
        elif key in DATE_ATTRIBUTES:
            columns[DATE_ATTRIBUTES[key]] = _parse_datetime(key, value)
        else:
            attributes[key] = value
    raw_type = document.get("@type")
    return ResourceFields(type=str(raw_type) if raw_type is not None else None, columns=columns, attributes=attributes)


def _parse_datetime(attribute: str, value: Any) -> datetime:
    try:
        return clock.parse_utc(str(value))
    except ValueError:
        raise InvalidAttributeValue(
            f"{attribute} must be an ISO 8601 date-time in the years 1-9999, not {value!r}."
        ) from None
