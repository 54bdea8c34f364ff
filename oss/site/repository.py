"""Queries on the physical inventory tables. Never commits (the use case does)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Row, Table, and_, or_, select
from sqlalchemy.orm import Session

from common import tmf
from common.tmf import DATETIME, column, enum_of
from oss.site.domain import SITE_STATUSES, BoundingBox
from oss.site.models import GeographicSiteRow

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


def site_row(session: Session, site_id: str) -> Row[Any] | None:
    return session.connection().execute(select(*SITE_COLUMNS).where(SITE.c.id == site_id)).first()
