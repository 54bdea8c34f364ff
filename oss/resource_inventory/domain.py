"""Resource inventory rules (TMF639 v4): resource types, who owns them, and what a change is.

Pure: no database, no HTTP. The ``@type`` of a resource names its class; every known class is
registered here with its ``@baseType`` and, for classes another context manages (telephone numbers, IP
addresses, devices, CPE), the owner. The generic TMF639 API reads every resource but writes only the
ones nobody else owns, so an E.164 number cannot be freed or re-assigned behind the number pool's back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from common.tmf.polymorphism import RegisteredType, TypeRegistry
from oss.resource_inventory.errors import OwnedElsewhere, UnknownResourceType

# TMF639 v4 state attributes: a change to any of them is a ResourceStateChangeEvent.
STATE_ATTRIBUTES: tuple[str, ...] = ("administrativeState", "operationalState", "usageState", "resourceStatus")

DEFAULT_TYPE = "LogicalResource"


@dataclass(frozen=True)
class Ownership:
    """Which context manages a resource type, and where a client should go to change it."""

    context: str  # e.g. "number_pool"
    code: str  # e.g. "OWNED_BY_NUMBER_POOL"
    api_path: str  # e.g. "/tmf-api/numberPool/v1/telephoneNumber"


# A resource type: its @type, @baseType, owner (``Ownership`` or None) and the attributes its schema declares
# (``common.tmf.polymorphism``: a registered type's schema is closed, a client subclass is validated as its base).
ResourceType = RegisteredType


class ResourceTypeRegistry(TypeRegistry):
    """The ``@type`` values TMF639 accepts. Later contexts add theirs from their facade module::

    RESOURCE_TYPES.register("TelephoneNumber", base_type="LogicalResource",
                            owner=Ownership("number_pool", "OWNED_BY_NUMBER_POOL", "/tmf-api/..."))

    A type registered without ``attributes`` has its base type's; one with a schema of its own passes the
    names its served schema declares. ``get`` of an unknown name is a 400 ``UNKNOWN_RESOURCE_TYPE``.
    """

    def __init__(self, name: str | None = None, **options: Any) -> None:
        super().__init__(name, **{"unknown_error": UnknownResourceType, **options})


RESOURCE_TYPES = ResourceTypeRegistry("Resource", default=DEFAULT_TYPE, unknown_error=UnknownResourceType)


def register_builtin_types(attributes_of: Callable[[str], Iterable[str]]) -> None:
    """TMF639's own classes, with the attributes of their served create schemas (``attributes_of(schema)``)."""
    RESOURCE_TYPES.register("Resource", base_type=None, attributes=attributes_of("BaseResource_Create"))
    RESOURCE_TYPES.register("LogicalResource", base_type="Resource", attributes=attributes_of("LogicalResource_Create"))
    RESOURCE_TYPES.register(
        "PhysicalResource", base_type="Resource", attributes=attributes_of("PhysicalResource_Create")
    )


def ensure_writable(resource_type: ResourceType, acting_context: str | None) -> None:
    """Refuse a write to a type another context owns unless that context is the one writing (409)."""
    owner = resource_type.owner
    if owner is None or owner.context == acting_context:
        return
    raise OwnedElsewhere(
        f"{resource_type.name} resources are managed by the {owner.context.replace('_', ' ')} API: "
        f"change them through {owner.api_path}.",
        code=owner.code,
        details={"managedBy": owner.api_path},
    )


@dataclass(frozen=True)
class ResourceData:
    """A resource as use cases return it. ``attributes`` holds every TMF attribute that has no column
    of its own, as TMF JSON (resourceCharacteristic, relatedParty, note, place, ...)."""

    id: str
    type: str
    base_type: str | None  # None for the base class itself (@type Resource)
    name: str
    category: str | None
    description: str | None
    resource_status: str | None
    usage_state: str | None
    administrative_state: str | None
    operational_state: str | None
    start_operating_date: datetime | None
    end_operating_date: datetime | None
    resource_version: str | None
    attributes: Mapping[str, Any]
    created_at: datetime
    updated_at: datetime
    version: int = 1  # the row version: what the ETag is made of (RFC 9110 §8.8.3)


@dataclass(frozen=True)
class Change:
    """What a PATCH changed, in TMF639 event terms."""

    state_members: tuple[str, ...]
    attribute_members: tuple[str, ...]

    @property
    def is_empty(self) -> bool:
        return not self.state_members and not self.attribute_members


def classify_change(changed_members: list[str]) -> Change:
    """Split changed top-level members into state changes and other attribute changes (TMF639 §events)."""
    return Change(
        state_members=tuple(member for member in changed_members if member in STATE_ATTRIBUTES),
        attribute_members=tuple(member for member in changed_members if member not in STATE_ATTRIBUTES),
    )
