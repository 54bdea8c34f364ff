"""HTTP glue for TMF630 answers that are more than a body: lists (paging headers), 201 (Location), 204."""

from __future__ import annotations

from typing import Any

from connexion import request

from common.tmf import Page


def raw_query_string() -> str:
    """The request's query string as sent: TMF630 filters are parsed from it by ``common.tmf`` (a ``+``
    stays a plus), not from the framework's decoded parameters."""
    raw: bytes = request.scope.get("query_string", b"")
    return raw.decode("latin-1")


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
