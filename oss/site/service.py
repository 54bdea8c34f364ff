"""Physical inventory use cases, one transaction each (``common.uow``).

Geographic sites (TMF674): every change writes the row, its audit record and its event
(``GeographicSiteCreateEvent``, ``GeographicSiteAttributeValueChangeEvent``, ``GeographicSiteStatusChangeEvent``
when ``status`` changes, ``GeographicSiteDeleteEvent``) in one transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from common import clock, events
from common.errors import InvalidInput
from common.orm import new_id, overlong_column
from common.tmf import ListQuery, Page, merge_patch, parse_list_query
from common.uow import UnitOfWork
from oss import resource_inventory
from oss.site import domain, mapping, repository
from oss.site.domain import Point
from oss.site.errors import (
    CableNotFound,
    DeviceNotFound,
    DeviceTypeNotFound,
    InvalidCable,
    InvalidDevice,
    InvalidPlacement,
    InvalidRadiusSearch,
    NameTaken,
    PortCabled,
    PortNotFound,
    RackNotFound,
    RackUnitsTaken,
    SiteNotFound,
    UnknownPlatform,
)
from oss.site.models import (
    CableEndRow,
    CableRow,
    DeviceRow,
    DeviceTypeRow,
    GeographicSiteRow,
    PortRow,
    RackRow,
    RackUnitRow,
)
from oss.site.repository import CABLE_QUERY, DEVICE_QUERY, DEVICE_TYPE_QUERY, PORT_QUERY, RACK_QUERY, SITE, SITE_QUERY

logger = logging.getLogger(__name__)

SITE_API = "geographicSiteManagement"
SITE_CREATE_EVENT = "GeographicSiteCreateEvent"
SITE_CHANGE_EVENT = "GeographicSiteAttributeValueChangeEvent"
SITE_STATUS_EVENT = "GeographicSiteStatusChangeEvent"
SITE_DELETE_EVENT = "GeographicSiteDeleteEvent"
SITE_EVENT_TYPES = (SITE_CREATE_EVENT, SITE_CHANGE_EVENT, SITE_STATUS_EVENT, SITE_DELETE_EVENT)
events.register_event_types(SITE_API, SITE_EVENT_TYPES)
events.register_event_schema(SITE_API, {"geographicSite": SITE_QUERY.members})

DEFAULT_STATUS = "planned"
PATCHABLE = ("name", "code", "description", "status", *mapping.DOCUMENT_MEMBERS)


@dataclass(frozen=True)
class SiteData:
    id: str
    name: str
    code: str | None
    description: str | None
    status: str
    latitude: float | None
    longitude: float | None
    document: Mapping[str, Any]
    created_at: datetime
    updated_at: datetime
    distance: float | None = None  # km from the centre of a radius search

    @property
    def point(self) -> Point | None:
        if self.latitude is None or self.longitude is None:
            return None
        return Point(self.latitude, self.longitude)


@dataclass(frozen=True)
class RadiusSearch:
    centre: Point
    radius_km: float


def _site_data(row: Any) -> SiteData:
    return SiteData(
        id=row.id,
        name=row.name,
        code=row.code,
        description=row.description,
        status=row.status,
        latitude=row.latitude,
        longitude=row.longitude,
        document=dict(row.document or {}),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _check_widths(values: Mapping[str, Any]) -> None:
    overlong = overlong_column(SITE, values)
    if overlong is not None:
        raise InvalidInput(f"{overlong[0]} is at most {overlong[1]} characters.", code="VALUE_TOO_LONG")


def _apply(row: GeographicSiteRow, document: Mapping[str, Any]) -> None:
    """Write a whole site document (a create body, or a patched site) onto its row."""
    site_point = domain.point_of_places(document.get("place"))
    values = {"name": document["name"], "code": document.get("code"), "description": document.get("description")}
    _check_widths(values)
    row.name = values["name"]
    row.code = values["code"]
    row.description = values["description"]
    row.status = domain.check_status(document.get("status", DEFAULT_STATUS))
    row.latitude = site_point.latitude if site_point else None
    row.longitude = site_point.longitude if site_point else None
    row.point = site_point.ewkt() if site_point else None
    row.document = {member: document[member] for member in mapping.DOCUMENT_MEMBERS if document.get(member) is not None}


def _publish(session: Session, event_type: str, site: SiteData, field_path: str | None = None) -> None:
    events.publish(
        session,
        api=SITE_API,
        event_type=event_type,
        resource=mapping.site_json(site),
        payload_key="geographicSite",
        field_path=field_path,
    )


def create_site(uow: UnitOfWork, document: Mapping[str, Any]) -> SiteData:
    """Create a TMF674 site (its point from the GeoJSON Point in ``place``)."""
    now = clock.now()
    with uow as tx:
        row = GeographicSiteRow(id=new_id(), created_at=now, updated_at=now)
        _apply(row, document)
        tx.session.add(row)
        tx.session.flush()
        site = _site_data(row)
        _publish(tx.session, SITE_CREATE_EVENT, site)
        tx.commit()
    logger.info("created geographic site %s (%s)", site.id, site.name)
    return site


def patch_site(uow: UnitOfWork, site_id: str, patch: Mapping[str, Any]) -> SiteData:
    """Change a site (JSON merge-patch); a status change publishes GeographicSiteStatusChangeEvent."""
    with uow as tx:
        row = tx.session.get(GeographicSiteRow, site_id, with_for_update=True)
        if row is None:
            raise SiteNotFound(f"No geographic site with id {site_id!r}.")
        before = _site_data(row)
        current = {key: value for key, value in mapping.site_json(before).items() if key in PATCHABLE}
        merged = merge_patch(current, dict(patch))
        if "name" not in merged:
            raise InvalidInput("A site keeps its name: name cannot be removed.", code="MISSING_NAME")
        _apply(row, merged)
        row.updated_at = clock.now()
        tx.session.flush()
        site = _site_data(row)
        after = mapping.site_json(site)
        previous = mapping.site_json(before)
        changed = [key for key in PATCHABLE if key != "status" and previous.get(key) != after.get(key)]
        if changed:
            _publish(tx.session, SITE_CHANGE_EVENT, site, ",".join(changed))
        if before.status != site.status:
            _publish(tx.session, SITE_STATUS_EVENT, site, "status")
        tx.commit()
    return site


def delete_site(uow: UnitOfWork, site_id: str) -> None:
    with uow as tx:
        row = tx.session.get(GeographicSiteRow, site_id, with_for_update=True)
        if row is None:
            raise SiteNotFound(f"No geographic site with id {site_id!r}.")
        site = _site_data(row)
        tx.session.delete(row)
        tx.session.flush()
        _publish(tx.session, SITE_DELETE_EVENT, site)
        tx.commit()


def retrieve_site(uow: UnitOfWork, site_id: str) -> SiteData:
    with uow as tx:
        row = repository.site_row(tx.session, site_id)
        if row is None:
            raise SiteNotFound(f"No geographic site with id {site_id!r}.")
        return _site_data(row)


def parse_site_query(query_string: str) -> ListQuery:
    return parse_list_query(query_string, SITE_QUERY)


def parse_radius(latitude: Any, longitude: Any, radius: Any) -> RadiusSearch | None:
    """``latitude``, ``longitude`` and ``radius`` come together or not at all (400 otherwise)."""
    given = [value is not None for value in (latitude, longitude, radius)]
    if not any(given):
        return None
    if not all(given):
        raise InvalidRadiusSearch("A radius search takes latitude, longitude and radius together.")
    return RadiusSearch(domain.point(latitude, longitude), domain.radius(radius))


def list_sites(uow: UnitOfWork, query: ListQuery, near: RadiusSearch | None = None) -> Page[SiteData]:
    """A page of sites; with ``near``, the sites within the radius, nearest first (then by id)."""
    with uow as tx:
        if near is None:
            rows, total = repository.list_sites(tx.session, query)
            return Page(items=[_site_data(row) for row in rows], total=total, offset=query.offset, limit=query.limit)
        box = domain.bounding_box(near.centre, near.radius_km)
        found = []
        for row in repository.sites_in_box(tx.session, box, query):
            site = _site_data(row)
            assert site.point is not None  # the box's conditions exclude sites without a point
            distance = domain.haversine_km(near.centre, site.point)
            if distance <= near.radius_km:
                found.append(replace(site, distance=distance))
        found.sort(key=lambda site: (site.distance, site.id))
        items = found[query.offset : query.offset + query.limit]
        return Page(items=items, total=len(found), offset=query.offset, limit=query.limit)


# ------------------------------------------------------------------------------------------ racks, devices

DCIM_API = "dcim"
CONTEXT = "site"
RACK_CREATE_EVENT = "RackCreateEvent"
DEVICE_TYPE_CREATE_EVENT = "DeviceTypeCreateEvent"
DEVICE_CREATE_EVENT = "DeviceCreateEvent"
DEVICE_CHANGE_EVENT = "DeviceAttributeValueChangeEvent"
PORT_CHANGE_EVENT = "PortAttributeValueChangeEvent"
CABLE_CREATE_EVENT = "CableCreateEvent"
CABLE_DELETE_EVENT = "CableDeleteEvent"
DCIM_EVENT_TYPES = (
    RACK_CREATE_EVENT,
    DEVICE_TYPE_CREATE_EVENT,
    DEVICE_CREATE_EVENT,
    DEVICE_CHANGE_EVENT,
    PORT_CHANGE_EVENT,
    CABLE_CREATE_EVENT,
    CABLE_DELETE_EVENT,
)
events.register_event_types(DCIM_API, DCIM_EVENT_TYPES)
events.register_event_schema(
    DCIM_API,
    {
        "rack": RACK_QUERY.members,
        "deviceType": DEVICE_TYPE_QUERY.members,
        "device": DEVICE_QUERY.members,
        "port": PORT_QUERY.members,
        "cable": CABLE_QUERY.members,
    },
)
MAX_TRACE_HOPS = 64


@dataclass(frozen=True)
class TraceHop:
    near: Any  # the port the hop leaves from
    cable: Any
    far: Any  # the port at the cable's other end


@dataclass(frozen=True)
class Trace:
    start: Any
    hops: tuple[TraceHop, ...]
    loop: bool = False


def _dcim_publish(
    session: Session, event_type: str, key: str, entity: dict[str, Any], field_path: str | None = None
) -> None:
    events.publish(
        session, api=DCIM_API, event_type=event_type, resource=entity, payload_key=key, field_path=field_path
    )


def _refuse_overlong(table: Any, values: Mapping[str, Any]) -> None:
    overlong = overlong_column(table, values)
    if overlong is not None:
        raise InvalidInput(f"{overlong[0]} is at most {overlong[1]} characters.", code="VALUE_TOO_LONG")


def _site_or_404(session: Session, site_id: str) -> GeographicSiteRow:
    site = session.get(GeographicSiteRow, site_id)
    if site is None:
        raise SiteNotFound(f"No geographic site with id {site_id!r}.")
    return site


def create_rack(uow: UnitOfWork, document: Mapping[str, Any]) -> RackRow:
    now = clock.now()
    with uow as tx:
        _site_or_404(tx.session, document["siteId"])
        values = {"name": document["name"], "description": document.get("description")}
        _refuse_overlong(repository.RACK, values)
        height = int(document["height"])
        if not 1 <= height <= domain.MAX_RACK_HEIGHT:
            raise InvalidPlacement(f"A rack is 1 to {domain.MAX_RACK_HEIGHT} units high.")
        taken = tx.session.query(RackRow.id).filter_by(site_id=document["siteId"], name=document["name"]).first()
        if taken:
            raise NameTaken(f"The site has a rack named {document['name']!r} already.")
        row = RackRow(id=new_id(), site_id=document["siteId"], height=height, created_at=now, updated_at=now, **values)
        tx.session.add(row)
        tx.session.flush()
        resource_inventory.create_resource_in(
            tx.session, mapping.rack_resource(row, []), acting_context=CONTEXT, resource_id=row.id
        )
        _dcim_publish(tx.session, RACK_CREATE_EVENT, "rack", mapping.rack_json(row))
        tx.commit()
    return row


def create_device_type(uow: UnitOfWork, document: Mapping[str, Any]) -> DeviceTypeRow:
    templates = domain.parse_port_templates(document.get("portTemplate") or [])
    with uow as tx:
        values = {"manufacturer": document["manufacturer"], "model": document["model"]}
        _refuse_overlong(repository.DEVICE_TYPE, values)
        if tx.session.query(DeviceTypeRow.id).filter_by(**values).first():
            raise NameTaken(f"Device type {values['manufacturer']} {values['model']} exists already.")
        row = DeviceTypeRow(
            id=new_id(),
            height=int(document.get("height", 1)),
            port_templates=[mapping.template_json(template) for template in templates],
            created_at=clock.now(),
            **values,
        )
        tx.session.add(row)
        tx.session.flush()
        _dcim_publish(tx.session, DEVICE_TYPE_CREATE_EVENT, "deviceType", mapping.device_type_json(row))
        tx.commit()
    return row


def _check_platform(platform: str | None) -> None:
    if platform is None:
        return
    from oss.activation.drivers.registry import PLATFORMS  # the drivers' registry names the platforms

    if platform not in PLATFORMS:
        raise UnknownPlatform(
            f"Platform {platform!r} names no driver; known: {', '.join(sorted(PLATFORMS))}.",
            details={"platforms": sorted(PLATFORMS)},
        )


def _lock_rack(session: Session, rack_id: str) -> RackRow:
    """The rack, locked: placements into one rack are serialised (PostgreSQL row lock; SQLite's write lock)."""
    rack = session.get(RackRow, rack_id, with_for_update=True)
    if rack is None:
        raise RackNotFound(f"No rack with id {rack_id!r}.")
    return rack


def _place(session: Session, device: DeviceRow, rack: RackRow, height: int) -> None:
    """Take the device's span on its face (409 RACK_UNITS_TAKEN when a unit is taken)."""
    if device.face not in domain.FACES:
        raise InvalidPlacement("A device in a rack names its face: front or rear.")
    if device.position is None:
        raise InvalidPlacement("A device in a rack names its position (its lowest unit).")
    units = domain.check_span(device.position, height, rack.height)
    taken = repository.taken_units(session, rack.id, device.face, units)
    if taken is not None:
        raise RackUnitsTaken(
            f"Unit {taken.unit} ({device.face}) of rack {rack.name!r} is taken by device {taken.device_id}.",
            details={"deviceId": taken.device_id, "unit": taken.unit, "face": device.face},
        )
    session.add_all(RackUnitRow(rack_id=rack.id, face=device.face, unit=unit, device_id=device.id) for unit in units)
    session.flush()


def _refresh_rack_resource(session: Session, rack: RackRow) -> None:
    contained = repository.devices_in_rack(session, rack.id)
    resource_inventory.patch_resource_in(
        session, rack.id, {"resourceRelationship": mapping.contains(contained, "Device")}, acting_context=CONTEXT
    )


def create_device(uow: UnitOfWork, document: Mapping[str, Any]) -> DeviceRow:
    """Create a device, its ports from its type's templates, its rack units and their TMF639 resources."""
    _check_platform(document.get("platform"))
    now = clock.now()
    with uow as tx:
        session = tx.session
        device_type = session.get(DeviceTypeRow, document["deviceTypeId"])
        if device_type is None:
            raise DeviceTypeNotFound(f"No device type with id {document['deviceTypeId']!r}.")
        rack = _lock_rack(session, document["rackId"]) if document.get("rackId") else None
        site_id = document.get("siteId") or (rack.site_id if rack else None)
        if site_id is None:
            raise InvalidDevice("A device stands at a site: give siteId or rackId.")
        if rack is not None and rack.site_id != site_id:
            raise InvalidPlacement(f"Rack {rack.name!r} is at another site than {site_id!r}.")
        if rack is None and (document.get("position") is not None or document.get("face") is not None):
            raise InvalidPlacement("A position or face needs a rackId.")
        _site_or_404(session, site_id)
        values = {
            "name": document["name"],
            "serial": document.get("serialNumber"),
            "asset_tag": document.get("assetTag"),
            "role": document.get("role"),
            "platform": document.get("platform"),
            "management_address": document.get("managementAddress"),
        }
        _refuse_overlong(repository.DEVICE, values)
        if session.query(DeviceRow.id).filter_by(name=values["name"]).first():
            raise NameTaken(f"A device named {values['name']!r} exists already.")
        if values["asset_tag"] and session.query(DeviceRow.id).filter_by(asset_tag=values["asset_tag"]).first():
            raise NameTaken(f"Asset tag {values['asset_tag']!r} is on another device.")
        device = DeviceRow(
            id=new_id(),
            device_type_id=device_type.id,
            site_id=site_id,
            rack_id=rack.id if rack else None,
            face=document.get("face"),
            position=document.get("position"),
            management_port=document.get("managementPort"),
            status=document.get("status", "planned"),
            created_at=now,
            updated_at=now,
            **values,
        )
        session.add(device)
        session.flush()
        if rack is not None and (device.position is not None or device_type.height > 0):
            _place(session, device, rack, device_type.height)
        ports = _create_ports(session, device, device_type, now)
        resource_inventory.create_resource_in(
            session, mapping.device_resource(device, device_type, ports), acting_context=CONTEXT, resource_id=device.id
        )
        for port in ports:
            resource_inventory.create_resource_in(
                session, mapping.port_resource(port, device, None), acting_context=CONTEXT, resource_id=port.id
            )
        if rack is not None:
            _refresh_rack_resource(session, rack)
        _dcim_publish(session, DEVICE_CREATE_EVENT, "device", mapping.device_json(device))
        tx.commit()
    logger.info("created device %s (%s) with %d ports", device.id, device.name, len(ports))
    return device


def _create_ports(session: Session, device: DeviceRow, device_type: DeviceTypeRow, now: datetime) -> list[PortRow]:
    templates = domain.parse_port_templates(device_type.port_templates or [])
    by_name: dict[str, PortRow] = {}
    for template in sorted(templates, key=lambda t: t.port_class != "rear"):  # rear ports first: fronts name them
        port = PortRow(
            id=new_id(),
            device_id=device.id,
            name=template.name,
            type=template.type,
            port_class=template.port_class,
            rear_port_id=by_name[template.rear_port].id if template.rear_port else None,
            speed=template.speed,
            admin_state="up",
            created_at=now,
            updated_at=now,
        )
        by_name[template.name] = port
    ports = list(by_name.values())
    session.add_all(ports)
    session.flush()
    return sorted(ports, key=lambda port: port.name)


def patch_device(uow: UnitOfWork, device_id: str, patch: Mapping[str, Any]) -> DeviceRow:
    """Change a device's serial, asset tag, role, platform, management address/port, status (merge-patch)."""
    if "platform" in patch:
        _check_platform(patch["platform"])
    fields = {
        "serialNumber": "serial",
        "assetTag": "asset_tag",
        "role": "role",
        "platform": "platform",
        "managementAddress": "management_address",
        "managementPort": "management_port",
        "status": "status",
    }
    with uow as tx:
        device = tx.session.get(DeviceRow, device_id, with_for_update=True)
        if device is None:
            raise DeviceNotFound(f"No device with id {device_id!r}.")
        values = {fields[key]: value for key, value in patch.items() if key in fields}
        if "status" in values and values["status"] is None:
            raise InvalidDevice("A device keeps a status.")
        _refuse_overlong(repository.DEVICE, values)
        tag = values.get("asset_tag")
        if tag and tx.session.query(DeviceRow.id).filter(DeviceRow.asset_tag == tag, DeviceRow.id != device.id).first():
            raise NameTaken(f"Asset tag {tag!r} is on another device.")
        for column_name, value in values.items():
            setattr(device, column_name, value)
        device.updated_at = clock.now()
        tx.session.flush()
        device_type = tx.session.get(DeviceTypeRow, device.device_type_id)
        assert device_type is not None
        resource_inventory.patch_resource_in(
            tx.session, device.id, mapping.device_resource_patch(device), acting_context=CONTEXT
        )
        changed = ",".join(key for key in patch if key in fields)
        if changed:
            _dcim_publish(tx.session, DEVICE_CHANGE_EVENT, "device", mapping.device_json(device), changed)
        tx.commit()
    return device


def patch_port(uow: UnitOfWork, port_id: str, patch: Mapping[str, Any]) -> tuple[PortRow, str | None]:
    """Change a port's admin state, type or speed (merge-patch)."""
    with uow as tx:
        port = tx.session.get(PortRow, port_id, with_for_update=True)
        if port is None:
            raise PortNotFound(f"No port with id {port_id!r}.")
        if "adminState" in patch:
            if patch["adminState"] not in domain.ADMIN_STATES:
                raise InvalidInput("adminState is up or down.", code="INVALID_ADMIN_STATE")
            port.admin_state = patch["adminState"]
        if "type" in patch:
            _refuse_overlong(repository.PORT, {"type": patch["type"]})
            port.type = patch["type"]
        if "speed" in patch:
            port.speed = patch["speed"]
        port.updated_at = clock.now()
        tx.session.flush()
        cable_id = repository.cables_of_ports(tx.session, [port.id]).get(port.id)
        resource_inventory.patch_resource_in(
            tx.session, port.id, mapping.port_resource_patch(port), acting_context=CONTEXT
        )
        _dcim_publish(tx.session, PORT_CHANGE_EVENT, "port", mapping.port_json(port, cable_id), ",".join(patch))
        tx.commit()
    return port, cable_id


def create_cable(uow: UnitOfWork, document: Mapping[str, Any]) -> CableRow:
    """Join two ports with a cable; a port takes one cable (409 PORT_ALREADY_CABLED, also under a race)."""
    a_id, b_id = document["aPortId"], document["bPortId"]
    if a_id == b_id:
        raise InvalidCable("A cable joins two different ports.")
    with uow as tx:
        session = tx.session
        ports = {}
        for port_id in sorted((a_id, b_id)):  # one lock order: two cablings of the same ports cannot deadlock
            port = session.get(PortRow, port_id, with_for_update=True)
            if port is None:
                raise PortNotFound(f"No port with id {port_id!r}.")
            ports[port_id] = port
        cabled = repository.cables_of_ports(session, [a_id, b_id])
        for port_id, cable_id in cabled.items():
            raise PortCabled(
                f"Port {ports[port_id].name!r} ({port_id}) has cable {cable_id} already: a port takes one cable.",
                details={"portId": port_id, "cableId": cable_id},
            )
        values = {"label": document.get("label"), "cable_type": document.get("cableType")}
        _refuse_overlong(repository.CABLE, values)
        cable = CableRow(
            id=new_id(), a_port_id=a_id, b_port_id=b_id, status=document.get("status", "connected"),
            created_at=clock.now(), **values,
        )  # fmt: skip
        session.add(cable)
        session.flush()
        session.add_all(
            [
                CableEndRow(port_id=a_id, cable_id=cable.id, end="A"),
                CableEndRow(port_id=b_id, cable_id=cable.id, end="B"),
            ]
        )
        session.flush()
        resource_inventory.create_resource_in(
            session,
            mapping.cable_resource(cable, ports[a_id], ports[b_id]),
            acting_context=CONTEXT,
            resource_id=cable.id,
        )
        for near, far in ((ports[a_id], ports[b_id]), (ports[b_id], ports[a_id])):
            resource_inventory.patch_resource_in(
                session, near.id, mapping.port_connection_patch(near, far, cable), acting_context=CONTEXT
            )
        _dcim_publish(session, CABLE_CREATE_EVENT, "cable", mapping.cable_json(cable))
        tx.commit()
    return cable


def delete_cable(uow: UnitOfWork, cable_id: str) -> None:
    with uow as tx:
        session = tx.session
        cable = session.get(CableRow, cable_id, with_for_update=True)
        if cable is None:
            raise CableNotFound(f"No cable with id {cable_id!r}.")
        representation = mapping.cable_json(cable)
        session.query(CableEndRow).filter(CableEndRow.cable_id == cable.id).delete()
        session.delete(cable)
        session.flush()
        for port_id in (cable.a_port_id, cable.b_port_id):
            port = session.get(PortRow, port_id)
            assert port is not None
            resource_inventory.patch_resource_in(
                session, port.id, mapping.port_connection_patch(port, None, None), acting_context=CONTEXT
            )
        resource_inventory.delete_resource_in(session, cable.id, acting_context=CONTEXT)
        _dcim_publish(session, CABLE_DELETE_EVENT, "cable", representation)
        tx.commit()


def trace(uow: UnitOfWork, port_id: str) -> Trace:
    """Follow the path from ``port_id`` end to end: over its cable, then through patch panels (a front port
    continues at its rear port, a rear port at its front port) until a port without a cable or an interface."""
    with uow as tx:
        session = tx.session
        start = repository.port(session, port_id)
        if start is None:
            raise PortNotFound(f"No port with id {port_id!r}.")
        hops: list[TraceHop] = []
        seen: set[str] = set()
        current = start
        while len(hops) < MAX_TRACE_HOPS:
            if current.id in seen:
                return Trace(start, tuple(hops), loop=True)
            seen.add(current.id)
            cable_id = repository.cables_of_ports(session, [current.id]).get(current.id)
            if cable_id is None:
                break
            cable = repository.cable(session, cable_id)
            assert cable is not None
            far = repository.port(session, cable.b_port_id if cable.a_port_id == current.id else cable.a_port_id)
            assert far is not None
            hops.append(TraceHop(current, cable, far))
            seen.add(far.id)
            if far.port_class == "front" and far.rear_port_id:
                following = repository.port(session, far.rear_port_id)
            elif far.port_class == "rear":
                fronts = repository.front_ports_of_rear(session, far.id)
                following = fronts[0] if len(fronts) == 1 else None  # a multi-position rear port: stop there
            else:
                following = None
            if following is None:
                break
            current = following
        return Trace(start, tuple(hops))


def retrieve(uow: UnitOfWork, kind: str, entity_id: str) -> Any:
    model, missing = _KINDS[kind]
    with uow as tx:
        row = tx.session.get(model, entity_id)
        if row is None:
            raise missing(f"No {kind} with id {entity_id!r}.")
        cable_id = repository.cables_of_ports(tx.session, [row.id]).get(row.id) if kind == "port" else None
        tx.session.expunge(row)  # leaving the block rolls back, which would expire it
        return (row, cable_id) if kind == "port" else row


def list_page(uow: UnitOfWork, kind: str, query: ListQuery) -> Page[Any]:
    with uow as tx:
        rows, total = repository.list_page(tx.session, kind, query)
        items: list[Any] = list(rows)
        if kind == "port":
            cables = repository.cables_of_ports(tx.session, [row.id for row in rows])
            items = [(row, cables.get(row.id)) for row in rows]
        return Page(items=items, total=total, offset=query.offset, limit=query.limit)


_KINDS: dict[str, tuple[type, type[Exception]]] = {
    "rack": (RackRow, RackNotFound),
    "deviceType": (DeviceTypeRow, DeviceTypeNotFound),
    "device": (DeviceRow, DeviceNotFound),
    "port": (PortRow, PortNotFound),
    "cable": (CableRow, CableNotFound),
}


__all__ = [
    "DCIM_API",
    "DCIM_EVENT_TYPES",
    "SITE_API",
    "SITE_EVENT_TYPES",
    "RadiusSearch",
    "SiteData",
    "Trace",
    "TraceHop",
    "create_cable",
    "create_device",
    "create_device_type",
    "create_rack",
    "create_site",
    "delete_cable",
    "delete_site",
    "list_page",
    "list_sites",
    "parse_radius",
    "parse_site_query",
    "patch_device",
    "patch_port",
    "patch_site",
    "retrieve",
    "retrieve_site",
    "trace",
]
