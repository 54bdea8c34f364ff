"""TMF674 Geographic Site handlers (``openapi/geographic_site.yaml``, served at
``/tmf-api/geographicSiteManagement/v4``), named after the operationIds. Thin: parse the query, call one use
case, shape the answer."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from common import tmf
from common.errors import InvalidInput
from oss.site import mapping, service
from oss.site.repository import SITE_QUERY
from server import deps
from server.hub import register_listener, retrieve_listener, unregister_listener
from server.responses import created, listed, no_content, raw_query_string

QUERY_CONTRACTS = {
    "listGeographicSite": SITE_QUERY,
    "retrieveGeographicSite": SITE_QUERY,
}
RADIUS_PARAMETERS = ("latitude", "longitude", "radius")

__all__ = [
    "create_geographic_site",
    "delete_geographic_site",
    "list_geographic_site",
    "patch_geographic_site",
    "register_listener",
    "retrieve_geographic_site",
    "retrieve_listener",
    "unregister_listener",
]


def _split_query(names: tuple[str, ...]) -> tuple[str, dict[str, str]]:
    """The raw query string without ``names`` (parsed by common.tmf), and their values."""
    kept, taken = [], {}
    for pair in raw_query_string().split("&"):
        name, _, value = pair.partition("=")
        if name in names:
            if name in taken:
                raise InvalidInput(f"{name} is given more than once.", code="REPEATED_PARAMETER")
            taken[name] = unquote(value.replace("+", "%2B"))
        elif pair:
            kept.append(pair)
    return "&".join(kept), taken


def _number(name: str, text: str | None) -> float | None:
    if text is None:
        return None
    try:
        return float(text)
    except ValueError:
        raise InvalidInput(f"{name} must be a number, not {text!r}.", code="INVALID_COORDINATES") from None


def list_geographic_site(**_declared: Any) -> Any:
    rest, taken = _split_query(RADIUS_PARAMETERS)
    query = service.parse_site_query(rest)
    near = service.parse_radius(*(_number(name, taken.get(name)) for name in RADIUS_PARAMETERS))
    page = service.list_sites(deps.uow(read_only=True), query, near)
    return listed([mapping.site_json(site, query.fields) for site in page.items], page)


def create_geographic_site(body: dict[str, Any]) -> Any:
    site = service.create_site(deps.uow(), body)
    representation = mapping.site_json(site)
    return created(representation, representation["href"])


def retrieve_geographic_site(id: str, **_declared: Any) -> Any:
    fields = tmf.parse_item_query(raw_query_string(), SITE_QUERY.members)
    return mapping.site_json(service.retrieve_site(deps.uow(read_only=True), id), fields)


def patch_geographic_site(id: str, body: dict[str, Any]) -> Any:
    return mapping.site_json(service.patch_site(deps.uow(), id, body))


def delete_geographic_site(id: str) -> Any:
    service.delete_site(deps.uow(), id)
    return no_content()
