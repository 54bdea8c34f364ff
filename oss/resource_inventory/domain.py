"""Resource inventory rules (TMF639 v4): resource types, who owns them, and what a change is.

Pure: no database, no HTTP. The ``@type`` of a resource names its class; every known class is
registered here with its ``@baseType`` and, for classes another context manages (telephone numbers, IP
addresses, devices, CPE), the owner. The generic TMF639 API reads every resource but writes only the
ones nobody else owns, so an E.164 number cannot be freed or re-assigned behind the number pool's back.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

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


@dataclass(frozen=True)
class ResourceType:
    name: str  # @type
    base_type: str  # @baseType
    owner: Ownership | None = None


@dataclass
class ResourceTypeRegistry:
    """The ``@type`` values TMF639 accepts. Later contexts add theirs from their facade module::

    RESOURCE_TYPES.register("TelephoneNumber", base_type="LogicalResource",
                            owner=Ownership("number_pool", "OWNED_BY_NUMBER_POOL", "/tmf-api/..."))
    """

    _types: dict[str, ResourceType] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def register(self, name: str, *, base_type: str = "Resource", owner: Ownership | None = None) -> ResourceType:
        resource_type = ResourceType(name=name, base_type=base_type, owner=owner)
        with self._lock:
            existing = self._types.get(name)
            if existing is not None and existing != resource_type:
                raise ValueError(f"resource type {name!r} is already registered as {existing}")
            self._types[name] = resource_type
        return resource_type

    def get(self, name: str) -> ResourceType:
        found = self._types.get(name)
        if found is None:
            raise UnknownResourceType(
                f"Unknown resource @type {name!r}; this inventory knows {', '.join(sorted(self._types))}."
            )
        return found

    def names(self) -> tuple[str, ...]:
        return tuple(sorted(self._types))

    @contextmanager
    def temporarily(self, *types: ResourceType) -> Iterator[None]:
        """Register ``types`` for the duration of a block (tests), restoring the registry afterwards."""
        with self._lock:
            saved = dict(self._types)
            self._types.update({resource_type.name: resource_type for resource_type in types})
        try:
            yield
        finally:
            with self._lock:
                self._types.clear()
                self._types.update(saved)


RESOURCE_TYPES = ResourceTypeRegistry()
RESOURCE_TYPES.register("LogicalResource", base_type="Resource")
RESOURCE_TYPES.register("PhysicalResource", base_type="Resource")


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
    base_type: str
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
