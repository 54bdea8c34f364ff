"""Port request handlers of the number inventory API (``/portInRequest``, ``/portOutRequest``), named after
their operationIds and re-exported by ``oss.number_pool.api`` (the module the API table names)."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from common import tmf
from common.errors import InvalidInput
from oss.number_pool import porting
from oss.number_pool.porting import IN, OUT, PORT_IN_QUERY, PORT_OUT_QUERY
from oss.number_pool.porting_mapping import request_json
from oss.number_pool.porting_models import OPEN_NUMBER_CONSTRAINT
from server import deps
from server.errors import CONSTRAINT_ERRORS
from server.responses import created, listed, raw_query_string

QUERY_CONTRACTS = {
    "listPortInRequest": PORT_IN_QUERY,
    "retrievePortInRequest": PORT_IN_QUERY,
    "listPortOutRequest": PORT_OUT_QUERY,
    "retrievePortOutRequest": PORT_OUT_QUERY,
}

# Two creates racing for one number: the partial unique index decides, and says it as the check would.
# (SQLite names the indexed column, not the index.)
_OPEN_NUMBER = (409, "NUMBER_IN_OPEN_PORT_REQUEST", "A number is in another open port request.")
CONSTRAINT_ERRORS.update({OPEN_NUMBER_CONSTRAINT: _OPEN_NUMBER, "number_port_request_number.digits": _OPEN_NUMBER})


def _number_parameter() -> tuple[str, str | None]:
    kept, number = [], None
    for pair in raw_query_string().split("&"):
        name, _, value = pair.partition("=")
        if name in porting.SEARCH_PARAMETERS:
            if number is not None:
                raise InvalidInput("number is given more than once.", code="REPEATED_PARAMETER")
            number = unquote(value.replace("+", "%2B"))
        elif pair:
            kept.append(pair)
    return "&".join(kept), number


def _list(direction: str) -> Any:
    rest, number = _number_parameter()
    query = porting.parse_query(direction, rest)
    page = porting.list_port_requests(deps.uow(read_only=True), direction, query, number=number)
    return listed([request_json(request, query.fields) for request in page.items], page)


def _retrieve(direction: str, request_id: str) -> Any:
    fields = tmf.parse_item_query(raw_query_string(), (PORT_IN_QUERY if direction == IN else PORT_OUT_QUERY).members)
    return request_json(porting.retrieve_port_request(deps.uow(read_only=True), direction, request_id), fields)


def _created(request: porting.PortRequestData) -> Any:
    representation = request_json(request)
    return created(representation, representation["href"])


def list_port_in_request(**_declared: Any) -> Any:
    return _list(IN)


def create_port_in_request(body: dict[str, Any]) -> Any:
    return _created(porting.create_port_in(deps.uow(), body))


def retrieve_port_in_request(id: str, **_declared: Any) -> Any:
    return _retrieve(IN, id)


def patch_port_in_request(id: str, body: dict[str, Any]) -> Any:
    return request_json(porting.patch_port_request(deps.uow(), IN, id, body))


def list_port_out_request(**_declared: Any) -> Any:
    return _list(OUT)


def create_port_out_request(body: dict[str, Any]) -> Any:
    return _created(porting.create_port_out(deps.uow(), body))


def retrieve_port_out_request(id: str, **_declared: Any) -> Any:
    return _retrieve(OUT, id)


def patch_port_out_request(id: str, body: dict[str, Any]) -> Any:
    return request_json(porting.patch_port_request(deps.uow(), OUT, id, body))


__all__ = [
    "QUERY_CONTRACTS",
    "create_port_in_request",
    "create_port_out_request",
    "list_port_in_request",
    "list_port_out_request",
    "patch_port_in_request",
    "patch_port_out_request",
    "retrieve_port_in_request",
    "retrieve_port_out_request",
]
