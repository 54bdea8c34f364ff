"""Every error a client sees is a TMF630 Error body, whatever raised it.

One table maps error *categories* (common.errors) to HTTP status. Connexion's own problems (validation
400, unknown route 404, wrong method 405, unsupported media type 415), Starlette HTTP errors, malformed
and non-UTF-8 bodies, database constraint violations and unexpected exceptions all end up here. A 500
never carries a stack trace or SQL: the detail goes to the log with the request id, the client gets the id.
"""

from __future__ import annotations

import json
import logging
import re
from functools import cache
from typing import Any

import yaml
from connexion.exceptions import ProblemException
from connexion.lifecycle import ConnexionRequest, ConnexionResponse
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from starlette.exceptions import HTTPException

from common import errors as categories
from common import request_context
from server.apis import APIS, OPENAPI_DIR
from server.auth.errors import CHALLENGE as AUTH_CHALLENGE

logger = logging.getLogger(__name__)

# Category -> HTTP status. The most specific class wins (checked in MRO order).
STATUS_BY_CATEGORY: dict[type[categories.ProvisioError], int] = {
    categories.NotFound: 404,
    categories.Conflict: 409,
    categories.Unprocessable: 422,
    categories.InvalidInput: 400,
    categories.PreconditionFailed: 412,
    categories.PreconditionRequired: 428,
    categories.UpstreamTimeout: 504,
    categories.Upstream: 502,
    categories.ProvisioError: 500,
}

# Unique/exclusion/check constraint name -> (status, code, message). Contexts register their own
# constraints, so a race lost at the database becomes the same clean 409 as a race lost at the lock.
CONSTRAINT_ERRORS: dict[str, tuple[int, str, str]] = {}

_HTTP_CODES = {
    400: ("INVALID_REQUEST", "Bad request"),
    401: ("UNAUTHORIZED", "Unauthorized"),
    403: ("FORBIDDEN", "Forbidden"),
    404: ("NOT_FOUND", "Not found"),
    405: ("METHOD_NOT_ALLOWED", "Method not allowed"),
    406: ("NOT_ACCEPTABLE", "Not acceptable"),
    409: ("CONFLICT", "Conflict"),
    412: ("PRECONDITION_FAILED", "Precondition failed"),
    413: ("PAYLOAD_TOO_LARGE", "Payload too large"),
    415: ("UNSUPPORTED_MEDIA_TYPE", "Unsupported media type"),
    422: ("UNPROCESSABLE", "Unprocessable entity"),
    428: ("PRECONDITION_REQUIRED", "Precondition required"),
    429: ("TOO_MANY_REQUESTS", "Too many requests"),
    500: ("INTERNAL_ERROR", "Internal error"),
    502: ("UPSTREAM_ERROR", "Upstream failure"),
    503: ("UNAVAILABLE", "Service unavailable"),
    504: ("UPSTREAM_TIMEOUT", "Upstream timeout"),
}


def register_constraint(name: str, code: str, message: str, status: int = 409) -> None:
    """Declare what a violation of constraint ``name`` means to a client."""
    CONSTRAINT_ERRORS[name] = (status, code, message)


def error_body(status: int, code: str, reason: str, message: str, **extra: Any) -> dict[str, Any]:
    """The TMF630 Error resource (status is a string, as TMF writes it)."""
    body: dict[str, Any] = {
        "@type": "Error",
        "code": code,
        "reason": reason,
        "message": message,
        "status": str(status),
    }
    body.update(extra)
    return body


def error_response(
    status: int, code: str, reason: str, message: str, headers: dict[str, str] | None = None, **extra: Any
) -> ConnexionResponse:
    body = error_body(status, code, reason, message, **extra)
    all_headers = {"X-Request-ID": request_context.current().request_id, **(headers or {})}
    return ConnexionResponse(
        status_code=status, mimetype="application/json", body=json.dumps(body), headers=all_headers
    )


def status_for(error: categories.ProvisioError) -> int:
    for klass in type(error).__mro__:
        if klass in STATUS_BY_CATEGORY:
            return STATUS_BY_CATEGORY[klass]
    return 500


