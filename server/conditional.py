"""HTTP glue for conditional requests (RFC 9110 §13): reads If-Match / If-None-Match, answers ETag / 304.

The rules live in ``common.tmf.etag``; this module only moves them between headers and use cases, so every
API gets the same behaviour by calling three functions from its handlers::

    def retrieve_x(id, fields=None):
        x = service.retrieve_x(deps.uow(read_only=True), id)
        return conditional.representation(mapping.to_tmf(x, fields), x.version, selection)   # ETag or 304

    def patch_x(id, body):
        x = service.patch_x(deps.uow(), id, body, preconditions=conditional.for_write())  # 412/428 inside
        return conditional.with_etag(mapping.to_tmf(x), x.version)

The use case checks ``Preconditions`` against the row it has locked, in its own transaction.
``PROVISIO_REQUIRE_IF_MATCH=true`` makes a write without If-Match a 428 (RFC 6585 §3).
"""

from __future__ import annotations

from typing import Any

from connexion.context import scope
from starlette.datastructures import Headers
from starlette.responses import Response

from common.tmf.etag import EntityTag, Preconditions, entity_tag
from server import deps


def _field(headers: Headers, name: str) -> str | None:
    """A list header's combined value (RFC 9110 §5.3: several lines are one comma-separated list)."""
    values: list[str] = headers.getlist(name)
    return ", ".join(values) if values else None


def preconditions() -> Preconditions:
    """The request's If-Match and If-None-Match (400 when malformed). The headers are read from the ASGI
    scope, once: each use of ``connexion.request`` builds a new request object."""
    headers = Headers(raw=scope["headers"])
    return Preconditions.parse(_field(headers, "if-match"), _field(headers, "if-none-match"))


def for_write() -> Preconditions:
    """The conditions of a PATCH/DELETE; 428 without If-Match when the server requires it."""
    conditions = preconditions()
    if deps.container().settings.require_if_match:
        conditions.require_if_match()
    return conditions


def with_etag(body: dict[str, Any], version: int, status: int = 200, headers: dict[str, str] | None = None) -> Any:
    """``body`` answered with the strong ETag of its full representation."""
    return body, status, {**(headers or {}), "ETag": str(entity_tag(version))}


def representation(body: dict[str, Any], version: int, selection: Any = None, what: str = "the entity") -> Any:
    """A GET answer: 304 with the ETag when If-None-Match matches it (RFC 9110 §13.1.2, §15.4.5), 412 when
    If-Match does not match (§13.1.1), else ``body`` with its ETag (a projection has a tag of its own)."""
    conditions = preconditions()
    tag: EntityTag = entity_tag(version, selection)
    if conditions.if_match is not None:
        Preconditions(if_match=conditions.if_match).check(tag, what)
    if conditions.not_modified(tag):
        return Response(status_code=304, headers={"ETag": str(tag)})
    return body, 200, {"ETag": str(tag)}
