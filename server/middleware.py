"""ASGI middleware: request id, caller identity, base URL and access log (``RequestContextMiddleware``,
before everything else), and the request guard (``RequestGuardMiddleware``, inside connexion's exception
handling, so what it refuses becomes a TMF Error like any other).

Identity: with authentication on (the default) the actor is the authenticated subject, bound by
``server.auth.security.IdentityMiddleware`` once connexion has checked the credential; ``X-User`` is then
ignored unless a trusted proxy sent it. With ``PROVISIO_AUTH=off`` it is the ``X-User`` header, read as the
text the person typed (``caller_identity``). ``X-Request-ID`` is taken from the client (cut to the width
the audit trail stores) or made up, bound for every log line and echoed back.

``RequestContextMiddleware`` also drops ``Content-Type`` from 204 and 304 answers, whatever produced them:
they have no content (RFC 9110 §15.3.5, §15.4.5), and connexion labels every answer of an operation with
the media type of its other responses.
"""

from __future__ import annotations

import json
import logging
import math
import re
import time
import unicodedata
import uuid
from typing import Any

from connexion.exceptions import ProblemException
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from common import request_context
from common.errors import InvalidInput
from server.auth.security import ACTOR_KEY, STATE_KEY, proxied_user
from server.auth.state import AuthState
from server.validation import PARSED_BODY_KEY

logger = logging.getLogger("provisio.access")

ANONYMOUS = "anonymous"


class RequestContextMiddleware:
    """``auth_state`` (None with authentication off) is put in the scope for the security functions."""

    def __init__(self, app: ASGIApp, auth_state: AuthState | None = None) -> None:
        self.app = app
        self.auth_state = auth_state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        request_id = _request_id(headers)
        echoed_request_id = request_context.encode_header_text(request_id)  # ASCII, whatever the client sent
        if self.auth_state is None:
            actor = caller_identity(headers)
        else:
            scope[STATE_KEY] = self.auth_state
            actor = proxied_user(scope, self.auth_state) or ANONYMOUS  # until the credential is checked
        base_url = _base_url(scope, headers)
        authenticated: dict[str, str] = {}
        scope[ACTOR_KEY] = authenticated
        started = time.perf_counter()
        status_holder = {"status": 500}

        async def send_with_request_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                response_headers = MutableHeaders(scope=message)
                response_headers["X-Request-ID"] = echoed_request_id
                if message["status"] in _WITHOUT_CONTENT and "content-type" in response_headers:
                    del response_headers["content-type"]
            await send(message)

        with request_context.bind(request_id=request_id, actor=actor, base_url=base_url):
            try:
                await self.app(scope, receive, send_with_request_id)
            finally:
                if logger.isEnabledFor(logging.INFO):  # the access log is often off (LOG_LEVEL=WARNING)
                    _log_access(
                        scope, status_holder["status"], started, request_id, authenticated.get("actor", actor), base_url
                    )


def _log_access(scope: Scope, status: int, started: float, request_id: str, actor: str, base_url: str) -> None:
    """One access log line, bound to the authenticated subject once the security check has named one."""
    with request_context.bind(request_id=request_id, actor=actor, base_url=base_url):
        logger.info(
            "%s %s %s %.1fms",
            scope.get("method"),
            scope.get("path"),
            status,
            (time.perf_counter() - started) * 1000,
        )


_WITHOUT_CONTENT = frozenset({204, 304})


def caller_identity(headers: Headers) -> str:
    """Who is asking: ``X-User`` decoded as the text a person typed (``decode_header_text``: UTF-8 or
    RFC 8187), ``anonymous`` without one. The one place identity is read from a request."""
    raw = headers.get("x-user")
    return (request_context.decode_header_text(raw) if raw else "") or ANONYMOUS


def _request_id(headers: Headers) -> str:
    """The client's ``X-Request-ID`` as text (cut to the width the audit trail stores), or a new one."""
    sent = request_context.decode_header_text(headers.get("x-request-id") or "")
    return (sent or uuid.uuid4().hex)[: request_context.IDENTITY_MAX_LENGTH]


def _base_url(scope: Scope, headers: Headers) -> str:
    """scheme://host[:port] as the client addressed us, honouring a reverse proxy's X-Forwarded-*."""
    # Behind a chain of proxies each appends its own value: the first is what the client used.
    scheme = _first(headers.get("x-forwarded-proto")) or scope.get("scheme", "http")
    host = _first(headers.get("x-forwarded-host")) or headers.get("host")
    if not host:
        server = scope.get("server") or ("127.0.0.1", 80)
        host = f"{server[0]}:{server[1]}"
    return f"{scheme}://{host}"


def _first(value: str | None) -> str:
    return (value or "").split(",", 1)[0].strip()


# --- the request guard ------------------------------------------------------------------------------

