"""Physical inventory JSON <-> dataclasses.

TMF674 GeographicSite (``/tmf-api/geographicSiteManagement/v4``): TM Forum's field names; the point is the
``place`` entry that is a GeoJSON Point, stored also as latitude/longitude columns.
"""

from __future__ import annotations

from typing import Any

from common import clock
from common.tmf import Fields, href, project

SITE_BASE_PATH = "/tmf-api/geographicSiteManagement/v4"
SITE_TYPE = "GeographicSite"
DOCUMENT_MEMBERS = ("place", "relatedParty", "siteRelationship", "@baseType", "@schemaLocation")


def _without_none(document: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in document.items() if value is not None}


def site_json(site: Any, fields: Fields | None = None) -> dict[str, Any]:
    stored = site.document or {}
    document = _without_none(
        {
            "id": site.id,
            "href": href(SITE_BASE_PATH, "geographicSite", site.id),
            "@type": SITE_TYPE,
            "name": site.name,
            "code": site.code,
            "description": site.description,
            "status": site.status,
            **{member: stored.get(member) for member in DOCUMENT_MEMBERS},
            "distance": round(site.distance, 6) if getattr(site, "distance", None) is not None else None,
        }
    )
    return project(document, fields)


# ------------------------------------------------------------------------------------------ racks, devices
# Provisio's DCIM API (``/provisio/dcim/v1``) in TMF style; each entity also a TMF639 PhysicalResource with
# the same id, written by this context only (``OWNED_BY_PHYSICAL_INVENTORY``).

DCIM_BASE_PATH = "/provisio/dcim/v1"
TMF639_BASE_PATH = "/tmf-api/resourceInventoryManagement/v4"
RACK_TYPE, DEVICE_TYPE, PORT_TYPE, CABLE_TYPE = "Rack", "Device", "Port", "Cable"
RESOURCE_TYPES = (RACK_TYPE, DEVICE_TYPE, PORT_TYPE, CABLE_TYPE)
PHYSICAL = "PhysicalResource"
# A device's status as TMF639 resourceStatus / usageState / administrativeState / operationalState
DEVICE_STATUS: dict[str, tuple[str, str]] = {
    "planned": ("standby", "idle"),
    "staged": ("available", "idle"),
    "active": ("available", "active"),
    "offline": ("suspended", "idle"),
    "decommissioning": ("unknown", "idle"),
}


def _when(moment: Any) -> str | None:
    return clock.isoformat(moment) if moment is not None else None


def resource_ref(resource_id: str, referred_type: str, name: str | None = None) -> dict[str, Any]:
    return _without_none(
        {
            "id": resource_id,
            "href": href(TMF639_BASE_PATH, "resource", resource_id),
            "name": name,
            "@referredType": referred_type,
        }
    )


def relationship(kind: str, resource_id: str, referred_type: str, name: str | None = None) -> dict[str, Any]:
    return {"relationshipType": kind, "resource": resource_ref(resource_id, referred_type, name)}


def contains(rows: Any, referred_type: str) -> list[dict[str, Any]]:
    return [relationship("contains", row.id, referred_type, row.name) for row in rows]


def site_place(site_id: str) -> dict[str, Any]:
    return {"id": site_id, "href": href(SITE_BASE_PATH, "geographicSite", site_id), "role": "installationSite",
            "@referredType": SITE_TYPE}  # fmt: skip


def _characteristics(**values: Any) -> list[dict[str, Any]]:
    return [
        {"name": name, "value": value, "valueType": "integer" if isinstance(value, int) else "string"}
        for name, value in values.items()
        if value is not None
    ]


def _link(resource_id: str) -> dict[str, Any]:
    return {"id": resource_id, "href": href(TMF639_BASE_PATH, "resource", resource_id)}


def rack_json(rack: Any, fields: Fields | None = None) -> dict[str, Any]:
    document = _without_none(
        {
            "id": rack.id,
            "href": href(DCIM_BASE_PATH, "rack", rack.id),
            "@type": RACK_TYPE,
            "name": rack.name,
            "siteId": rack.site_id,
            "height": rack.height,
            "description": rack.description,
            "resource": _link(rack.id),
            "createdAt": _when(rack.created_at),
        }
    )
    return project(document, fields)


