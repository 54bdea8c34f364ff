"""Who is asking, and in which request: carried through a use case without passing it around.

The server sets it per HTTP request (``X-Request-ID``, ``X-User``); workers set it per job. Audit
records and log lines read it.
"""

from __future__ import annotations

import contextlib
import re
import unicodedata
import uuid
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from urllib.parse import quote

# The widest actor or request id the audit trail and the event tables store (their columns use it).
IDENTITY_MAX_LENGTH = 128


# RFC 8187 §3.2.1 ext-value: charset "'" [ language ] "'" value-chars (attr-char or pct-encoded).
_EXT_VALUE = re.compile(r"(?i:utf-8)'[A-Za-z0-9-]*'((?:[A-Za-z0-9!#$&+.^_`|~-]|%[0-9A-Fa-f]{2})*)")


def decode_header_text(value: str) -> str:
    """The text a person typed, from a header value as the ASGI server hands it over.

    Header values arrive as bytes, which Starlette decodes as ISO-8859-1 (RFC 9110 §5.5), so
    ``X-User: jürgen`` sent as UTF-8 reads ``jÃ¼rgen``. Accepted, in this order:

    - an RFC 8187 ext-value, ``UTF-8''j%C3%BCrgen`` (the form for text in ASCII-only header fields);
    - UTF-8 bytes (what curl, browsers and HTTP libraries send for non-ASCII text);
    - anything else stays ISO-8859-1, as RFC 9110 reads it.

    The result is NFC-normalised (RFC 8265 §3.3.2 for usernames), so ``ü`` typed as one code point or as
    ``u`` + combining diaeresis is the same actor, and matches ``?actor=j%C3%BCrgen``.
    """
    extended = _EXT_VALUE.fullmatch(value)
    if extended is not None:
        raw = _percent_decoded(extended.group(1))
    else:
        try:
            raw = value.encode("latin-1")
        except UnicodeEncodeError:  # already text (a caller that decoded it): nothing to undo
            return unicodedata.normalize("NFC", value)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    return unicodedata.normalize("NFC", text)


def encode_header_text(text: str) -> str:
    """``text`` as an ASCII header value: itself when printable ASCII, else an RFC 8187 ext-value
    (``UTF-8''j%C3%BCrgen``) that ``decode_header_text`` reads back as ``text``. Many clients refuse
    non-ASCII bytes in a response header (RFC 9110 §5.5 only tolerates them as obs-text)."""
    if text.isascii() and text.isprintable() and not _EXT_VALUE.fullmatch(text):
        return text
    return "UTF-8''" + quote(text.encode("utf-8"), safe="!#$&+.^_`|~-")


def _percent_decoded(text: str) -> bytes:
    return re.sub(rb"%([0-9A-Fa-f]{2})", lambda match: bytes([int(match.group(1), 16)]), text.encode("ascii"))


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
