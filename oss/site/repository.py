"""Queries on the physical inventory tables. Never commits (the use case does)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Row, Table, and_, or_, select
from sqlalchemy.orm import Session

from common import tmf
from common.tmf import DATETIME, INTEGER, column, enum_of
from oss.site.domain import ADMIN_STATES, DEVICE_STATUSES, PORT_CLASSES, SITE_STATUSES, BoundingBox
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

SPEC = Path(__file__).resolve().parents[2] / "openapi" / "geographic_site.yaml"
SITE: Table = GeographicSiteRow.__table__  # type: ignore[assignment]

SITE_QUERY = tmf.QuerySpec(
    attributes=(
        column("id", SITE.c.id),
        column("name", SITE.c.name),
        column("code", SITE.c.code),
        column("status", SITE.c.status, enum_of(*SITE_STATUSES)),
        column("createdAt", SITE.c.created_at, DATETIME),
        column("updatedAt", SITE.c.updated_at, DATETIME),
    ),
    default_order=(SITE.c.created_at,),
    tiebreaker=SITE.c.id,
    members=tmf.schema_members(SPEC, "GeographicSite"),
)
_SITE_LISTS = tmf.ListStatements(SITE, SITE_QUERY)

# What a site's answer needs (never the geometry column: lat/lon carry the point).
SITE_COLUMNS = (
    SITE.c.id,
    SITE.c.name,
    SITE.c.code,
    SITE.c.description,
    SITE.c.status,
    SITE.c.latitude,
    SITE.c.longitude,
    SITE.c.document,
    SITE.c.created_at,
    SITE.c.updated_at,
)


def list_sites(session: Session, query: tmf.ListQuery) -> tuple[list[Row[Any]], int]:
    count, page, params = _SITE_LISTS.for_query(query)
    connection = session.connection()
    total = connection.scalar(count, params) or 0
    if query.limit == 0 or query.offset >= total:
        return [], total
    return list(connection.execute(page, params)), total


def sites_in_box(session: Session, box: BoundingBox, query: tmf.ListQuery) -> list[Row[Any]]:
    """Sites whose point lies in ``box`` (and that match the query's filters): the radius search's candidates."""
    latitude = SITE.c.latitude.between(box.south, box.north)
    if box.wraps:
        longitude = or_(SITE.c.longitude >= box.west, SITE.c.longitude <= box.east)
    else:
        longitude = SITE.c.longitude.between(box.west, box.east)
    statement = select(*SITE_COLUMNS).where(and_(latitude, longitude, tmf.where_clause(query)))
    return list(session.connection().execute(statement))


def site_row(session: Session, site_id: str) -> Any:
    return session.connection().execute(select(*SITE_COLUMNS).where(SITE.c.id == site_id)).first()


# ------------------------------------------------------------------------------------------ racks, devices

RACK: Table = RackRow.__table__  # type: ignore[assignment]
DEVICE_TYPE: Table = DeviceTypeRow.__table__  # type: ignore[assignment]
DEVICE: Table = DeviceRow.__table__  # type: ignore[assignment]
PORT: Table = PortRow.__table__  # type: ignore[assignment]
CABLE: Table = CableRow.__table__  # type: ignore[assignment]
CABLE_END: Table = CableEndRow.__table__  # type: ignore[assignment]
RACK_UNIT: Table = RackUnitRow.__table__  # type: ignore[assignment]
DCIM_SPEC = Path(__file__).resolve().parents[2] / "openapi" / "dcim.yaml"

RACK_QUERY = tmf.QuerySpec(
    attributes=(
        column("id", RACK.c.id),
        column("name", RACK.c.name),
        column("siteId", RACK.c.site_id),
        column("height", RACK.c.height, INTEGER),
        column("createdAt", RACK.c.created_at, DATETIME),
    ),
    default_order=(RACK.c.created_at,),
    tiebreaker=RACK.c.id,
    members=tmf.schema_members(DCIM_SPEC, "Rack"),
)
DEVICE_TYPE_QUERY = tmf.QuerySpec(
    attributes=(
        column("id", DEVICE_TYPE.c.id),
        column("manufacturer", DEVICE_TYPE.c.manufacturer),
        column("model", DEVICE_TYPE.c.model),
        column("height", DEVICE_TYPE.c.height, INTEGER),
    ),
    default_order=(DEVICE_TYPE.c.created_at,),
    tiebreaker=DEVICE_TYPE.c.id,
    members=tmf.schema_members(DCIM_SPEC, "DeviceType"),
)
DEVICE_QUERY = tmf.QuerySpec(
    attributes=(
        column("id", DEVICE.c.id),
        column("name", DEVICE.c.name),
        column("deviceTypeId", DEVICE.c.device_type_id),
        column("siteId", DEVICE.c.site_id),
        column("rackId", DEVICE.c.rack_id),
        column("serialNumber", DEVICE.c.serial),
        column("assetTag", DEVICE.c.asset_tag),
        column("role", DEVICE.c.role),
        column("platform", DEVICE.c.platform),
        column("status", DEVICE.c.status, enum_of(*DEVICE_STATUSES)),
        column("createdAt", DEVICE.c.created_at, DATETIME),
    ),
    default_order=(DEVICE.c.created_at,),
    tiebreaker=DEVICE.c.id,
    members=tmf.schema_members(DCIM_SPEC, "Device"),
)
PORT_QUERY = tmf.QuerySpec(
    attributes=(
        column("id", PORT.c.id),
        column("deviceId", PORT.c.device_id),
        column("name", PORT.c.name),
        column("type", PORT.c.type),
        column("portClass", PORT.c.port_class, enum_of(*PORT_CLASSES)),
        column("adminState", PORT.c.admin_state, enum_of(*ADMIN_STATES)),
        column("holdState", PORT.c.hold_state, enum_of("available", "reserved", "assigned")),
        column("reservationId", PORT.c.reservation_id),
    ),
    default_order=(PORT.c.device_id, PORT.c.name),
    tiebreaker=PORT.c.id,
    members=tmf.schema_members(DCIM_SPEC, "Port"),
)
CABLE_QUERY = tmf.QuerySpec(
    attributes=(
        column("id", CABLE.c.id),
        column("aPortId", CABLE.c.a_port_id),
        column("bPortId", CABLE.c.b_port_id),
        column("label", CABLE.c.label),
        column("status", CABLE.c.status),
    ),
    default_order=(CABLE.c.created_at,),
    tiebreaker=CABLE.c.id,
    members=tmf.schema_members(DCIM_SPEC, "Cable"),
)
LISTS = {
    "rack": tmf.ListStatements(RACK, RACK_QUERY),
    "deviceType": tmf.ListStatements(DEVICE_TYPE, DEVICE_TYPE_QUERY),
    "device": tmf.ListStatements(DEVICE, DEVICE_QUERY),
    "port": tmf.ListStatements(PORT, PORT_QUERY),
    "cable": tmf.ListStatements(CABLE, CABLE_QUERY),
}


def list_page(session: Session, kind: str, query: tmf.ListQuery) -> tuple[list[Row[Any]], int]:
    count, page, params = LISTS[kind].for_query(query)
    connection = session.connection()
    total = connection.scalar(count, params) or 0
    if query.limit == 0 or query.offset >= total:
        return [], total
    return list(connection.execute(page, params)), total


def taken_units(session: Session, rack_id: str, face: str, units: range) -> Any:
    """The first unit of ``units`` on that face another device occupies (with the device), if any."""
    statement = (
        select(RACK_UNIT.c.unit, RACK_UNIT.c.device_id)
        .where(
            RACK_UNIT.c.rack_id == rack_id,
            RACK_UNIT.c.face == face,
            RACK_UNIT.c.unit.between(units.start, units.stop - 1),
        )
        .order_by(RACK_UNIT.c.unit)
        .limit(1)
    )
    return session.connection().execute(statement).first()


def devices_in_rack(session: Session, rack_id: str) -> list[Row[Any]]:
    statement = (
        select(DEVICE.c.id, DEVICE.c.name).where(DEVICE.c.rack_id == rack_id).order_by(DEVICE.c.name, DEVICE.c.id)
    )
    return list(session.connection().execute(statement))


def ports_of(session: Session, device_id: str) -> list[Row[Any]]:
    statement = select(PORT).where(PORT.c.device_id == device_id).order_by(PORT.c.name)
    return list(session.connection().execute(statement))


def cables_of_ports(session: Session, port_ids: list[str]) -> dict[str, str]:
    """port id -> cable id, for the ports of ``port_ids`` that have a cable."""
    if not port_ids:
        return {}
    statement = select(CABLE_END.c.port_id, CABLE_END.c.cable_id).where(CABLE_END.c.port_id.in_(port_ids))
    return {row.port_id: row.cable_id for row in session.connection().execute(statement)}


def port(session: Session, port_id: str) -> Row[Any] | None:
    return session.connection().execute(select(PORT).where(PORT.c.id == port_id)).first()


def cable(session: Session, cable_id: str) -> Row[Any] | None:
    return session.connection().execute(select(CABLE).where(CABLE.c.id == cable_id)).first()


def front_ports_of_rear(session: Session, rear_port_id: str) -> list[Row[Any]]:
    statement = select(PORT).where(PORT.c.rear_port_id == rear_port_id).order_by(PORT.c.name)
    return list(session.connection().execute(statement))
