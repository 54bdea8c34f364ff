"""Internal consumers: handlers inside the server that react to outbox events (ARCHITECTURE.md §3).

A context's facade registers them at import time::

    from common import events

    def _on_job_done(event: events.ConsumedEvent, session: Session) -> None:
        ...  # writes through ``session``; never commits

    events.register_consumer("product_order.activation_done", ["ActivationJobStateChangeEvent"], _on_job_done)

They are fed from the same outbox as the hub listeners and get the same guarantees: ``publish()`` writes
one ``event_delivery`` row per matching consumer in the transaction of the change; the dispatcher's
workers claim those rows with ``FOR UPDATE SKIP LOCKED`` and a lease, in order per consumer (head of
line), retry a failing handler with backoff, dead-letter it after the attempt budget, and an operator
redelivers it through ``/provisio/audit/v1/eventDelivery``.

**Exactly-once effect for DB-only handlers**: the handler runs inside the transaction that marks its
delivery done (fenced on the attempt number), so its writes and the mark commit together or not at all.
A handler that also talks to the outside world (HTTP, devices) gets at-least-once for that part and must
be idempotent on ``event.event_id``.

A process delivers only the consumers registered in it, so every process (API and ``provisio worker``)
loads every context (``server.schema.load_all_models`` imports each context's package and so its facade).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session


@dataclass(frozen=True)
class ConsumedEvent:
    """What a handler gets: the event as it was published (TMF688 shape in ``payload``)."""

    event_id: str  # stable across attempts: the key for idempotency of non-DB effects
    event_type: str
    api: str
    seq: int  # outbox order
    payload: dict[str, Any]
    attempt: int  # 1 on the first try


Handler = Callable[[ConsumedEvent, Session], None]


@dataclass(frozen=True)
class Consumer:
    name: str
    event_types: frozenset[str]
    handler: Handler
    api: str | None = None  # only events of this API (None: any API)

    def wants(self, api: str, event_type: str) -> bool:
        return event_type in self.event_types and (self.api is None or self.api == api)


MAX_NAME_LENGTH = 64  # event_delivery.consumer
_NAME = re.compile(r"^[A-Za-z0-9_.:-]+$")

_consumers: dict[str, Consumer] = {}
_lock = threading.Lock()


def register_consumer(name: str, event_types: Iterable[str], handler: Handler, *, api: str | None = None) -> Consumer:
    """Register ``handler`` for ``event_types`` (of ``api``, or of every API) under a stable ``name``.

    The name keys the consumer's deliveries in the database (its order line, its dead letters): keep it
    stable across releases. Registering the same name again replaces the handler (a module reload).
    """
    if not name or len(name) > MAX_NAME_LENGTH or not _NAME.match(name):
        raise ValueError(f"consumer name must be 1-{MAX_NAME_LENGTH} characters of [A-Za-z0-9_.:-]: {name!r}")
    types = frozenset(event_types)
    if not types:
        raise ValueError(f"consumer {name!r} consumes no event type")
    consumer = Consumer(name=name, event_types=types, handler=handler, api=api)
    with _lock:
        _consumers[name] = consumer
    return consumer


def unregister_consumer(name: str) -> None:
    """Forget a consumer in this process (tests); its pending deliveries stay in the database."""
    with _lock:
        _consumers.pop(name, None)


def registered_consumers() -> dict[str, Consumer]:
    with _lock:
        return dict(_consumers)


def consumer(name: str) -> Consumer | None:
    with _lock:
        return _consumers.get(name)


def consumers_of(api: str, event_type: str) -> list[str]:
    """Names of the consumers that get an event, sorted (the order their rows are written in)."""
    with _lock:
        return sorted(name for name, registered in _consumers.items() if registered.wants(api, event_type))