def handle_domain_error(_request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    assert isinstance(exc, categories.ProvisioError)
    status = status_for(exc)
    extra = {"details": exc.details} if exc.details else {}
    return error_response(status, exc.code, exc.reason, exc.message, **extra)


def handle_problem(_request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    """Connexion's validation and routing problems (400, 404, 405, 415 ...), in TMF shape."""
    assert isinstance(exc, ProblemException)
    code, reason = _HTTP_CODES.get(exc.status, ("ERROR", exc.title or "Error"))
    code = getattr(exc, "code", None) or code  # server.auth's problems name their own code
    # jsonschema appends the whole failing schema after a blank line; the first line says it all.
    message = str(exc.detail or exc.title or reason).split("\n\n", 1)[0].strip()
    headers = dict(exc.headers or {})
    if exc.status == 401 and not any(key.lower() == "www-authenticate" for key in headers):
        # connexion's own "no credential" 401: say which schemes would do (RFC 9110 §15.5.2).
        headers["WWW-Authenticate"] = AUTH_CHALLENGE
        code = "MISSING_CREDENTIAL" if "No authorization token" in message else code
    return error_response(exc.status, code, reason, message, headers=headers)


def handle_http_exception(request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    assert isinstance(exc, HTTPException)
    code, reason = _HTTP_CODES.get(exc.status_code, ("ERROR", "Error"))
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        allowed = allowed_methods(str(request.scope.get("path", "")))
        if allowed:
            headers = {key: value for key, value in headers.items() if key.lower() != "allow"}
            headers["Allow"] = ", ".join(allowed)
    return error_response(exc.status_code, code, reason, str(exc.detail or reason), headers=headers)


_HTTP_METHODS = ("get", "head", "post", "put", "patch", "delete", "options", "trace")


@cache
def _route_table() -> tuple[tuple[re.Pattern[str], frozenset[str]], ...]:
    """(path pattern, methods) of every operation of every served document (``server.apis``)."""
    routes = []
    for api in APIS:
        document = yaml.safe_load((OPENAPI_DIR / api.spec).read_text(encoding="utf-8"))
        for template, item in (document.get("paths") or {}).items():
            methods = {method.upper() for method in item if method in _HTTP_METHODS}
            if "GET" in methods:
                methods.add("HEAD")  # Starlette answers HEAD wherever GET is served (RFC 9110 §9.3.2)
            pattern = re.escape(api.base_path.rstrip("/") + template)
            pattern = re.sub(r"\\\{[^}/]+\\\}", "[^/]+", pattern)
            routes.append((re.compile(pattern), frozenset(methods)))
    return tuple(routes)


def allowed_methods(path: str) -> list[str]:
    """The methods the documents serve at ``path``, for the ``Allow`` header of a 405 (RFC 9110 §15.5.6).

    Starlette answers a 405 with the methods of the first route whose path matched, and connexion adds
    one route per operation, so ``OPTIONS /resource`` said ``GET, HEAD`` although POST is served there too.
    """
    methods: set[str] = set()
    for pattern, route_methods in _route_table():
        if pattern.fullmatch(path):
            methods |= route_methods
    order = {method.upper(): index for index, method in enumerate(_HTTP_METHODS)}
    return sorted(methods, key=lambda method: order.get(method, len(order)))


def handle_bad_encoding(_request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    return error_response(400, "MALFORMED_BODY", "Bad request", "The request body is not valid UTF-8 JSON.")


def handle_integrity_error(_request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    """A constraint caught what the use case did not: a clean 409 named after the constraint."""
    text = str(getattr(exc, "orig", exc))
    for name, (status, code, message) in CONSTRAINT_ERRORS.items():
        if name in text:
            return error_response(status, code, _HTTP_CODES.get(status, ("", "Conflict"))[1], message)
    logger.warning("unmapped integrity error: %s", text)
    return error_response(409, "CONFLICT", "Conflict", "The change conflicts with existing data.")


def handle_data_error(_request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    """A value the database refused (too long, out of range): the last line of defence behind the use
    cases' own checks, so that it is a 400 and never a 500. The database's text stays in the log."""
    logger.warning("database refused a value: %s", getattr(exc, "orig", exc))
    return error_response(
        400, "INVALID_VALUE", "Bad request", "A value in the request is too long or out of range for its attribute."
    )


def handle_database_unavailable(_request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    logger.error("database error: %s", exc)
    return error_response(
        503,
        "UNAVAILABLE",
        "Service unavailable",
        "The database is busy or unreachable; retry later.",
        headers={"Retry-After": "1"},
    )


def handle_unexpected(_request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    request_id = request_context.current().request_id
    logger.error("unhandled error in request %s", request_id, exc_info=exc)
    return error_response(
        500,
        "INTERNAL_ERROR",
        "Internal error",
        f"An unexpected error occurred; quote request id {request_id} to the operator.",
    )


HANDLERS: list[tuple[type[Exception] | int, Any]] = [
    (categories.ProvisioError, handle_domain_error),
    (ProblemException, handle_problem),
    (HTTPException, handle_http_exception),
    (UnicodeDecodeError, handle_bad_encoding),
    (json.JSONDecodeError, handle_bad_encoding),
    (IntegrityError, handle_integrity_error),
    (DataError, handle_data_error),
    (OperationalError, handle_database_unavailable),
    (Exception, handle_unexpected),
]
