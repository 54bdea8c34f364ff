"""TMF JSON <-> ``CatalogEntity``: which attribute is a column, ``href``, ``@type``, ``fields=`` projection."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bss.catalog.domain import KINDS, SERVER_MEMBERS
from common import clock
from common.tmf import Fields, href, project

# The order members appear in a response: TMF's own order for the common part, then the rest.
_LEADING = ("id", "href", "@type", "@baseType", "@schemaLocation", "name", "description", "version",
            "lifecycleStatus", "lastUpdate")  # fmt: skip
# TMF attribute kept in its own column (the rest is the JSON document).
COLUMN_MEMBERS = ("name", "version", "lifecycleStatus")


@dataclass(frozen=True)
class CatalogEntity:
    """One catalog entity as it is now (TMF620 ProductOffering, ProductSpecification, ProductOfferingPrice,
    TMF633 ServiceSpecification, TMF634 ResourceSpecification)."""

    kind: str  # the TMF collection
    id: str
    name: str
    version: str
    lifecycle_status: str
    last_update: datetime
    document: Mapping[str, Any]  # every other member
    row_version: int = 1


def entity_href(kind: str, entity_id: str) -> str:
    return href(KINDS[kind].base_path, kind, entity_id)


def document_of(entity: CatalogEntity) -> dict[str, Any]:
    """The whole TMF document, ``href`` included, members in TMF's order."""
    document: dict[str, Any] = {
        "id": entity.id,
        "href": entity_href(entity.kind, entity.id),
        "@type": KINDS[entity.kind].type,
        "name": entity.name,
        "version": entity.version,
        "lifecycleStatus": entity.lifecycle_status,
        "lastUpdate": clock.isoformat(entity.last_update),
    }
    document.update({key: value for key, value in entity.document.items() if key not in document})
    ordered = {key: document.pop(key) for key in _LEADING if key in document}
    ordered.update(document)
    return ordered


def to_tmf(entity: CatalogEntity, fields: Fields | None = None) -> dict[str, Any]:
    return project(document_of(entity), fields)


def split(document: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(column values, JSON members) of a create body or a merged document; server members dropped."""
    columns = {key: document[key] for key in COLUMN_MEMBERS if key in document}
    rest = {key: value for key, value in document.items() if key not in COLUMN_MEMBERS and key not in SERVER_MEMBERS}
    return columns, rest
