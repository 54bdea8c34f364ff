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
from common.orm import new_id, overlong_column
from common.tmf import ListQuery, Page, merge_patch, parse_list_query
from common.uow import UnitOfWork
from oss.site import domain, mapping, repository
from oss.site.domain import Point
from common.errors import InvalidInput
from oss.site.errors import InvalidRadiusSearch, SiteNotFound
from oss.site.models import GeographicSiteRow
from oss.site.repository import SITE, SITE_QUERY

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


__all__ = [
    "SITE_API",
    "SITE_EVENT_TYPES",
    "RadiusSearch",
    "SiteData",
    "create_site",
    "delete_site",
    "list_sites",
    "parse_radius",
    "parse_site_query",
    "patch_site",
    "retrieve_site",
]