def rack_resource(rack: Any, devices: Any) -> dict[str, Any]:
    return {
        "@type": RACK_TYPE,
        "@baseType": PHYSICAL,
        "name": rack.name,
        "resourceStatus": "available",
        "usageState": "active",
        "place": site_place(rack.site_id),
        "resourceCharacteristic": _characteristics(height=rack.height),
        "resourceRelationship": contains(devices, DEVICE_TYPE),
    }


def template_json(template: Any) -> dict[str, Any]:
    return _without_none(
        {
            "name": template.name,
            "type": template.type,
            "portClass": template.port_class,
            "rearPort": template.rear_port,
            "speed": template.speed,
        }
    )


def device_type_json(device_type: Any, fields: Fields | None = None) -> dict[str, Any]:
    document = _without_none(
        {
            "id": device_type.id,
            "href": href(DCIM_BASE_PATH, "deviceType", device_type.id),
            "@type": "DeviceType",
            "manufacturer": device_type.manufacturer,
            "model": device_type.model,
            "height": device_type.height,
            "portTemplate": list(device_type.port_templates or []),
        }
    )
    return project(document, fields)


def device_json(device: Any, fields: Fields | None = None) -> dict[str, Any]:
    document = _without_none(
        {
            "id": device.id,
            "href": href(DCIM_BASE_PATH, "device", device.id),
            "@type": DEVICE_TYPE,
            "name": device.name,
            "deviceTypeId": device.device_type_id,
            "siteId": device.site_id,
            "rackId": device.rack_id,
            "face": device.face,
            "position": device.position,
            "serialNumber": device.serial,
            "assetTag": device.asset_tag,
            "role": device.role,
            "platform": device.platform,
            "managementAddress": device.management_address,
            "managementPort": device.management_port,
            "status": device.status,
            "resource": _link(device.id),
            "createdAt": _when(device.created_at),
            "updatedAt": _when(device.updated_at),
        }
    )
    return project(document, fields)


def _device_characteristics(device: Any) -> list[dict[str, Any]]:
    return _characteristics(
        role=device.role, platform=device.platform, assetTag=device.asset_tag,
        managementAddress=device.management_address, managementPort=device.management_port,
        rackFace=device.face, rackPosition=device.position,
    )  # fmt: skip


def device_resource(device: Any, device_type: Any, ports: Any) -> dict[str, Any]:
    status, usage = DEVICE_STATUS[device.status]
    document: dict[str, Any] = {
        "@type": DEVICE_TYPE,
        "@baseType": PHYSICAL,
        "name": device.name,
        "resourceStatus": status,
        "usageState": usage,
        "place": site_place(device.site_id),
        "resourceCharacteristic": _device_characteristics(device),
        "resourceRelationship": contains(ports, PORT_TYPE)
        + ([relationship("isContainedIn", device.rack_id, RACK_TYPE)] if device.rack_id else []),
        "description": f"{device_type.manufacturer} {device_type.model}",
    }
    if device.serial:
        document["serialNumber"] = device.serial
    return document


def device_resource_patch(device: Any) -> dict[str, Any]:
    status, usage = DEVICE_STATUS[device.status]
    return {
        "resourceStatus": status,
        "usageState": usage,
        "serialNumber": device.serial,
        "resourceCharacteristic": _device_characteristics(device),
    }


def port_json(port: Any, cable_id: str | None, fields: Fields | None = None) -> dict[str, Any]:
    document = _without_none(
        {
            "id": port.id,
            "href": href(DCIM_BASE_PATH, "port", port.id),
            "@type": PORT_TYPE,
            "deviceId": port.device_id,
            "name": port.name,
            "type": port.type,
            "portClass": port.port_class,
            "rearPortId": port.rear_port_id,
            "speed": port.speed,
            "adminState": port.admin_state,
            "holdState": getattr(port, "hold_state", None),
            "reservationId": getattr(port, "reservation_id", None),
            "cableId": cable_id,
            "resource": _link(port.id),
        }
    )
    return project(document, fields)


