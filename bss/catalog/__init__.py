"""Product, service and resource catalog (TMF620 v5, TMF633 v4, TMF634 v5) and the decomposition rules.

Facade for other contexts:

- ``create_entity`` / ``patch_entity`` / ``retrieve_entity`` / ``list_entities`` with the TMF collection
  name (``productOffering``, ``productSpecification``, ``productOfferingPrice``, ``serviceSpecification``,
  ``resourceSpecification``);
- ``KINDS``: the collections, their ``@type``, API and base path;
- ``offering_snapshot(uow, offering_id, version=None)``: the immutable ``OfferingSnapshot`` an order item
  pins (offering, specification and prices at the versions sold), with ``.orderable`` and
  ``.decompose(characteristics)``;
- ``decompose(view, characteristics)`` (pure) and the plan's dataclasses: ``Plan``, ``HoldStep`` (a TMF685
  reservation item), ``ActivationStep``, ``ManualTaskStep``, ``PlannedService``;
- ``load_catalog_file(uow, path)``: the catalog file loader (idempotent).
"""

from bss.catalog.domain import (
    KINDS,
    ORDERABLE_STATUSES,
    RESERVATION_ITEM_TYPES,
    ActivationStep,
    CatalogView,
    HoldStep,
    Kind,
    ManualTaskStep,
    Plan,
    PlannedService,
    SpecRef,
    decompose,
)
from bss.catalog.errors import (
    CatalogEntityNotFound,
    InvalidCatalogFile,
    InvalidDecomposition,
    VersionExists,
    VersionNotFound,
)
from bss.catalog.loader import load_file as load_catalog_file
from bss.catalog.mapping import CatalogEntity
from bss.catalog.service import (
    OfferingSnapshot,
    create_entity,
    list_entities,
    offering_snapshot,
    patch_entity,
    retrieve_entity,
)

__all__ = [
    "KINDS",
    "ORDERABLE_STATUSES",
    "RESERVATION_ITEM_TYPES",
    "ActivationStep",
    "CatalogEntity",
    "CatalogEntityNotFound",
    "CatalogView",
    "HoldStep",
    "InvalidCatalogFile",
    "InvalidDecomposition",
    "Kind",
    "ManualTaskStep",
    "OfferingSnapshot",
    "Plan",
    "PlannedService",
    "SpecRef",
    "VersionExists",
    "VersionNotFound",
    "create_entity",
    "decompose",
    "list_entities",
    "load_catalog_file",
    "offering_snapshot",
    "patch_entity",
    "retrieve_entity",
]
