"""Error categories shared by every context.

Each context defines its own exceptions as subclasses of one category and gives them a stable
UPPER_SNAKE ``code``. ``server/errors.py`` maps the *category* to an HTTP status, so a context never
thinks about HTTP. The body a client sees is a TMF630 Error: ``code``, ``reason``, ``message``, ``status``.
"""

from __future__ import annotations

from typing import Any, ClassVar


class ProvisioError(Exception):
    """Base of every error a client may cause or see. Never raised directly."""

    code: ClassVar[str] = "INTERNAL_ERROR"
    reason: ClassVar[str] = "Internal error"

    def __init__(self, message: str, *, code: str | None = None, details: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code  # type: ignore[misc]  # per-instance override of the class default
        self.details = details or {}


class NotFound(ProvisioError):
    code = "NOT_FOUND"
    reason = "Not found"


class Conflict(ProvisioError):
    """The request is well formed but clashes with the current state (taken, wrong state, owned elsewhere)."""

    code = "CONFLICT"
    reason = "Conflict"


class InvalidInput(ProvisioError):
    """The request is malformed or breaks a rule the schema cannot express."""

    code = "INVALID_INPUT"
    reason = "Invalid input"


class Unprocessable(InvalidInput):
    """Well-formed JSON whose values break a domain rule (422)."""

    code = "UNPROCESSABLE"
    reason = "Unprocessable entity"


class PreconditionFailed(ProvisioError):
    """A condition the client set (If-Match, If-None-Match) does not hold (412)."""

    code = "PRECONDITION_FAILED"
    reason = "Precondition failed"


class PreconditionRequired(ProvisioError):
    """The server requires a conditional request, and the client sent none (428, RFC 6585 §3)."""

    code = "PRECONDITION_REQUIRED"
    reason = "Precondition required"


class Upstream(ProvisioError):
    """A device or another system failed or did not answer (502)."""

    code = "UPSTREAM_ERROR"
    reason = "Upstream failure"


class UpstreamTimeout(Upstream):
    """A device or another system did not answer in time (504)."""

    code = "UPSTREAM_TIMEOUT"
    reason = "Upstream timeout"
