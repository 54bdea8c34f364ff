"""Which inventory provides which reservation item ``@type``: the providers registered from the facades.

An inventory registers its provider once, from its own facade module::

    from oss.reservation import register_provider
    register_provider(NumberProvider())

Each item type of ``provider.item_schemas`` is also registered in ``ITEM_TYPES`` (a
``common.tmf.polymorphism.TypeRegistry``) with TMF685's item attributes plus the criteria its schema
declares, so an attribute neither declares is a 400 ``UNKNOWN_ATTRIBUTE`` naming it, as for every other
TMF type. The registry is code, not a table: a provider is code.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from common.tmf.polymorphism import TypeRegistry
from oss.reservation.errors import UnknownItemType
from oss.reservation.provider import ReservationProvider

ITEM_BASE_TYPE = "ReservationItem"
# The attributes of a reservation item TMF685 itself declares (the rest are the type's criteria).
ITEM_ATTRIBUTES = frozenset(
    {"id", "@type", "@baseType", "@schemaLocation", "quantity", "subReservationState", "resourceCapacity"}
)
ITEM_TYPES = TypeRegistry("ReservationItem", unknown_error=UnknownItemType)

_providers: dict[str, ReservationProvider] = {}  # item @type -> provider
_lock = threading.Lock()


def criteria_names(schema: Mapping[str, Any]) -> frozenset[str]:
    properties = schema.get("properties") or {}
    return frozenset(str(name) for name in properties)


def register_provider(provider: ReservationProvider) -> None:
    """Make ``provider`` answer the item types of its ``item_schemas`` (idempotent for the same provider;
    another provider claiming a type already taken is a programming error)."""
    schemas = provider.item_schemas
    with _lock:
        for item_type in schemas:
            existing = _providers.get(item_type)
            if existing is not None and existing is not provider and existing.name != provider.name:
                raise ValueError(f"reservation item type {item_type!r} is already provided by {existing.name!r}")
        for item_type, schema in schemas.items():
            ITEM_TYPES.register(
                item_type, base_type=ITEM_BASE_TYPE, attributes=ITEM_ATTRIBUTES | criteria_names(schema)
            )
            _providers[item_type] = provider


def providers() -> tuple[ReservationProvider, ...]:
    """Every registered provider, once each, in registration order."""
    seen: dict[int, ReservationProvider] = {}
    for provider in list(_providers.values()):
        seen.setdefault(id(provider), provider)
    return tuple(seen.values())


def provider_for(item_type: str) -> ReservationProvider:
    provider = _providers.get(item_type)
    if provider is None:
        known = ", ".join(sorted(_providers)) or "none (no inventory registered a provider)"
        raise UnknownItemType(f"Unknown reservation item @type {item_type!r}; this server provides {known}.")
    return provider


def item_schema(item_type: str) -> Mapping[str, Any]:
    return provider_for(item_type).item_schemas[item_type]


@contextmanager
def temporarily(*registered: ReservationProvider) -> Iterator[None]:
    """Register ``registered`` for the duration of a block (tests), restoring the providers afterwards."""
    with _lock:
        saved = dict(_providers)
    types = [ITEM_TYPES.find(name) for name in ITEM_TYPES.names()]
    with ITEM_TYPES.temporarily(*(found for found in types if found is not None)):
        try:
            for provider in registered:
                register_provider(provider)
            yield
        finally:
            with _lock:
                _providers.clear()
                _providers.update(saved)
