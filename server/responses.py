"""HTTP glue for TMF630 answers that are more than a body: lists (paging headers), 201 (Location), 204."""

from __future__ import annotations

from typing import Any

from common.tmf import Page


def listed(items: list[dict[str, Any]], page: Page[Any]) -> tuple[list[dict[str, Any]], int, dict[str, str]]:
    """200 with ``X-Total-Count`` (all matches) and ``X-Result-Count`` (this page); never 206, as the TMF
    conformance kits expect."""
    return items, 200, {"X-Total-Count": str(page.total), "X-Result-Count": str(len(items))}


def created(body: dict[str, Any], location: str) -> tuple[dict[str, Any], int, dict[str, str]]:
    return body, 201, {"Location": location}


def no_content() -> tuple[None, int]:
    return None, 204