DEFAULT_MAX_BODY_BYTES = 1024 * 1024
# Deeper than any TMF document (a resourceRelationship's resource's characteristic is depth 5); a bound
# keeps validators and the merge-patch recursion far from Python's recursion limit.
MAX_JSON_DEPTH = 32
_JSON_MEDIA_TYPE = re.compile(r"^application/([\w.-]+\+)?json$")  # application/json, .../merge-patch+json
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


class MalformedBody(InvalidInput):
    code = "MALFORMED_BODY"
    reason = "Bad request"


class MalformedRequest(InvalidInput):
    code = "INVALID_REQUEST"
    reason = "Bad request"


class RequestGuardMiddleware:
    """Refuses, before any handler or validator sees it, what a client can send but nothing downstream
    can store or parse safely (RFC 8259 §8.1 and §6; RFC 9110 §15.5.14 and §15.5.16):

    - a body larger than ``max_body_bytes`` (413), by Content-Length or as it streams in;
    - a body without a Content-Type (415);
    - a JSON body that is not UTF-8, not RFC 8259 JSON (``NaN``/``Infinity`` are Python's, not JSON's),
      nested deeper than ``MAX_JSON_DEPTH``, or holding a NUL character or a lone surrogate, which
      PostgreSQL text and JSONB cannot store (SQLite can: refusing both keeps the databases alike);
    - a NUL in the path or query string, and an ``X-User`` wider than the audit trail stores (400).

    The body is read once and replayed to the application unchanged; the parsed JSON document is left in
    the scope under ``server.validation.PARSED_BODY_KEY`` (in a 1-tuple, so that ``null`` is a document
    too) for the body validator, so a request is parsed once.
    """

    def __init__(self, app: ASGIApp, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        _check_target(scope)
        _check_identity(headers)
        if scope.get("method") not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        body = await self._read_body(headers, receive)
        content_type = headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if body and not content_type:
            raise ProblemException(
                status=415, title="Unsupported media type", detail="A request body needs a Content-Type header."
            )
        if body and _JSON_MEDIA_TYPE.match(content_type):
            # Parsed once: the body validator (server.validation) validates this document, not the bytes again.
            scope[PARSED_BODY_KEY] = (check_json_body(body),)
        await self.app(scope, _replay(body, receive), send)

    async def _read_body(self, headers: Headers, receive: Receive) -> bytes:
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body_bytes:
            raise self._too_large()
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk: bytes = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                raise self._too_large()
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)

    def _too_large(self) -> ProblemException:
        return ProblemException(
            status=413,
            title="Payload too large",
            detail=f"The request body is larger than {self.max_body_bytes} bytes.",
        )


def _replay(body: bytes, receive: Receive) -> Receive:
    delivered = False

    async def replay() -> Message:
        nonlocal delivered
        if delivered:
            return await receive()  # http.disconnect, when the client goes away
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


def _check_target(scope: Scope) -> None:
    query: bytes = scope.get("query_string", b"")
    if "\x00" in str(scope.get("path", "")) or b"%00" in query or b"\x00" in query:
        raise MalformedRequest("The request path or query contains a NUL character.")


def _check_identity(headers: Headers) -> None:
    if headers.get("x-user") is None:
        return
    actor = caller_identity(headers)  # counted in characters as stored, not in bytes
    if len(actor) > request_context.IDENTITY_MAX_LENGTH:
        raise MalformedRequest(f"X-User is longer than {request_context.IDENTITY_MAX_LENGTH} characters.")
    if any(unicodedata.category(char) == "Cc" for char in actor):
        raise MalformedRequest("X-User contains a control character.")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):  # 1e999: valid JSON text, but no database stores an infinite number
        raise ValueError(f"{text} is out of range")
    return number


def check_json_body(body: bytes) -> Any:
    """The document in ``body``; ``MalformedBody`` unless it is UTF-8 JSON (RFC 8259) that every database
    can store."""
    try:
        document = json.loads(body.decode("utf-8"), parse_constant=_reject_constant, parse_float=_finite_float)
    except UnicodeDecodeError:
        raise MalformedBody("The request body is not valid UTF-8.") from None
    except RecursionError:
        raise MalformedBody(f"The request body is nested deeper than {MAX_JSON_DEPTH} levels.") from None
    except ValueError as error:
        raise MalformedBody(f"The request body is not valid JSON: {error}.") from None
    _check_json_value(document, depth=0)
    return document


def _check_json_value(value: Any, depth: int) -> None:
    if isinstance(value, str):
        _check_json_string(value)
        return
    if not isinstance(value, dict | list):
        return
    if depth >= MAX_JSON_DEPTH:
        raise MalformedBody(f"The request body is nested deeper than {MAX_JSON_DEPTH} levels.")
    items = value.items() if isinstance(value, dict) else enumerate(value)
    for key, item in items:
        if isinstance(key, str):
            _check_json_string(key)
        _check_json_value(item, depth + 1)


def _check_json_string(text: str) -> None:
    if "\x00" in text:
        raise MalformedBody("The request body contains a NUL character (\\u0000), which cannot be stored.")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise MalformedBody("The request body contains a lone UTF-16 surrogate, which is not text.") from None
