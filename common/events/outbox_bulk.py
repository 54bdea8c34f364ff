"""``publish_many()``: the set-wise twin of :func:`common.events.outbox.publish`, for bulk imports.

It writes, for N changes of one event type, exactly what N calls of ``publish()`` would write -- the same
TMF688 payloads (``event_payload``), one ``event_outbox`` row each in the same order, and the same fan-out to
hub subscriptions and internal consumers (``fan_out``, which ``publish()`` calls too) -- but with one
multi-row INSERT per table and one read of the API's subscriptions instead of N of each.
``tests/integration/bulk`` compares both paths row for row.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.orm import Session

from common import clock
from common.events.models import OutboxEvent
from common.events.outbox import OutboxEntry, event_payload, fan_out

logger = logging.getLogger(__name__)

# A Core statement on the table, not an ORM-enabled insert: the ORM's bulk path costs about as much again
# per row (measured: 1.3 s of 4.7 s for 20,000 rows) for nothing an outbox row needs. RETURNING in the
# order of the parameters, so seq i belongs to resource i (insertmanyvalues).
_EVENTS: Table = OutboxEvent.__table__  # type: ignore[assignment]
_INSERT_EVENTS = insert(_EVENTS).returning(_EVENTS.c.seq, sort_by_parameter_order=True)


def publish_many(
    session: Session,
    *,
    api: str,
    event_type: str,
    resources: Sequence[dict[str, Any]],
    payload_key: str = "resource",
) -> list[str]:
    """Record one TMF event per resource in the caller's transaction and fan each out to the matching
    subscriptions and consumers; returns the ``eventId`` of each, in order. The caller has written (or
    flushed) the changed rows first, as ``publish()`` does, so their locks precede the events' sequence
    numbers."""
    if not resources:
        return []
    moment = clock.now()
    payloads = [
        event_payload(api=api, event_type=event_type, resource=resource, payload_key=payload_key, moment=moment)
        for resource in resources
    ]
    session.flush()
    seqs = (
        session.connection()
        .execute(
            _INSERT_EVENTS,
            [
                {"event_id": p["eventId"], "api": api, "event_type": event_type, "payload": p, "created_at": moment}
                for p in payloads
            ],
        )
        .scalars()
        .all()
    )
    entries = [OutboxEntry(seq, api, event_type, payload, moment) for seq, payload in zip(seqs, payloads, strict=True)]
    fanned = fan_out(session, entries)
    logger.debug("published %d %s event(s), %d delivery(ies)", len(payloads), event_type, fanned)
    return [str(p["eventId"]) for p in payloads]
