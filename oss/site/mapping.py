"""Physical inventory JSON <-> dataclasses.

TMF674 GeographicSite (``/tmf-api/geographicSiteManagement/v4``): TM Forum's field names; the point is the
``place`` entry that is a GeoJSON Point, stored also as latitude/longitude columns.
"""

from __future__ import annotations

from typing import Any

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

