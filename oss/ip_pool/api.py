"""IPAM handlers (``openapi/ipam.yaml``, served at ``/provisio/ipam/v1``), named after the operationIds. Thin:
parse the query, call one use case, shape the answer."""

from __future__ import annotations

from typing import Any

from common import tmf
from common.tmf import parse_list_query
from oss.ip_pool import mapping, service, vlan
from oss.ip_pool.models import (
    ADDRESS_UNIQUE_INDEX,
    FREE_BLOCK_UNIQUE,
    POOL_NAME_CONSTRAINT,
    POOL_PREFIX_CONSTRAINT,
    PREFIX_UNIQUE_INDEX,
    VLAN_GROUP_NAME_CONSTRAINT,
    VLAN_UNIQUE_CONSTRAINT,
    VRF_NAME_CONSTRAINT,
)
from oss.ip_pool.repository import (
    ADDRESS_QUERY,
    POOL_QUERY,
    PREFIX_QUERY,
    VLAN_GROUP_QUERY,
    VLAN_QUERY,
    VRF_QUERY,
)
from server import deps
from server.errors import CONSTRAINT_ERRORS
from server.hub import register_listener, retrieve_listener, unregister_listener
from server.responses import created, listed, no_content, raw_query_string

QUERY_CONTRACTS = {
    "listVrf": VRF_QUERY,
    "retrieveVrf": VRF_QUERY,
    "listIpPrefix": PREFIX_QUERY,
    "retrieveIpPrefix": PREFIX_QUERY,
    "listIpAddress": ADDRESS_QUERY,
    "retrieveIpAddress": ADDRESS_QUERY,
    "listIpPool": POOL_QUERY,
    "retrieveIpPool": POOL_QUERY,
    "listVlanGroup": VLAN_GROUP_QUERY,
    "retrieveVlanGroup": VLAN_GROUP_QUERY,
    "listVlan": VLAN_QUERY,
    "retrieveVlan": VLAN_QUERY,
}

# Races lost at the database answer as races lost at the lock (server.errors maps them by name).
CONSTRAINT_ERRORS.update(
    {
        PREFIX_UNIQUE_INDEX: (409, "DUPLICATE_PREFIX", "The prefix was created concurrently in this VRF."),
        ADDRESS_UNIQUE_INDEX: (409, "IP_ADDRESS_TAKEN", "The address was taken concurrently in this VRF."),
        FREE_BLOCK_UNIQUE: (409, "CONCURRENT_UPDATE", "The free space changed concurrently; retry."),
        VRF_NAME_CONSTRAINT: (409, "VRF_NAME_TAKEN", "A VRF of that name exists already."),
        POOL_NAME_CONSTRAINT: (409, "IP_POOL_NAME_TAKEN", "An IP pool of that name exists already."),
        POOL_PREFIX_CONSTRAINT: (409, "IP_PREFIX_IS_POOL", "The prefix is a pool already."),
        VLAN_UNIQUE_CONSTRAINT: (409, "VLAN_TAKEN", "The VLAN was taken concurrently in its group."),
        VLAN_GROUP_NAME_CONSTRAINT: (409, "VLAN_GROUP_NAME_TAKEN", "A VLAN group of that name exists already."),
    }
)

__all__ = [
    "create_available_ip",
    "create_available_prefix",
    "create_available_vlan",
    "create_ip_address",
    "create_ip_pool",
    "create_ip_prefix",
    "create_vlan",
    "create_vlan_group",
    "create_vrf",
    "delete_ip_address",
    "delete_ip_pool",
    "delete_ip_prefix",
    "delete_vlan",
    "delete_vlan_group",
    "delete_vrf",
    "list_available_ip",
    "list_available_prefix",
    "list_available_vlan",
    "list_ip_address",
    "list_ip_pool",
    "list_ip_prefix",
    "list_vlan",
    "list_vlan_group",
    "list_vrf",
    "patch_ip_address",
    "patch_ip_pool",
    "register_listener",
    "retrieve_ip_address",
    "retrieve_ip_pool",
    "retrieve_ip_prefix",
    "retrieve_listener",
    "retrieve_vlan",
    "retrieve_vlan_group",
    "retrieve_vrf",
    "unregister_listener",
]


def _fields(spec: tmf.QuerySpec) -> tmf.Fields | None:
    return tmf.parse_item_query(raw_query_string(), spec.members)


def _query(spec: tmf.QuerySpec) -> tmf.ListQuery:
    return parse_list_query(raw_query_string(), spec)


# ------------------------------------------------------------------------------------------- VRFs


def list_vrf(**_declared: Any) -> Any:
    query = _query(VRF_QUERY)
    page = service.list_vrfs(deps.uow(read_only=True), query)
    return listed([mapping.vrf_json(vrf, query.fields) for vrf in page.items], page)


def create_vrf(body: dict[str, Any]) -> Any:
    representation = mapping.vrf_json(service.create_vrf(deps.uow(), body))
    return created(representation, representation["href"])


def retrieve_vrf(id: str, **_declared: Any) -> Any:
    fields = _fields(VRF_QUERY)
    return mapping.vrf_json(service.retrieve_vrf(deps.uow(read_only=True), id), fields)


def delete_vrf(id: str) -> Any:
    service.delete_vrf(deps.uow(), id)
    return no_content()


# --------------------------------------------------------------------------------------- prefixes


def list_ip_prefix(**_declared: Any) -> Any:
    query = _query(PREFIX_QUERY)
    page = service.list_prefixes(deps.uow(read_only=True), query)
    return listed([mapping.prefix_json(prefix, query.fields) for prefix in page.items], page)


