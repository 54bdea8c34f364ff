"""Secrets kept out of what people read: URLs with credentials in responses and log lines.

A hub callback may carry credentials the listener needs (``http://user:pw@host/...``,
``?access_token=...``). The database keeps the URL as registered, because delivery needs it; every
representation a client reads and every log line shows ``redact_url(url)`` instead:

- the userinfo of an RFC 3986 §3.2.1 authority is replaced by ``***`` (RFC 3986 §7.5 and RFC 9110
  §4.2.4 deprecate passwords in URLs precisely because URLs get displayed and logged);
- the value of a query parameter whose name looks like a secret (``token``, ``password``, ``apiKey``,
  ``signature``, ...) is replaced by ``***``; its name stays, so an operator still sees what was sent.

Everything else of the URL is kept byte for byte (no re-encoding), so a redacted URL still tells which
listener it is.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

MASK = "***"

# Names of query parameters that carry secrets by convention (OAuth 2.0 access_token, AWS/GCS
# signatures, api keys, passwords, session ids); matched case-insensitively anywhere in the name.
_SECRET_NAME = re.compile(r"pass|pwd|secret|token|key|sig|auth|credential|session|cookie", re.IGNORECASE)
# scheme "://" authority; the userinfo is everything before the last "@" of the authority.
_URL_HEAD = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<authority>[^/?#]*)(?P<rest>.*)$", re.DOTALL)
# A URL inside free text (a log line, an error message): up to whitespace, a quote or an angle bracket.
_URL_IN_TEXT = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>]+")


def redact_url(url: str) -> str:
    """``url`` with its userinfo and the values of secret-looking query parameters masked."""
    match = _URL_HEAD.match(url)
    if match is None:
        return _redact_query_and_fragment(url)
    authority = match["authority"]
    if "@" in authority:
        authority = MASK + authority[authority.rindex("@") :]
    return match["scheme"] + authority + _redact_query_and_fragment(match["rest"])


def redact_urls_in_text(text: str) -> str:
    """Every URL found in ``text`` redacted (cheap when the text holds no ``://``)."""
    if "://" not in text:
        return text
    return _URL_IN_TEXT.sub(lambda match: redact_url(match.group(0)), text)


def _redact_query_and_fragment(rest: str) -> str:
    path, question, query = rest.partition("?")
    if not question:
        return rest
    query, hash_sign, fragment = query.partition("#")
    return path + "?" + "&".join(_redact_parameter(item) for item in query.split("&")) + hash_sign + fragment


def _redact_parameter(item: str) -> str:
    name, equals, value = item.partition("=")
    if equals and value and _SECRET_NAME.search(unquote(name)):
        return f"{name}={MASK}"
    return item
