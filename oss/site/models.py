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
from sqlalchemy import Float, Index, Integer, String, Text, text
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
