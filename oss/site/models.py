"""The physical inventory tables.

``geographic_site``: a TMF674 site. Its point is stored twice on purpose: as ``latitude``/``longitude``
(indexed floats, what the radius search narrows on, on every backend) and, on PostgreSQL, as a PostGIS
``geometry(POINT, 4326)`` through geoalchemy2 (what GIS tools and spatial SQL read). On SQLite the geometry
column is its extended WKT text: SpatiaLite is used where the module loads, and this Python's sqlite3 cannot
load extensions, so the portable path must not need it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import BigInteger, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from common.audit import Audited
from common.orm import Base, JSONType, UTCDateTime, id_column_type, new_id

POINT_TYPE = String(80).with_variant(Geometry("POINT", srid=4326, spatial_index=False), "postgresql")


class GeographicSiteRow(Audited, Base):
    __tablename__ = "geographic_site"
    __audit_entity_type__ = "geographicSite"
    __audit_exclude__ = frozenset({"point"})  # latitude and longitude carry it (a WKB element is no JSON)
    __table_args__ = (Index("ix_geographic_site_latitude_longitude", "latitude", "longitude"),)

    id: Mapped[str] = mapped_column(id_column_type(), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(255), index=True)
    code: Mapped[str | None] = mapped_column(String(64), index=True)
    description: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(32), index=True)
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    point: Mapped[Any] = mapped_column(POINT_TYPE, nullable=True)
    # place (every entry, the point included, as given), relatedParty, siteRelationship, @baseType, ...
    document: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    row_version: Mapped[int] = mapped_column(Integer, server_default=text("1"))

    __mapper_args__ = {"version_id_col": row_version}


# ------------------------------------------------------------------------------------------ racks, devices

RACK_NAME_CONSTRAINT = "uq_rack_site_id_name"
DEVICE_TYPE_CONSTRAINT = "uq_device_type_manufacturer_model"
DEVICE_NAME_CONSTRAINT = "uq_device_name"
RACK_UNIT_CONSTRAINT = "pk_rack_unit"
CABLE_END_CONSTRAINT = "pk_cable_end"
PORT_NAME_CONSTRAINT = "uq_port_device_id_name"


class RackRow(Audited, Base):
    __tablename__ = "rack"
    __audit_entity_type__ = "rack"
    __table_args__ = (UniqueConstraint("site_id", "name"),)

    id: Mapped[str] = mapped_column(id_column_type(), primary_key=True, default=new_id)
    site_id: Mapped[str] = mapped_column(ForeignKey("geographic_site.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(128))
    height: Mapped[int] = mapped_column(Integer)  # rack units (U)
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DeviceTypeRow(Audited, Base):
    __tablename__ = "device_type"
    __audit_entity_type__ = "deviceType"
    __table_args__ = (UniqueConstraint("manufacturer", "model"),)

    id: Mapped[str] = mapped_column(id_column_type(), primary_key=True, default=new_id)
    manufacturer: Mapped[str] = mapped_column(String(128))
    model: Mapped[str] = mapped_column(String(128))
    height: Mapped[int] = mapped_column(Integer)  # rack units; 0 for a device that takes no unit
    # [{"name", "type", "portClass": interface|front|rear, "rearPort": name (front ports), "speed"}]
    port_templates: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DeviceRow(Audited, Base):
    __tablename__ = "device"
    __audit_entity_type__ = "device"

    id: Mapped[str] = mapped_column(id_column_type(), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    device_type_id: Mapped[str] = mapped_column(ForeignKey("device_type.id", ondelete="RESTRICT"), index=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("geographic_site.id", ondelete="RESTRICT"), index=True)
    rack_id: Mapped[str | None] = mapped_column(ForeignKey("rack.id", ondelete="RESTRICT"), index=True)
    face: Mapped[str | None] = mapped_column(String(8))
    position: Mapped[int | None] = mapped_column(Integer)  # the lowest unit it occupies
    serial: Mapped[str | None] = mapped_column(String(64), index=True)
    asset_tag: Mapped[str | None] = mapped_column(String(64), unique=True)
    role: Mapped[str | None] = mapped_column(String(64))
    platform: Mapped[str | None] = mapped_column(String(64))
    management_address: Mapped[str | None] = mapped_column(String(255))
    management_port: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RackUnitRow(Base):
    """One unit of one rack face taken by one device: the primary key makes the database refuse an overlapping
    placement, also when two placements race (bookkeeping of the device's span, not audited itself)."""

    __tablename__ = "rack_unit"

    rack_id: Mapped[str] = mapped_column(ForeignKey("rack.id", ondelete="CASCADE"), primary_key=True)
    face: Mapped[str] = mapped_column(String(8), primary_key=True)
    unit: Mapped[int] = mapped_column(Integer, primary_key=True)
    device_id: Mapped[str] = mapped_column(ForeignKey("device.id", ondelete="CASCADE"), index=True)


class PortRow(Audited, Base):
    __tablename__ = "port"
    __audit_entity_type__ = "port"
    __table_args__ = (
        UniqueConstraint("device_id", "name"),
        Index("ix_port_device_id_hold_state_name", "device_id", "hold_state", "name"),
    )

    id: Mapped[str] = mapped_column(id_column_type(), primary_key=True, default=new_id)
    device_id: Mapped[str] = mapped_column(ForeignKey("device.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(64))
    type: Mapped[str | None] = mapped_column(String(64))
    port_class: Mapped[str] = mapped_column(String(16))  # interface | front | rear
    rear_port_id: Mapped[str | None] = mapped_column(ForeignKey("port.id", ondelete="SET NULL"), index=True)
    speed: Mapped[int | None] = mapped_column(BigInteger)  # kbit/s
    admin_state: Mapped[str] = mapped_column(String(16))
    # TMF685 holds (oss.site.provider): available -> reserved (held until hold_until) -> assigned (committed)
    hold_state: Mapped[str] = mapped_column(String(16), default="available", server_default=text("'available'"))
    reservation_id: Mapped[str | None] = mapped_column(String(64), index=True)
    reservation_item_id: Mapped[str | None] = mapped_column(String(64))
    hold_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CableRow(Audited, Base):
    __tablename__ = "cable"
    __audit_entity_type__ = "cable"

    id: Mapped[str] = mapped_column(id_column_type(), primary_key=True, default=new_id)
    a_port_id: Mapped[str] = mapped_column(ForeignKey("port.id", ondelete="RESTRICT"))
    b_port_id: Mapped[str] = mapped_column(ForeignKey("port.id", ondelete="RESTRICT"))
    label: Mapped[str | None] = mapped_column(String(64))
    cable_type: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CableEndRow(Base):
    """A port's one cable: the primary key on the port makes a second cable on it fail at the database too."""

    __tablename__ = "cable_end"

    port_id: Mapped[str] = mapped_column(ForeignKey("port.id", ondelete="RESTRICT"), primary_key=True)
    cable_id: Mapped[str] = mapped_column(ForeignKey("cable.id", ondelete="CASCADE"), index=True)
    end: Mapped[str] = mapped_column(String(1))  # A | B
