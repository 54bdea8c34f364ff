"""Resource types, ownership and change classification (TMF639 v4), without a database."""

from __future__ import annotations

import pytest

from oss.resource_inventory.domain import (
    RESOURCE_TYPES,
    Ownership,
    ResourceType,
    ResourceTypeRegistry,
    classify_change,
    ensure_writable,
)
from oss.resource_inventory.errors import OwnedElsewhere, UnknownResourceType

IP_POOL = Ownership(context="ip_pool", code="OWNED_BY_IP_POOL", api_path="/tmf-api/ipPool/v1/ipAddress")


def test_registry_knows_the_tmf639_base_types() -> None:
    assert RESOURCE_TYPES.get("LogicalResource").base_type == "Resource"
    assert RESOURCE_TYPES.get("PhysicalResource").base_type == "Resource"


def test_unknown_type_is_invalid_input_naming_known_types() -> None:
    with pytest.raises(UnknownResourceType, match="PhysicalResource"):
        RESOURCE_TYPES.get("Toaster")


def test_registering_the_same_type_twice_is_idempotent_but_a_different_one_is_refused() -> None:
    registry = ResourceTypeRegistry()
    registry.register("IpAddress", base_type="LogicalResource", owner=IP_POOL)
    registry.register("IpAddress", base_type="LogicalResource", owner=IP_POOL)
    with pytest.raises(ValueError, match="already registered"):
        registry.register("IpAddress", base_type="LogicalResource")


def test_temporary_registration_is_undone() -> None:
    # A name no context registers (IpAddress is oss.ip_pool's now).
    with RESOURCE_TYPES.temporarily(ResourceType("ExampleAddress", "LogicalResource", IP_POOL)):
        assert RESOURCE_TYPES.get("ExampleAddress").owner == IP_POOL
    with pytest.raises(UnknownResourceType):
        RESOURCE_TYPES.get("ExampleAddress")


def test_owned_type_refuses_writes_from_anyone_but_its_owner() -> None:
    owned = ResourceType("IpAddress", "LogicalResource", IP_POOL)
    with pytest.raises(OwnedElsewhere) as raised:
        ensure_writable(owned, acting_context=None)
    assert raised.value.code == "OWNED_BY_IP_POOL"
    assert "/tmf-api/ipPool/v1/ipAddress" in raised.value.message
    ensure_writable(owned, acting_context="ip_pool")
    ensure_writable(RESOURCE_TYPES.get("LogicalResource"), acting_context=None)


@pytest.mark.parametrize(
    ("changed", "states", "attributes"),
    [
        (["resourceStatus"], ("resourceStatus",), ()),
        (["name", "usageState", "note"], ("usageState",), ("name", "note")),
        (["administrativeState", "operationalState"], ("administrativeState", "operationalState"), ()),
        ([], (), ()),
    ],
)
def test_classify_change_separates_state_from_attribute_changes(
    changed: list[str], states: tuple[str, ...], attributes: tuple[str, ...]
) -> None:
    change = classify_change(changed)
    assert (change.state_members, change.attribute_members) == (states, attributes)
    assert change.is_empty == (not changed)
