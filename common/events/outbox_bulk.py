"""``publish_many()``: the set-wise twin of :func:`common.events.outbox.publish`, for bulk imports.

Kept apart from ``publish()`` on purpose (minimal and easy to reconcile): it writes, for N changes of one
event type, exactly what N calls of ``publish()`` would write -- the same TMF688 payloads, one
``event_outbox`` row each in the same order, one ``event_delivery`` per matching subscription -- but with
one multi-row INSERT per table and one read of the API's subscriptions instead of N of each. The
subscription read takes the same ``FOR KEY SHARE`` lock. ``tests/integration/bulk`` compares both paths
row for row, so a change to ``publish()`` that this function does not follow fails there.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.orm import Session

from common import clock, request_context
from common.events.models import PENDING, EventDelivery, OutboxEvent
from common.events.outbox import _SUBSCRIPTIONS_OF_API, wake_dispatcher_after_commit
from common.events.query import parse_query
from common.orm import new_id

logger = logging.getLogger(__name__)

# Core statements on the tables, not ORM-enabled inserts: the ORM's bulk path costs about as much again
# per row (measured: 1.3 s of 4.7 s for 20,000 rows) for nothing an outbox row needs. RETURNING in the
# order of the parameters, so seq i belongs to resource i (insertmanyvalues).
_EVENTS: Table = OutboxEvent.__table__  # type: ignore[assignment]
_DELIVERIES: Table = EventDelivery.__table__  # type: ignore[assignment]
_INSERT_EVENTS = insert(_EVENTS).returning(_EVENTS.c.seq, sort_by_parameter_order=True)
_INSERT_DELIVERIES = insert(_DELIVERIES)


def event_payload(
    *,
    api: str,
    event_type: str,
    resource: dict[str, Any],
    payload_key: str,
    moment: datetime,
    field_path: str | None = None,
) -> dict[str, Any]:
    """The TMF688 event ``publish()`` writes (see its docstring for the shape)."""
    payload: dict[str, Any] = {
        "eventId": new_id(),
        "eventTime": clock.isoformat(moment),
        "eventType": event_type,
        "@type": event_type,
        "@baseType": "Event",
        "domain": api,
        "event": {payload_key: resource},
    }
    context = request_context.current()
    if context.request_id and context.request_id != "-":
        payload["correlationId"] = context.request_id
    if field_path is not None:
        payload["fieldPath"] = field_path
    return payload


def publish_many(
    session: Session,
    *,
    api: str,
    event_type: str,
    resources: Sequence[dict[str, Any]],
    payload_key: str = "resource",
) -> list[str]:
    """Record one TMF event per resource in the caller's transaction and fan each out to the matching
    subscriptions; returns the ``eventId`` of each, in order. The caller has written (or flushed) the
    changed rows first, as ``publish()`` does, so their locks precede the events' sequence numbers."""
    if not resources:
        return []
    moment = clock.now()
    payloads = [
        event_payload(api=api, event_type=event_type, resource=resource, payload_key=payload_key, moment=moment)
        for resource in resources
    ]
    session.flush()
    connection = session.connection()
    seqs = (
        connection.execute(
            _INSERT_EVENTS,
            [
                {"event_id": p["eventId"], "api": api, "event_type": event_type, "payload": p, "created_at": moment}
                for p in payloads
            ],
        )
        .scalars()
        .all()
    )
    subscriptions = [(row.id, parse_query(row.query)) for row in session.execute(_SUBSCRIPTIONS_OF_API, {"api": api})]
    deliveries = [
        {
            "event_seq": seq,
            "subscription_id": subscription_id,
            "state": PENDING,
            "attempts": 0,
            "next_attempt_at": moment,
            "created_at": moment,
        }
        for seq, payload in zip(seqs, payloads, strict=True)
        for subscription_id, query in subscriptions
        if query.matches(payload)
    ]
    if deliveries:
        connection.execute(_INSERT_DELIVERIES, deliveries)
    wake_dispatcher_after_commit(session)
    logger.debug("published %d %s event(s), %d delivery(ies)", len(payloads), event_type, len(deliveries))
    return [p["eventId"] for p in payloads]
