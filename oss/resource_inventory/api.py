"""TMF639 Resource Inventory handlers, named after the spec's operationIds (``server.resolver``).

Thin: read the request, call one use case, shape the answer. Validation of bodies is the spec's job
(connexion), filtering/sorting/paging is ``common.tmf``'s, errors are ``server.errors``'.
"""

from __future__ import annotations

from typing import Any

from oss.resource_inventory import mapping, service
from oss.resource_inventory.repository import RESOURCE_QUERY
from server import conditional, deps
from server.hub import register_listener, retrieve_listener, unregister_listener
from server.responses import created, listed, no_content, raw_query_string, reads_raw_query

# The query rules of these operations, declared in the served document (server.documents).
QUERY_CONTRACTS = {"listResource": RESOURCE_QUERY, "retrieveResource": RESOURCE_QUERY}

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


@reads_raw_query
def list_resource() -> tuple[list[dict[str, Any]], int, dict[str, str]]:
    # The declared parameters (fields, offset, limit, sort) were validated by connexion; the raw query
    # string is parsed once, with the free-form filters, by common.tmf.
    query = service.parse_query(raw_query_string())
    page = service.list_resources(deps.read_uow(), query)
    return listed([mapping.to_tmf(resource, query.fields) for resource in page.items], page)


def create_resource(body: dict[str, Any]) -> Any:
    resource = service.create_resource(deps.uow(), body)
    representation = mapping.to_tmf(resource)
    body, status, headers = created(representation, representation["href"])
    return conditional.with_etag(body, resource.version, status, headers)


@reads_raw_query
def retrieve_resource(id: str) -> Any:
    """200 with an ETag, or 304 for a matching If-None-Match (``server.conditional``). ``fields`` is read
    from the raw query string by common.tmf, checked as a list's is."""
    selection = service.parse_retrieve_query(raw_query_string())
    resource = service.retrieve_resource(deps.driver_read_uow(), id)
    return conditional.representation(
        mapping.to_tmf(resource, selection),
        resource.version,
        selection.tree if selection is not None else None,
        what=f"Resource {id}",
    )


def patch_resource(id: str, body: dict[str, Any]) -> Any:
    resource = service.patch_resource(deps.uow(), id, body, preconditions=conditional.for_write())
    return conditional.with_etag(mapping.to_tmf(resource), resource.version)


def delete_resource(id: str) -> tuple[None, int]:
    service.delete_resource(deps.uow(), id, preconditions=conditional.for_write())
    return no_content()
