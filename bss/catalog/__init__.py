"""Product, service and resource catalog (TMF620 v5, TMF633 v4, TMF634 v5) and the decomposition rules.

Facade for other contexts:

- ``create_entity`` / ``patch_entity`` / ``retrieve_entity`` / ``list_entities`` with the TMF collection
  name (``productOffering``, ``productSpecification``, ``productOfferingPrice``, ``serviceSpecification``,
  ``resourceSpecification``);
- ``KINDS``: the collections, their ``@type``, API and base path.
"""

from bss.catalog.domain import KINDS, ORDERABLE_STATUSES, Kind
from bss.catalog.errors import CatalogEntityNotFound, VersionExists, VersionNotFound
from bss.catalog.mapping import CatalogEntity
from bss.catalog.service import create_entity, list_entities, patch_entity, retrieve_entity

__all__ = [
    "KINDS",
    "ORDERABLE_STATUSES",
    "CatalogEntity",
    "CatalogEntityNotFound",
    "Kind",
    "VersionExists",
    "VersionNotFound",
    "create_entity",
    "list_entities",
    "patch_entity",
    "retrieve_entity",
]
