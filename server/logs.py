"""Logging set-up: stdlib logging, one line per event, the request id and actor on every line.

A log line is evidence, so a client must not be able to write one. Everything a client controls (path,
query, ``X-User``, ``X-Request-ID``, a callback URL, a value quoted in an error) can reach a message, so
``SafeFormatter`` escapes control characters in the whole formatted line, whatever the logger (ours,
connexion's, httpx's), and indents the continuation lines of a traceback, so that no client text can
start a line that looks like a record of its own. It also redacts credentials in URLs
(``common.redaction``).
"""

from __future__ import annotations

import logging
import re
from typing import Any

from common import request_context
from common.redaction import redact_urls_in_text

LINE_FORMAT = "%(asctime)s %(levelname)s %(name)s [req=%(request_id)s user=%(actor)s] %(message)s"

# C0 and C1 controls and DEL; the Unicode line and paragraph separators some viewers break lines on;
# the bidirectional overrides and isolates that make a terminal show text in another order than it is
# stored ("Trojan Source", CVE-2021-42574).
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_NAMED_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
# What a continuation line of a traceback starts with: never a timestamp, so never a forged record.
CONTINUATION = "  | "


def escape_control_characters(text: str) -> str:
    """``text`` with every control character written as a Python-style escape (``\\n``, ``\\x00``, ``\\u2028``)."""
    return _UNSAFE.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    char = match.group(0)
    if char in _NAMED_ESCAPES:
        return _NAMED_ESCAPES[char]
    code = ord(char)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


class RequestContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        context = request_context.current()
        record.request_id = context.request_id
        record.actor = context.actor
        return True


class SafeFormatter(logging.Formatter):
    """One physical line per record for everything but a traceback, and no client text at the start of
    any line: control characters escaped, URL credentials redacted, traceback lines indented."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        return escape_control_characters(redact_urls_in_text(super().formatMessage(record)))

    def formatException(self, ei: Any) -> str:
        return _continuation(super().formatException(ei))

    def formatStack(self, stack_info: str) -> str:
        return _continuation(super().formatStack(stack_info))


def _continuation(text: str) -> str:
    lines = redact_urls_in_text(text).split("\n")
    return "\n".join(CONTINUATION + escape_control_characters(line) for line in lines)


def make_handler(stream: Any = None) -> logging.Handler:
    """The handler every process logs through (stderr unless ``stream`` is given)."""
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestContextFilter())
    handler.setFormatter(SafeFormatter(LINE_FORMAT))
    return handler


def configure_logging(level: str = "INFO") -> None:
    root = logging.getLogger()
    root.handlers[:] = [make_handler()]
    root.setLevel(level)


class UndeclaredFilterArgumentFilter(logging.Filter):
    """Drops connexion's ERROR for query parameters the spec does not declare.

    TMF630 attribute filtering (``?resourceCharacteristic.name=vlan``) takes query parameters no spec can
    list; they reach the handler through ``**kwargs`` on purpose, so connexion's complaint is noise (two
    ERROR lines per filtered list) that would hide real errors.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Function argument '%s' (non-sanitized: %s) not defined")


class MultipleContentTypesFilter(logging.Filter):
    """Drops connexion 3.3's WARNING "this operation accepts multiple content types, using ...".

    connexion logs it each time it looks up the body schema of an operation that declares more than one
    request media type (a merge-patch accepts ``application/merge-patch+json`` and ``application/json``),
    several times per request, even when it was told which one the request uses. The spec declares both
    on purpose; nothing is wrong, and the line would hide real warnings.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("this operation accepts multiple content types")


def _add_filter_once(logger_name: str, log_filter: logging.Filter) -> None:
    logger = logging.getLogger(logger_name)
    if not any(type(existing) is type(log_filter) for existing in logger.filters):
        logger.addFilter(log_filter)


def quiet_undeclared_filter_arguments() -> None:
    """Silence connexion's per-request noise (both filters above; the name is kept for callers)."""
    _add_filter_once("connexion.decorators.parameter", UndeclaredFilterArgumentFilter())
    _add_filter_once("connexion.operations.openapi3", MultipleContentTypesFilter())
