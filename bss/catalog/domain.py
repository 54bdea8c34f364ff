"""Pure catalog rules: which TMF entities the catalog holds, where each is served, and how versions move.

TMF620 v5, TMF633 v4 and TMF634 v5 give every catalog entity a ``version`` (free string) and a
``lifecycleStatus``. Provisio's rule: a change of an entity's content is a new version; the old one stays
readable as it was (``catalog_version``), so what an order item was sold at never changes under it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DEFAULT_VERSION = "1.0"
DEFAULT_LIFECYCLE = "In design"
# TM Forum's usual lifecycle values (TMF620 v5 leaves the member a free string). An offering is orderable
# while Active or Launched.
LIFECYCLE_STATUSES = ("In study", "In design", "In test", "Active", "Launched", "Retired", "Obsolete", "Rejected")
ORDERABLE_STATUSES = frozenset({"Active", "Launched"})
# Members the server sets; a change of lifecycleStatus alone does not make a new version.
SERVER_MEMBERS = frozenset({"id", "href", "@type", "@baseType", "lastUpdate"})
NOT_VERSIONED = frozenset({"lifecycleStatus", "statusReason", "version", *SERVER_MEMBERS})


@dataclass(frozen=True)
class Kind:
    """One catalog entity kind: its TMF collection, @type, API and base path."""

    collection: str  # productOffering
    type: str  # ProductOffering
    api: str  # the ApiEntry name (server/apis.py): productCatalogManagement
    base_path: str

    @property
    def create_event(self) -> str:
        return f"{self.type}CreateEvent"

    @property
    def change_event(self) -> str:
        return f"{self.type}AttributeValueChangeEvent"

    @property
    def state_event(self) -> str:
        return f"{self.type}StateChangeEvent"


PRODUCT_CATALOG = "productCatalogManagement"
SERVICE_CATALOG = "serviceCatalogManagement"
RESOURCE_CATALOG = "resourceCatalog"
PRODUCT_CATALOG_BASE = "/tmf-api/productCatalogManagement/v5"
SERVICE_CATALOG_BASE = "/tmf-api/serviceCatalogManagement/v4"
RESOURCE_CATALOG_BASE = "/tmf-api/resourceCatalog/v5"

KINDS: dict[str, Kind] = {
    kind.collection: kind
    for kind in (
        Kind("productSpecification", "ProductSpecification", PRODUCT_CATALOG, PRODUCT_CATALOG_BASE),
        Kind("productOffering", "ProductOffering", PRODUCT_CATALOG, PRODUCT_CATALOG_BASE),
        Kind("productOfferingPrice", "ProductOfferingPrice", PRODUCT_CATALOG, PRODUCT_CATALOG_BASE),
        Kind("serviceSpecification", "ServiceSpecification", SERVICE_CATALOG, SERVICE_CATALOG_BASE),
        Kind("resourceSpecification", "ResourceSpecification", RESOURCE_CATALOG, RESOURCE_CATALOG_BASE),
    )
}

_TRAILING_NUMBER = re.compile(r"^(.*?)(\d+)$")


def next_version(version: str) -> str:
    """The version after ``version``: its last number counted up ("1.0" -> "1.1", "2" -> "3", "v1.9" ->
    "v1.10"), or ".1" appended when it ends in no number ("beta" -> "beta.1")."""
    match = _TRAILING_NUMBER.match(version)
    if match is None:
        return f"{version}.1"
    return f"{match.group(1)}{int(match.group(2)) + 1}"


def versioned_content(document: dict[str, object]) -> dict[str, object]:
    """The part of a document whose change makes a new version (everything but status and server members)."""
    return {key: value for key, value in document.items() if key not in NOT_VERSIONED}
