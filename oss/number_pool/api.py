"""Number inventory handlers (``openapi/number_inventory.yaml``, served at ``/provisio/numberInventory/v1``),
named after the operationIds. Thin: parse the query, call one use case, shape the answer."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from common import clock, request_context, tmf
from common.errors import InvalidInput
from common.tmf import parse_list_query
from oss.number_pool import mapping, service
from oss.number_pool.models import (
    BLOCK_OVERLAP_CONSTRAINT,
    CHUNK_OVERLAP_CONSTRAINT,
    NUMBER_UNIQUE_CONSTRAINT,
    POOL_NAME_CONSTRAINT,
)
from oss.number_pool.repository import BLOCK_QUERY, HISTORY_QUERY, NUMBER_QUERY, POOL_QUERY
from server import deps
from server.errors import CONSTRAINT_ERRORS
from server.hub import register_listener, retrieve_listener, unregister_listener
from server.responses import created, listed, raw_query_string

QUERY_CONTRACTS = {
    "listNumberPool": POOL_QUERY,
    "retrieveNumberPool": POOL_QUERY,
    "listNumberBlock": BLOCK_QUERY,
    "retrieveNumberBlock": BLOCK_QUERY,
    "listTelephoneNumber": NUMBER_QUERY,
    "retrieveTelephoneNumber": NUMBER_QUERY,
    "listTelephoneNumberHistory": HISTORY_QUERY,
    "searchAvailableNumber": NUMBER_QUERY,
}

# Races lost at the database answer as races lost at the lock (server.errors maps them by name).
CONSTRAINT_ERRORS.update(
    {
        BLOCK_OVERLAP_CONSTRAINT: (409, "NUMBER_BLOCK_OVERLAP", "The block overlaps a block created at the same time."),
        CHUNK_OVERLAP_CONSTRAINT: (409, "CONCURRENT_UPDATE", "The free space changed concurrently; retry."),
        NUMBER_UNIQUE_CONSTRAINT: (409, "CONCURRENT_UPDATE", "The number was taken concurrently; retry."),
        POOL_NAME_CONSTRAINT: (409, "NUMBER_POOL_NAME_TAKEN", "A number pool of that name exists already."),
    }
)

__all__ = [
    "create_number_block",
    "create_number_pool",
    "create_number_state_change",
    "list_number_block",
    "list_number_pool",
    "list_telephone_number",
    "list_telephone_number_history",
    "patch_number_pool",
    "patch_telephone_number",
    "register_listener",
    "retrieve_listener",
    "retrieve_number_block",
    "retrieve_number_pool",
    "retrieve_telephone_number",
    "search_available_number",
    "unregister_listener",
]


def _fields(spec: tmf.QuerySpec) -> tmf.Fields | None:
    return tmf.parse_item_query(raw_query_string(), spec.members)


def list_number_pool(**_declared: Any) -> Any:
    query = service.parse_pool_query(raw_query_string())
    page = service.list_pools(deps.uow(read_only=True), query)
    return listed([mapping.pool_json(pool, query.fields) for pool in page.items], page)


def create_number_pool(body: dict[str, Any]) -> Any:
    pool = service.create_pool(deps.uow(), body)
    representation = mapping.pool_json(pool)
    return created(representation, representation["href"])


def retrieve_number_pool(id: str, **_declared: Any) -> Any:
    fields = _fields(POOL_QUERY)
    return mapping.pool_json(service.retrieve_pool(deps.uow(read_only=True), id), fields)


def patch_number_pool(id: str, body: dict[str, Any]) -> Any:
    return mapping.pool_json(service.patch_pool(deps.uow(), id, body))


def list_number_block(**_declared: Any) -> Any:
    query = service.parse_block_query(raw_query_string())
    page = service.list_blocks(deps.uow(read_only=True), query)
    return listed([mapping.block_json(block, query.fields) for block in page.items], page)


def create_number_block(body: dict[str, Any]) -> Any:
    block = service.create_block(deps.uow(), body)
    representation = mapping.block_json(block)
    return created(representation, representation["href"])


def retrieve_number_block(id: str, **_declared: Any) -> Any:
    fields = _fields(BLOCK_QUERY)
    return mapping.block_json(service.retrieve_block(deps.uow(read_only=True), id), fields)


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


def list_telephone_number(**_declared: Any) -> Any:
    rest, extra = _split_query(service.SEARCH_PARAMETERS)
    query = parse_list_query(rest, NUMBER_QUERY)
    page = service.list_numbers(
        deps.uow(read_only=True), query, pattern=extra.get("pattern"), prefix=extra.get("prefix")
    )
    return listed([mapping.number_json(number, query.fields) for number in page.items], page)


def retrieve_telephone_number(id: str, **_declared: Any) -> Any:
    fields = _fields(NUMBER_QUERY)
    return mapping.number_json(service.retrieve_number(deps.uow(read_only=True), id), fields)


def list_telephone_number_history(id: str, **_declared: Any) -> Any:
    query = parse_list_query(raw_query_string(), HISTORY_QUERY)
    page = service.number_history(deps.uow(read_only=True), id, query)
    return listed([mapping.history_json(entry, query.fields) for entry in page.items], page)


def search_available_number(**_declared: Any) -> Any:
    rest, extra = _split_query(("poolId", "pattern", "prefix", "category"))
    query = parse_list_query(rest, NUMBER_QUERY)  # fields, offset, limit
    if query.filters or query.sort:
        raise InvalidInput("availableNumber takes poolId, pattern, prefix, category, fields, offset and limit only.")
    page = service.search_available(
        deps.uow(read_only=True),
        pool_id=extra.get("poolId"),
        category=extra.get("category"),
        pattern=extra.get("pattern"),
        prefix=extra.get("prefix"),
        offset=query.offset,
        limit=query.limit if "limit=" in raw_query_string() else 10,
    )
    return listed([mapping.number_json(number, query.fields) for number in page.items], page)


def _holder(body: dict[str, Any]) -> service.Holder:
    return service.Holder(
        customer_id=body.get("customerId"),
        service_id=body.get("serviceId"),
        product_id=body.get("productId"),
        order_item_id=body.get("orderItemId"),
        reason=body.get("reason"),
        actor=request_context.current().actor,
    )


def _hold_until(body: dict[str, Any]) -> Any:
    raw = body.get("holdUntil")
    if raw is None:
        return None
    try:
        return clock.parse_utc(str(raw))
    except ValueError:
        raise InvalidInput(f"holdUntil must be an ISO 8601 date-time, not {raw!r}.") from None


def patch_telephone_number(id: str, body: dict[str, Any]) -> Any:
    number = service.change_state(
        deps.uow(),
        id,
        body["state"],
        _holder(body),
        hold_until=_hold_until(body),
        allow_golden=bool(body.get("allowGolden")),
    )
    return mapping.number_json(number)


def create_number_state_change(body: dict[str, Any]) -> Any:
    numbers = service.change_states(
        deps.uow(),
        list(body["number"]),
        body["state"],
        _holder(body),
        hold_until=_hold_until(body),
        allow_golden=bool(body.get("allowGolden")),
    )
    task = {
        "id": service.new_task_id(),
        "@type": "NumberStateChange",
        "state": body["state"],
        "status": "done",
        "number": [mapping.number_json(number) for number in numbers],
    }
    return task, 201