def _port_characteristics(port: Any) -> list[dict[str, Any]]:
    return _characteristics(
        portType=port.type, portClass=port.port_class, speed=port.speed, adminState=port.admin_state
    )


def port_resource(port: Any, device: Any, cable: Any) -> dict[str, Any]:
    relations = [relationship("isContainedIn", device.id, DEVICE_TYPE, device.name)]
    if port.rear_port_id:
        relations.append(relationship("connectedTo", port.rear_port_id, PORT_TYPE))
    return {
        "@type": PORT_TYPE,
        "@baseType": PHYSICAL,
        "name": f"{device.name} {port.name}",
        "resourceStatus": "available",
        "usageState": "idle",
        "administrativeState": "unlocked" if port.admin_state == "up" else "locked",
        "place": site_place(device.site_id),
        "resourceCharacteristic": _port_characteristics(port),
        "resourceRelationship": relations,
    }


def port_resource_patch(port: Any) -> dict[str, Any]:
    return {
        "administrativeState": "unlocked" if port.admin_state == "up" else "locked",
        "resourceCharacteristic": _port_characteristics(port),
    }


def port_connection_patch(port: Any, far: Any, cable: Any) -> dict[str, Any]:
    """The port's relationships after (un)cabling: its device, its rear port, and the cable's far end."""
    relations = [relationship("isContainedIn", port.device_id, DEVICE_TYPE)]
    if port.rear_port_id:
        relations.append(relationship("connectedTo", port.rear_port_id, PORT_TYPE))
    if cable is not None and far is not None:
        relations.append(relationship("connectedTo", cable.id, CABLE_TYPE, cable.label))
        relations.append(relationship("connectedTo", far.id, PORT_TYPE))
    return {"resourceRelationship": relations, "usageState": "active" if cable is not None else "idle"}


def cable_json(cable: Any, fields: Fields | None = None) -> dict[str, Any]:
    document = _without_none(
        {
            "id": cable.id,
            "href": href(DCIM_BASE_PATH, "cable", cable.id),
            "@type": CABLE_TYPE,
            "aPortId": cable.a_port_id,
            "bPortId": cable.b_port_id,
            "label": cable.label,
            "cableType": cable.cable_type,
            "status": cable.status,
            "resource": _link(cable.id),
        }
    )
    return project(document, fields)


def cable_resource(cable: Any, a_port: Any, b_port: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "@type": CABLE_TYPE,
        "@baseType": PHYSICAL,
        "name": cable.label or f"cable {cable.id}",
        "resourceStatus": "available",
        "usageState": "active",
        "resourceCharacteristic": _characteristics(cableType=cable.cable_type),
        "resourceRelationship": [
            relationship("connectedTo", a_port.id, PORT_TYPE, a_port.name),
            relationship("connectedTo", b_port.id, PORT_TYPE, b_port.name),
        ],
    }
    if not document["resourceCharacteristic"]:
        del document["resourceCharacteristic"]
    return document


def _port_ref(port: Any) -> dict[str, Any]:
    return {"id": port.id, "href": href(DCIM_BASE_PATH, "port", port.id), "name": port.name, "deviceId": port.device_id,
            "portClass": port.port_class}  # fmt: skip


def trace_json(trace: Any) -> dict[str, Any]:
    hops = [
        {
            "near": _port_ref(hop.near),
            "cable": {
                "id": hop.cable.id,
                "href": href(DCIM_BASE_PATH, "cable", hop.cable.id),
                "label": hop.cable.label,
            },
            "far": _port_ref(hop.far),
        }
        for hop in trace.hops
    ]
    for hop in hops:
        if hop["cable"]["label"] is None:
            del hop["cable"]["label"]
    end = trace.hops[-1].far if trace.hops else trace.start
    return {
        "@type": "CableTrace",
        "port": _port_ref(trace.start),
        "hop": hops,
        "end": _port_ref(end),
        "complete": bool(trace.hops) and end.port_class == "interface",
        "loop": trace.loop,
    }
