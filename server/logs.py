"""Logging set-up: stdlib logging, one line per event, the request id and actor on every line."""

from __future__ import annotations

import logging

from common import request_context


class RequestContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        context = request_context.current()
        record.request_id = context.request_id
        record.actor = context.actor
        return True


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler()
    handler.addFilter(RequestContextFilter())
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s %(name)s [req=%(request_id)s user=%(actor)s] %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


class UndeclaredFilterArgumentFilter(logging.Filter):
    """Drops connexion's ERROR for query parameters the spec does not declare.

    TMF630 attribute filtering (``?resourceCharacteristic.name=vlan``) takes query parameters no spec can
    list; they reach the handler through ``**kwargs`` on purpose, so connexion's complaint is noise (two
    ERROR lines per filtered list) that would hide real errors.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Function argument '%s' (non-sanitized: %s) not defined")


def quiet_undeclared_filter_arguments() -> None:
    connexion_logger = logging.getLogger("connexion.decorators.parameter")
    if not any(isinstance(f, UndeclaredFilterArgumentFilter) for f in connexion_logger.filters):
        connexion_logger.addFilter(UndeclaredFilterArgumentFilter())
