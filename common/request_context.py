"""Who is asking, and in which request: carried through a use case without passing it around.

The server sets it per HTTP request (``X-Request-ID``, ``X-User``); workers set it per job. Audit
records and log lines read it.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass

# The widest actor or request id the audit trail and the event tables store (their columns use it).
IDENTITY_MAX_LENGTH = 128


@dataclass(frozen=True)
class RequestContext:
    request_id: str
    actor: str
    base_url: str = ""


SYSTEM = RequestContext(request_id="-", actor="system")

_current: ContextVar[RequestContext] = ContextVar("provisio_request_context", default=SYSTEM)


def current() -> RequestContext:
    return _current.get()


@contextlib.contextmanager
def bind(request_id: str | None = None, actor: str = "system", base_url: str = "") -> Iterator[RequestContext]:
    """Make a request context current for the duration of the block."""
    context = RequestContext(request_id=request_id or uuid.uuid4().hex, actor=actor, base_url=base_url)
    token = _current.set(context)
    try:
        yield context
    finally:
        _current.reset(token)
