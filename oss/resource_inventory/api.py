"""TMF639 Resource Inventory handlers, named after the spec's operationIds (``server.resolver``).

Thin: read the request, call one use case, shape the answer. Validation of bodies is the spec's job
(connexion), filtering/sorting/paging is ``common.tmf``'s, errors are ``server.errors``'.
"""

from __future__ import annotations

from typing import Any

from common.tmf import parse_fields
from oss.resource_inventory import mapping, service
from server import deps
from server.hub import register_listener, retrieve_listener, unregister_listener
from server.responses import created, listed, no_content, raw_query_string

__all__ = [
    "create_resource",
    "delete_resource",
    "list_resource",
    "patch_resource",
    "register_listener",
    "retrieve_listener",
    "retrieve_resource",
    "unregister_listener",
]


def list_resource(**_declared: Any) -> tuple[list[dict[str, Any]], int, dict[str, str]]:
    # The declared parameters (fields, offset, limit, sort) were validated by connexion; the raw query
    # string is parsed once, with the free-form filters, by common.tmf.
    query = service.parse_query(raw_query_string())
    page = service.list_resources(deps.uow(read_only=True), query)
    return listed([mapping.to_tmf(resource, query.fields) for resource in page.items], page)


def create_resource(body: dict[str, Any]) -> tuple[dict[str, Any], int, dict[str, str]]:
    resource = service.create_resource(deps.uow(), body)
    representation = mapping.to_tmf(resource)
    return created(representation, representation["href"])


def retrieve_resource(id: str, fields: str | None = None) -> dict[str, Any]:
    return mapping.to_tmf(service.retrieve_resource(deps.uow(read_only=True), id), parse_fields(fields))


def patch_resource(id: str, body: dict[str, Any]) -> dict[str, Any]:
    return mapping.to_tmf(service.patch_resource(deps.uow(), id, body))


def delete_resource(id: str) -> tuple[None, int]:
    service.delete_resource(deps.uow(), id)
    return no_content()
