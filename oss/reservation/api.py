"""TMF685 Resource Pool Management handlers, named after the spec's operationIds (``server.resolver``).

Thin: read the request, call one use case, shape the answer.
"""

from __future__ import annotations

from typing import Any

from common.tmf import Page, parse_item_query, parse_list_query
from oss.reservation import mapping, pools, service
from oss.reservation.repository import RESERVATION_QUERY
from server import conditional, deps
from server.hub import register_listener, retrieve_listener, unregister_listener
from server.responses import created, listed, raw_query_string

# The query rules of these operations, declared in the served document (server.documents).
QUERY_CONTRACTS = {
    "listReservation": RESERVATION_QUERY,
    "retrieveReservation": RESERVATION_QUERY,
    "listResourcePool": pools.POOL_QUERY,
    "retrieveResourcePool": pools.POOL_QUERY,
}

__all__ = [
    "create_availability_check",
    "create_reservation",
    "list_reservation",
    "list_resource_pool",
    "patch_reservation",
    "register_listener",
    "retrieve_listener",
    "retrieve_reservation",
    "retrieve_resource_pool",
    "unregister_listener",
]


def list_reservation(**_declared: Any) -> tuple[list[dict[str, Any]], int, dict[str, str]]:
    query = service.parse_query(raw_query_string())
    page = service.list_reservations(deps.uow(read_only=True), query)
    return listed([mapping.to_tmf(reservation, query.fields) for reservation in page.items], page)


def create_reservation(body: dict[str, Any]) -> Any:
    reservation = service.create_reservation(deps.uow(), body)
    representation = mapping.to_tmf(reservation)
    body, status, headers = created(representation, representation["href"])
    return conditional.with_etag(body, reservation.version, status, headers)


def retrieve_reservation(id: str, **_declared: Any) -> Any:
    """200 with an ETag, or 304 for a matching If-None-Match (``server.conditional``)."""
    selection = service.parse_retrieve_query(raw_query_string())
    reservation = service.retrieve_reservation(deps.uow(read_only=True), id)
    return conditional.representation(
        mapping.to_tmf(reservation, selection),
        reservation.version,
        selection.tree if selection is not None else None,
        what=f"Reservation {id}",
    )


def patch_reservation(id: str, body: dict[str, Any]) -> Any:
    reservation = service.patch_reservation(deps.uow(), id, body, preconditions=conditional.for_write())
    return conditional.with_etag(mapping.to_tmf(reservation), reservation.version)


def list_resource_pool(**_declared: Any) -> tuple[list[dict[str, Any]], int, dict[str, str]]:
    query = parse_list_query(raw_query_string(), pools.POOL_QUERY)
    matching = pools.select(service.list_pools(deps.uow(read_only=True)), query)
    page = matching[query.offset : query.offset + query.limit]
    return listed(
        [mapping.pool_to_tmf(pool, query.fields) for pool in page],
        Page(items=page, total=len(matching), offset=query.offset, limit=query.limit),
    )


def retrieve_resource_pool(id: str, **_declared: Any) -> dict[str, Any]:
    selection = parse_item_query(raw_query_string(), pools.POOL_QUERY.members)
    return mapping.pool_to_tmf(service.retrieve_pool(deps.uow(read_only=True), id), selection)


def create_availability_check(body: dict[str, Any]) -> tuple[dict[str, Any], int]:
    return service.check_availability(deps.uow(read_only=True), body), 200
