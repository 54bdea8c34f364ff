"""Resource inventory (TMF639 v4): the generic resource store every other inventory shows itself in.

Facade for other contexts:

- ``RESOURCE_TYPES.register(name, base_type=..., owner=Ownership(...))`` -- declare a resource ``@type``
  and, for types you manage, your ownership (TMF639 writes then answer 409 with your code);
- ``bulk_create_resources(session, documents, acting_context=...)`` in the caller's transaction (a bulk
  import of your own rows writes their TMF639 rows with it), ``import_resources(uow, documents)`` in
  batches of one transaction each; both through ``common.bulk`` (audit and events as row by row);
- ``create_resource`` / ``patch_resource`` / ``delete_resource`` with ``acting_context=<your context>``
  to write your own types (events and audit included), ``retrieve_resource`` / ``list_resources`` to read;
- ``create_resource_in(session, ...)`` / ``patch_resource_in(session, ...)`` / ``delete_resource_in``: the
  same writes in the caller's transaction (never commit), so an owning context's change and its TMF639 row
  commit together.
"""

from oss.resource_inventory.domain import RESOURCE_TYPES, Ownership, ResourceData, ResourceType
from oss.resource_inventory.errors import OwnedElsewhere, ResourceNotFound, UnknownResourceType
from oss.resource_inventory.service import (
    bulk_create_resources,
    create_resource,
    create_resource_in,
    delete_resource,
    delete_resource_in,
    import_resources,
    list_resources,
    patch_resource,
    patch_resource_in,
    retrieve_resource,
)

__all__ = [
    "RESOURCE_TYPES",
    "OwnedElsewhere",
    "Ownership",
    "ResourceData",
    "ResourceNotFound",
    "ResourceType",
    "UnknownResourceType",
    "bulk_create_resources",
    "create_resource",
    "create_resource_in",
    "delete_resource",
    "delete_resource_in",
    "import_resources",
    "list_resources",
    "patch_resource",
    "patch_resource_in",
    "retrieve_resource",
]