def create_ip_prefix(body: dict[str, Any]) -> Any:
    representation = mapping.prefix_json(service.create_prefix(deps.uow(), body))
    return created(representation, representation["href"])


def retrieve_ip_prefix(id: str, **_declared: Any) -> Any:
    fields = _fields(PREFIX_QUERY)
    return mapping.prefix_json(service.retrieve_prefix(deps.uow(read_only=True), id), fields)


def delete_ip_prefix(id: str, cascade: bool = False, **_declared: Any) -> Any:
    service.delete_prefix(deps.uow(), id, cascade=bool(cascade))
    return no_content()


def list_available_ip(id: str, limit: int = 10, **_declared: Any) -> Any:
    found = service.preview_addresses(deps.uow(read_only=True), id, int(limit))
    return [{"address": address} for address in found]


def create_available_ip(id: str, body: dict[str, Any] | None = None) -> Any:
    addresses = service.allocate_addresses(deps.uow(), id, body or {})
    return [mapping.address_json(address) for address in addresses], 201


def list_available_prefix(id: str, prefixLength: int, limit: int = 10, **_declared: Any) -> Any:
    found = service.preview_prefixes(deps.uow(read_only=True), id, int(prefixLength), int(limit))
    return [{"prefix": prefix} for prefix in found]


def create_available_prefix(id: str, body: dict[str, Any]) -> Any:
    representation = mapping.prefix_json(service.allocate_prefix(deps.uow(), id, body))
    return created(representation, representation["href"])


# -------------------------------------------------------------------------------------- addresses


def list_ip_address(**_declared: Any) -> Any:
    query = _query(ADDRESS_QUERY)
    page = service.list_addresses(deps.uow(read_only=True), query)
    return listed([mapping.address_json(address, query.fields) for address in page.items], page)


def create_ip_address(body: dict[str, Any]) -> Any:
    representation = mapping.address_json(service.create_address(deps.uow(), body))
    return created(representation, representation["href"])


def retrieve_ip_address(id: str, **_declared: Any) -> Any:
    fields = _fields(ADDRESS_QUERY)
    return mapping.address_json(service.retrieve_address(deps.uow(read_only=True), id), fields)


def patch_ip_address(id: str, body: dict[str, Any]) -> Any:
    return mapping.address_json(service.patch_address(deps.uow(), id, body))


def delete_ip_address(id: str) -> Any:
    service.delete_address(deps.uow(), id)
    return no_content()


# ------------------------------------------------------------------------------------------ pools


def list_ip_pool(**_declared: Any) -> Any:
    query = _query(POOL_QUERY)
    page = service.list_pools(deps.uow(read_only=True), query)
    return listed([mapping.pool_json(pool, query.fields) for pool in page.items], page)


def create_ip_pool(body: dict[str, Any]) -> Any:
    representation = mapping.pool_json(service.create_pool(deps.uow(), body))
    return created(representation, representation["href"])


def retrieve_ip_pool(id: str, **_declared: Any) -> Any:
    fields = _fields(POOL_QUERY)
    return mapping.pool_json(service.retrieve_pool(deps.uow(read_only=True), id), fields)


def patch_ip_pool(id: str, body: dict[str, Any]) -> Any:
    return mapping.pool_json(service.patch_pool(deps.uow(), id, body))


def delete_ip_pool(id: str) -> Any:
    service.delete_pool(deps.uow(), id)
    return no_content()


# ------------------------------------------------------------------------------------------ VLANs


def list_vlan_group(**_declared: Any) -> Any:
    query = _query(VLAN_GROUP_QUERY)
    page = vlan.list_groups(deps.uow(read_only=True), query)
    return listed([mapping.vlan_group_json(group, query.fields) for group in page.items], page)


def create_vlan_group(body: dict[str, Any]) -> Any:
    representation = mapping.vlan_group_json(vlan.create_group(deps.uow(), body))
    return created(representation, representation["href"])


def retrieve_vlan_group(id: str, **_declared: Any) -> Any:
    fields = _fields(VLAN_GROUP_QUERY)
    return mapping.vlan_group_json(vlan.retrieve_group(deps.uow(read_only=True), id), fields)


def delete_vlan_group(id: str) -> Any:
    vlan.delete_group(deps.uow(), id)
    return no_content()


def list_available_vlan(id: str, limit: int = 10, **_declared: Any) -> Any:
    return [{"vid": vid} for vid in vlan.preview_vlans(deps.uow(read_only=True), id, int(limit))]


def create_available_vlan(id: str, body: dict[str, Any] | None = None) -> Any:
    representation = mapping.vlan_json(vlan.allocate_vlan(deps.uow(), id, body or {}))
    return created(representation, representation["href"])


def list_vlan(**_declared: Any) -> Any:
    query = _query(VLAN_QUERY)
    page = vlan.list_vlans(deps.uow(read_only=True), query)
    return listed([mapping.vlan_json(found, query.fields) for found in page.items], page)


def create_vlan(body: dict[str, Any]) -> Any:
    representation = mapping.vlan_json(vlan.create_vlan(deps.uow(), body))
    return created(representation, representation["href"])


def retrieve_vlan(id: str, **_declared: Any) -> Any:
    fields = _fields(VLAN_QUERY)
    return mapping.vlan_json(vlan.retrieve_vlan(deps.uow(read_only=True), id), fields)


def delete_vlan(id: str) -> Any:
    vlan.delete_vlan(deps.uow(), id)
    return no_content()
