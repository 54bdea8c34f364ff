"""HTTP glue for TMF630 answers that are more than a body: lists (paging headers), 201 (Location), 204;
and the JSON encoder of every response body (``JSONIFIER``)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

import orjson
from connexion.context import scope
from connexion.jsonifier import JSONEncoder, Jsonifier

from common.tmf import Page


def raw_query_string() -> str:
    """The request's query string as sent: TMF630 filters are parsed from it by ``common.tmf`` (a ``+``
    stays a plus), not from the framework's decoded parameters. Read from the ASGI scope itself: each use of
    ``connexion.request`` builds a new request object."""
    raw: bytes = scope.get("query_string", b"")
    return raw.decode("latin-1")


Handler = TypeVar("Handler", bound=Callable[..., Any])
RAW_QUERY_MARK = "provisio_reads_raw_query"  # the attribute server.routing looks for


def reads_raw_query(handler: Handler) -> Handler:
    """Mark a handler that reads its query string itself (``raw_query_string``, parsed by ``common.tmf``):
    it takes its path parameters (and body) only, so connexion neither parses the query into arguments nor
    merges their defaults for it (``server.routing``). The query is still validated against the document's
    declarations, as for any operation."""
    setattr(handler, RAW_QUERY_MARK, True)
    return handler


def paging_headers(total: int, returned: int) -> dict[str, str]:
    """``X-Total-Count`` (all matches) and ``X-Result-Count`` (this page), TMF630 Part 1 "Pagination"."""
    return {"X-Total-Count": str(total), "X-Result-Count": str(returned)}


def listed(items: list[dict[str, Any]], page: Page[Any]) -> tuple[list[dict[str, Any]], int, dict[str, str]]:
    """200 with ``X-Total-Count`` (all matches) and ``X-Result-Count`` (this page); never 206, as the TMF
    conformance kits expect."""
    return items, 200, paging_headers(page.total, len(items))


def created(body: dict[str, Any], location: str) -> tuple[dict[str, Any], int, dict[str, str]]:
    return body, 201, {"Location": location}


def no_content() -> tuple[None, int]:
    return None, 204


_ENCODER = JSONEncoder()  # connexion's own rules for what JSON lacks (datetime, date, Decimal, UUID)
_ORJSON_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME  # datetimes go to _ENCODER, as connexion writes them


class FastJsonifier(Jsonifier):  # type: ignore[misc]  # connexion ships no types
    """Response bodies encoded by orjson (measured: 0.05 ms instead of 0.47 ms for a 100-resource
    list), the same JSON values as connexion's encoder (compactly written): the same rules for datetimes,
    decimals and UUIDs. What orjson cannot encode (an integer beyond 64 bits, which a client may send and
    Python keeps exactly) falls back to the standard library, so no value is refused or changed."""

    def dumps(self, data: Any, **kwargs: Any) -> str:
        if not kwargs:
            try:
                return orjson.dumps(data, default=_ENCODER.default, option=_ORJSON_OPTIONS).decode() + "\n"
            except TypeError:
                pass
        return json.dumps(data, cls=JSONEncoder, **kwargs) + "\n"


JSONIFIER = FastJsonifier()
