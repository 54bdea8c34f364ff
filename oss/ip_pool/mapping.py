"""IPAM JSON <-> dataclasses, and the TMF639 resource documents of prefixes and addresses.

Our own API (``/provisio/ipam/v1``; TMF publishes no IPAM API) in TMF style: ``id``, ``href``, ``@type``,
camelCase attributes, ``fields=`` projection. A prefix's or an address's TMF639 resource has the same id.
"""

from __future__ import annotations

from typing import Any

from common import clock
from common.tmf import Fields, href, project
from oss.ip_pool.domain import TMF639_STATUS

BASE_PATH = "/provisio/ipam/v1"
TMF639_BASE_PATH = "/tmf-api/resourceInventoryManagement/v4"
ADDRESS_TYPE = "IpAddress"
PREFIX_TYPE = "IpPrefix"
VLAN_TYPE = "Vlan"


def _when(moment: Any) -> str | None:
    return clock.isoformat(moment) if moment is not None else None


def _without_none(document: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in document.items() if value is not None}


def _resource_ref(resource_id: str, referred: str) -> dict[str, Any]:
    return {"id": resource_id, "href": href(TMF639_BASE_PATH, "resource", resource_id), "@referredType": referred}


def vrf_json(vrf: Any, fields: Fields | None = None) -> dict[str, Any]:
    document = _without_none(
        {
            "id": vrf.id,
            "href": href(BASE_PATH, "vrf", vrf.id),
            "@type": "Vrf",
            "name": vrf.name,
            "rd": vrf.rd,
            "importTargets": list(vrf.import_targets),
            "exportTargets": list(vrf.export_targets),
            "enforceUnique": vrf.enforce_unique,
            "description": vrf.description,
            "prefixCount": vrf.prefix_count,
            "createdAt": _when(vrf.created_at),
        }
    )
    return project(document, fields)


def prefix_json(prefix: Any, fields: Fields | None = None) -> dict[str, Any]:
    document = _without_none(
        {
            "id": prefix.id,
            "href": href(BASE_PATH, "prefix", prefix.id),
            "@type": PREFIX_TYPE,
            "prefix": prefix.prefix,
            "family": prefix.family,
            "prefixLength": prefix.length,
            "vrfId": prefix.vrf_id,
            "parentId": prefix.parent_id,
            "depth": prefix.depth,
            "status": prefix.status,
            "description": prefix.description,
            "size": str(prefix.size),
            "used": str(prefix.used) if prefix.used is not None else None,
            "utilization": prefix.utilization,
            "childCount": prefix.children,
            "addressCount": prefix.addresses,
            "poolId": prefix.pool_id,
            "createdAt": _when(prefix.created_at),
            "resource": _resource_ref(prefix.id, PREFIX_TYPE),
        }
    )
    return project(document, fields)


def address_json(address: Any, fields: Fields | None = None) -> dict[str, Any]:
    document = _without_none(
        {
            "id": address.id,
            "href": href(BASE_PATH, "ipAddress", address.id),
            "@type": ADDRESS_TYPE,
            "address": address.address,
            "family": address.family,
            "vrfId": address.vrf_id,
            "prefixId": address.prefix_id,
            "status": address.status,
            "role": address.role,
            "dnsName": address.dns_name,
            "interfaceId": address.interface_id,
            "serviceId": address.service_id,
            "reservationId": address.reservation_id,
            "description": address.description,
            "createdAt": _when(address.created_at),
            "updatedAt": _when(address.updated_at),
            "resource": _resource_ref(address.id, ADDRESS_TYPE),
        }
    )
    return project(document, fields)


def pool_json(pool: Any, fields: Fields | None = None) -> dict[str, Any]:
    document = _without_none(
        {
            "id": pool.id,
            "href": href(BASE_PATH, "pool", pool.id),
            "@type": "IpPool",
            "name": pool.name,
            "prefixId": pool.prefix_id,
            "prefix": pool.prefix,
            "reservedHead": pool.reserved_head,
            "reservedTail": pool.reserved_tail,
            "description": pool.description,
            "capacity": str(pool.capacity),
            "available": str(pool.available) if pool.available is not None else None,
            "createdAt": _when(pool.created_at),
        }
    )
    return project(document, fields)


