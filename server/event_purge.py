"""The purge of delivered events (``PROVISIO_EVENT_RETENTION``), so the outbox does not grow forever.

``purge`` deletes delivered ``event_delivery`` rows and outbox events nobody needs any more, in bounded
batches; ``PurgeSchedule`` runs it every ``PROVISIO_PURGE_INTERVAL`` seconds from the dispatcher loops
(``server/workers.py``). Dead and pending deliveries, and the events they need, are never purged.

The same rounds delete expired ``Idempotency-Key`` records (``server.idempotency``,
``PROVISIO_IDEMPOTENCY_TTL``), also when events are kept forever.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from common import clock, request_context
from common.events import DELIVERED, EventDelivery, OutboxEvent
from server.idempotency import store as idempotency_store
from server.settings import Settings

logger = logging.getLogger(__name__)

SessionFactory = Callable[[], Session]


def purge(session: Session, *, older_than: datetime, batch_size: int = 5_000) -> int:
    """Delete delivered deliveries and fully handled outbox events older than ``older_than``; dead and
    pending deliveries, and the events they need, stay. At most ``batch_size`` rows of each table per
    call, so one call is one short transaction (call again while it returns ``2 * batch_size``)."""
    done = (
        select(EventDelivery.id)
        .where(EventDelivery.state == DELIVERED, EventDelivery.delivered_at < older_than)
        .order_by(EventDelivery.id)
        .limit(batch_size)
    )
    deleted = session.execute(
        delete(EventDelivery)
        .where(EventDelivery.id.in_(done.scalar_subquery()))
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    still_needed = select(EventDelivery.id).where(EventDelivery.event_seq == OutboxEvent.seq).exists()
    handled = (
        select(OutboxEvent.seq)
        .where(OutboxEvent.created_at < older_than, ~still_needed)
        .order_by(OutboxEvent.seq)
        .limit(batch_size)
    )
    deleted += session.execute(
        delete(OutboxEvent)
        .where(OutboxEvent.seq.in_(handled.scalar_subquery()))
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    return int(deleted)


# Any number of processes run the schedule; on PostgreSQL one purges at a time (the others skip that round)
# so that concurrent DELETEs of the same rows neither wait on each other nor deadlock.
_PURGE_LOCK_KEY = 0x70726F76  # "prov"


@dataclass
class PurgeSchedule:
    """Runs ``purge`` every ``interval`` seconds for rows older than ``retention`` (``None``: never),
    from the dispatcher loops (``provisio worker`` and the API process's in-process worker)."""

    session_factory: SessionFactory
    retention: timedelta | None
    interval: float = 3600.0
    monotonic: Callable[[], float] = time.monotonic
    max_batches: int = 100  # per round: a huge backlog is worked off over several rounds
    next_due: float | None = None  # first round one interval after start-up (not at every restart at once)

    @classmethod
    def from_settings(cls, session_factory: SessionFactory, settings: Settings) -> PurgeSchedule:
        retention = timedelta(seconds=settings.event_retention) if settings.event_retention > 0 else None
        return cls(session_factory, retention, interval=settings.purge_interval)

    def run_if_due(self) -> int:
        """Purge if a round is due; returns the rows deleted (0 when not due or nothing to delete)."""
        now = self.monotonic()
        if self.next_due is None:
            self.next_due = now + self.interval
        if now < self.next_due:
            return 0
        self.next_due = now + self.interval
        return self.run_now()

    def run_now(self) -> int:
        keys = self._purge_idempotency_keys()
        if self.retention is None:
            return keys
        older_than = clock.now() - self.retention
        total = 0
        with request_context.bind(actor="system"):
            for _ in range(self.max_batches):
                with self.session_factory() as session, session.begin():
                    if not _take_purge_lock(session):
                        return keys + total
                    deleted = purge(session, older_than=older_than)
                total += deleted
                if deleted == 0:
                    break
        if total:
            logger.info("purged %d delivered event rows older than %s", total, clock.isoformat(older_than))
        return keys + total

    def _purge_idempotency_keys(self) -> int:
        now = clock.now()
        total = 0
        batch_size = 5_000
        for _ in range(self.max_batches):
            with self.session_factory() as session, session.begin():
                if not _take_purge_lock(session):
                    return total
                deleted = idempotency_store.purge_expired(session.connection(), now, batch_size)
            total += deleted
            if deleted < batch_size:
                break
        if total:
            logger.info("purged %d expired idempotency keys", total)
        return total


def _take_purge_lock(session: Session) -> bool:
    if session.get_bind().dialect.name != "postgresql":
        return True  # SQLite: one writer at a time anyway
    return bool(session.execute(select(func.pg_try_advisory_xact_lock(_PURGE_LOCK_KEY))).scalar())