def _characteristics(pairs: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {"name": name, "value": value, "valueType": "integer" if isinstance(value, int) else "string"}
        for name, value in pairs.items()
        if value is not None
    ]


def prefix_resource(row: Any) -> dict[str, Any]:
    """The TMF639 Resource_Create of a prefix (IpPrefix, a LogicalResource whose value is the CIDR)."""
    status, usage = TMF639_STATUS.get(row.status, ("available", "active"))
    return {
        "@type": PREFIX_TYPE,
        "@baseType": "LogicalResource",
        "name": row.prefix,
        "value": row.prefix,
        "category": f"ipv{row.family}",
        "resourceStatus": status,
        "usageState": usage,
        "resourceCharacteristic": _characteristics({"vrfId": row.vrf_id, "prefixLength": row.length}),
    }


def _address_state(address: Any) -> dict[str, Any]:
    status, usage = TMF639_STATUS.get(address.status, ("available", "busy"))
    return {
        "resourceStatus": status,
        "usageState": usage,
        "resourceCharacteristic": _characteristics(
            {
                "vrfId": address.vrf_id,
                "prefixId": address.prefix_id,
                "role": address.role,
                "dnsName": address.dns_name,
                "interfaceId": address.interface_id,
                "serviceId": address.service_id,
            }
        ),
    }


def address_resource(address: Any) -> dict[str, Any]:
    """The TMF639 Resource_Create of an address (IpAddress, a LogicalResource whose value is ``a.b.c.d/len``)."""
    return {
        "@type": ADDRESS_TYPE,
        "@baseType": "LogicalResource",
        "name": address.address,
        "value": address.address,
        "category": f"ipv{address.family}",
        **_address_state(address),
    }


def address_resource_patch(address: Any) -> dict[str, Any]:
    return _address_state(address)


def vlan_group_json(group: Any, fields: Fields | None = None) -> dict[str, Any]:
    document = _without_none(
        {
            "id": group.id,
            "href": href(BASE_PATH, "vlanGroup", group.id),
            "@type": "VlanGroup",
            "name": group.name,
            "minVid": group.min_vid,
            "maxVid": group.max_vid,
            "description": group.description,
            "vlanCount": group.used,
            "createdAt": _when(group.created_at),
        }
    )
    return project(document, fields)


def vlan_json(vlan: Any, fields: Fields | None = None) -> dict[str, Any]:
    document = _without_none(
        {
            "id": vlan.id,
            "href": href(BASE_PATH, "vlan", vlan.id),
            "@type": VLAN_TYPE,
            "groupId": vlan.group_id,
            "vid": vlan.vid,
            "name": vlan.name,
            "status": vlan.status,
            "interfaceId": vlan.interface_id,
            "serviceId": vlan.service_id,
            "description": vlan.description,
            "createdAt": _when(vlan.created_at),
            "resource": _resource_ref(vlan.id, VLAN_TYPE),
        }
    )
    return project(document, fields)


def vlan_resource(vlan: Any, group_name: str) -> dict[str, Any]:
    """The TMF639 Resource_Create of a VLAN (Vlan, a LogicalResource whose value is its id in the group)."""
    status, usage = TMF639_STATUS.get(vlan.status, ("available", "busy"))
    return {
        "@type": VLAN_TYPE,
        "@baseType": "LogicalResource",
        "name": f"{group_name}/{vlan.vid}",
        "value": str(vlan.vid),
        "category": "vlan",
        "resourceStatus": status,
        "usageState": usage,
        "resourceCharacteristic": _characteristics(
            {"vlanGroupId": vlan.group_id, "interfaceId": vlan.interface_id, "serviceId": vlan.service_id}
        ),
    }
