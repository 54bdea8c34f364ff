"""The event dispatcher: delivers outbox events to hub listeners (TMF630 hub/listener) and to internal
consumers (``common.events.register_consumer``).

Each listener and each consumer is one ordered *line* of ``event_delivery`` rows. One step
(``Dispatcher.run_once``):

1. **claim** (one short transaction): due deliveries, ``state='pending' AND next_attempt_at <= now``,
   that are the *head* of their subscription (no earlier pending delivery to the same listener), locked
   ``FOR UPDATE SKIP LOCKED`` on PostgreSQL (SQLite runs the same statement without the clause and with
   its single writer), plus up to ``run_length - 1`` deliveries queued behind each head. A claim is a
   lease: ``attempts += 1`` and ``next_attempt_at = now + lease``. The transaction commits before any
   HTTP call.
2. **send**: POST each event JSON to its callback with httpx (short timeouts), no transaction open; one
   listener's events in order, one at a time, listeners in parallel; the first failure ends that
   listener's run and the rest of it is released untried. Each attempt is signed at its send time with
   the subscription's secret (``X-Provisio-Signature``, ``common.events.signing``).
3. **record** (fenced on ``attempts`` so a worker whose lease expired cannot overwrite the newer
   claim): 2xx -> ``delivered``, the successes of a run together in one transaction; otherwise retry
   after an exponential backoff with jitter, or ``dead`` once ``max_attempts`` is reached.

A consumer's line is run the same way, except that step 2 and 3 are one transaction per event: the
fenced mark as ``delivered``, then the handler with that session, then the commit (``consume``), so a
handler's database writes take effect exactly once; a handler that raises is recorded as a failed attempt.

``server/event_purge.py`` deletes what was delivered longer ago than the retention, run after steps by the loops
in ``server/workers.py``, which also wake the dispatcher on commits (``server/wakeup.py`` across processes).

Guarantees (also in the README): at-least-once delivery with an ``eventId`` that never changes across
attempts; a worker killed between claim and record loses nothing (the lease expires and another claim
re-sends it); events reach a listener in outbox order, one in flight at a time per listener, except
that a dead-lettered event no longer holds the line (a redelivered one goes first again) and two
transactions committing concurrently may publish in either order.

Operators: ``list_deliveries`` and ``redeliver`` (also served by the ops API, ``server/audit_api.py``).
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

import httpx
from sqlalchemy import Table, and_, bindparam, exists, func, select, true, update
from sqlalchemy.orm import Session, aliased

from common import clock, events, request_context
from common.errors import Conflict, NotFound
from common.events import (
    DEAD,
    DELIVERED,
    PENDING,
    EventDelivery,
    EventSubscription,
    OutboxEvent,
    consumers,
    signing,
)
from common.redaction import redact_url, redact_urls_in_text
from common.steps.lease import CLAIMED_BY_MAX_LENGTH, RetryPolicy, fenced_update, worker_identity
from server.settings import Settings

logger = logging.getLogger(__name__)

SessionFactory = Callable[[], Session]


def delivery_retry_policy(settings: Settings) -> RetryPolicy:
    """The event deliveries' backoff (``PROVISIO_DELIVERY_*``); the policy class is the durable-step
    kernel's (``common.steps.lease``), shared with steps and sweepers."""
    return RetryPolicy(
        max_attempts=settings.delivery_max_attempts,
        base_delay=settings.delivery_retry_base,
        max_delay=settings.delivery_retry_max,
    )


@dataclass(frozen=True)
class Claim:
    """One leased delivery: to a hub listener (``subscription_id`` + ``callback``) or to an internal
    consumer (``consumer``)."""

    delivery_id: int
    attempt: int
    subscription_id: str | None
    callback: str | None
    event_id: str
    payload: dict[str, Any]
    consumer: str | None = None
    event_seq: int = 0
    event_type: str = ""
    api: str = ""
    # The subscription's signing secret; never in a repr, so never in a log line or a traceback.
    secret: str | None = field(default=None, repr=False)

    @property
    def line(self) -> str:
        """The ordered line this delivery stands in: one per listener, one per consumer."""
        return f"consumer:{self.consumer}" if self.consumer is not None else f"subscription:{self.subscription_id}"

    @property
    def target(self) -> str:
        return f"consumer {self.consumer}" if self.consumer is not None else redact_url(str(self.callback))


@dataclass(frozen=True)
class Outcome:
    delivered: bool
    status: int | None = None
    error: str | None = None


@dataclass
class Dispatcher:
    """Claims, sends and records deliveries. Thread-safe for ``run_once`` from one thread at a time;
    run several ``Dispatcher`` instances (threads or processes) side by side on PostgreSQL."""

    session_factory: SessionFactory
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    rng: random.Random = field(default_factory=lambda: random.Random(0))
    lease: timedelta = timedelta(seconds=60)
    batch_size: int = 32  # listeners served per step
    run_length: int = 20  # events sent in a row to one listener per step (in order, one at a time)
    concurrency: int = 8
    worker_id: str = field(default_factory=worker_identity)
    timeout: httpx.Timeout = field(default_factory=lambda: httpx.Timeout(5.0, connect=2.0))
    http: httpx.Client | None = None
    # (subscription id, api) -> why the listener may not get the API's events now, or None (issue 15:
    # ``server.auth.hub_gate``, set by ``make_dispatcher`` when authentication is on).
    gate: Callable[[str, str], str | None] | None = None
    # Signature timestamps are wire time, compared with the listener's clock: the wall clock, not
    # common.clock (which tests freeze to drive backoff). Injectable to tell attempts apart in tests.
    wall_clock: Callable[[], float] = time.time

    def __post_init__(self) -> None:
        self._own_http = self.http is None
        if self.http is None:
            self.http = httpx.Client(timeout=self.timeout, follow_redirects=False)
        self._pool = ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="event-delivery")
        self._rng_lock = threading.Lock()

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        if self._own_http and self.http is not None:
            self.http.close()

    def run_once(self) -> int:
        """Claim, send and record one batch; returns how many deliveries were attempted."""
        with request_context.bind(actor="system"):
            claims = self.claim()
            if not claims:
                return 0
            runs: dict[str, list[Claim]] = {}
            for claim in claims:
                runs.setdefault(claim.line, []).append(claim)
            return sum(self._pool.map(self._deliver_run, runs.values()))

    def _deliver_run(self, run: list[Claim]) -> int:
        """Deliver one line's claimed events in order; stop at the first failure and hand back the rest."""
        with request_context.bind(actor="system"):
            return self._consume_run(run) if run[0].consumer is not None else self._send_run(run)

    def _send_run(self, run: list[Claim]) -> int:
        """POST one listener's events in order, one at a time. The successes are recorded together, in one
        transaction at the end of the run (a transaction per event cost as much as the POST itself); a
        worker killed mid-run therefore re-sends up to ``run_length`` events, which listeners drop by
        ``eventId``."""
        refusal = self.gate(str(run[0].subscription_id), run[0].api) if self.gate is not None else None
        if refusal is not None:
            return self._withhold(run, refusal)
        delivered: list[tuple[Claim, Outcome]] = []
        try:
            for index, claim in enumerate(run):
                outcome = self.send(claim)
                if outcome.delivered:
                    delivered.append((claim, outcome))
                    continue
                self.record_delivered(delivered)
                delivered = []
                self.record(claim, outcome)
                self.release(run[index + 1 :])
                return index + 1
        finally:
            self.record_delivered(delivered)
        return len(run)

    def _withhold(self, run: list[Claim], refusal: str) -> int:
        """Dead-letter a listener's claimed events unsent: its registering credential may not read them."""
        values = {"state": DEAD, "last_status": None, "last_error": f"withheld: {refusal}"[:500], "claimed_by": None}
        with self.session_factory() as session, session.begin():
            for claim in run:
                self._fenced_update(session, claim, values)
        logger.warning("%d event(s) to %s withheld: %s", len(run), run[0].target, refusal)
        return len(run)

    def _consume_run(self, run: list[Claim]) -> int:
        """Run one consumer's events in order, one transaction each (the handler's writes and the mark)."""
        for index, claim in enumerate(run):
            if not self.consume(claim):
                self.release(run[index + 1 :])
                return index + 1
        return len(run)

    def claim(self) -> list[Claim]:
        """Lease the due head of each line (listener or consumer), plus up to ``run_length - 1`` events
        queued behind it (safe to take: nobody else can claim them while their head is pending). Ordered by
        line, then by event sequence. Only consumers registered in this process are claimed."""
        now = clock.now()
        local_consumers = sorted(consumers.registered_consumers())
        with self.session_factory() as session, session.begin():
            claimed = self._claim_line_heads(session, EventDelivery.subscription_id, now)
            if local_consumers:
                claimed += self._claim_line_heads(
                    session, EventDelivery.consumer, now, EventDelivery.consumer.in_(local_consumers)
                )
            if not claimed:
                return []
            session.execute(
                update(EventDelivery)
                .where(EventDelivery.id.in_(claimed))
                .values(
                    attempts=EventDelivery.attempts + 1,
                    next_attempt_at=now + self.lease,
                    claimed_by=self.worker_id[:CLAIMED_BY_MAX_LENGTH],
                    last_attempt_at=now,
                )
                .execution_options(synchronize_session=False)
            )
            rows = session.execute(
                select(
                    EventDelivery.id,
                    EventDelivery.attempts,
                    EventDelivery.subscription_id,
                    EventSubscription.callback,
                    OutboxEvent.event_id,
                    OutboxEvent.payload,
                    EventDelivery.consumer,
                    OutboxEvent.seq,
                    OutboxEvent.event_type,
                    OutboxEvent.api,
                    EventSubscription.signing_secret,
                )
                .outerjoin(EventSubscription, EventSubscription.id == EventDelivery.subscription_id)
                .join(OutboxEvent, OutboxEvent.seq == EventDelivery.event_seq)
                .where(EventDelivery.id.in_(claimed))
                .order_by(EventDelivery.subscription_id, EventDelivery.consumer, EventDelivery.event_seq)
            ).all()
        return [
            Claim(
                delivery_id=row[0],
                attempt=row[1],
                subscription_id=row[2],
                callback=row[3],
                event_id=row[4],
                payload=dict(row[5]),
                consumer=row[6],
                event_seq=row[7],
                event_type=row[8],
                api=row[9],
                secret=row[10],
            )
            for row in rows
        ]

    def _claim_line_heads(self, session: Session, line: Any, now: datetime, *conditions: Any) -> list[int]:
        """Ids of the due heads of the lines keyed by ``line`` (a column of event_delivery), locked
        ``FOR UPDATE SKIP LOCKED``, with the followers queued behind each."""
        earlier = aliased(EventDelivery)
        earlier_line = getattr(earlier, line.key)
        blocked_by_earlier = exists().where(
            earlier_line == line,
            earlier.state == PENDING,
            earlier.event_seq < EventDelivery.event_seq,
        )
        heads = session.execute(
            select(EventDelivery.id, line.label("line"), EventDelivery.event_seq)
            .where(
                EventDelivery.state == PENDING,
                EventDelivery.next_attempt_at <= now,
                line.is_not(None),
                ~blocked_by_earlier,
                *conditions,
            )
            .order_by(EventDelivery.next_attempt_at, EventDelivery.event_seq)
            .limit(self.batch_size)
            .with_for_update(skip_locked=True)
        ).all()
        claimed = [head.id for head in heads]
        for head in heads:
            claimed.extend(self._followers(session, line, head.line, head.event_seq, now))
        return claimed

    def _followers(self, session: Session, line: Any, key: str, head_seq: int, now: datetime) -> list[int]:
        if self.run_length <= 1:
            return []
        rows = session.execute(
            select(EventDelivery.id, EventDelivery.next_attempt_at)
            .where(line == key, EventDelivery.state == PENDING, EventDelivery.event_seq > head_seq)
            .order_by(EventDelivery.event_seq)
            .limit(self.run_length - 1)
            .with_for_update()
        ).all()
        followers: list[int] = []
        for row in rows:
            if row.next_attempt_at > now:  # leased elsewhere (an old claim): stop, to keep the order
                break
            followers.append(row.id)
        return followers

    def release(self, claims: list[Claim]) -> None:
        """Give back claimed deliveries that were not attempted (their head failed): the attempt is not
        counted and they are due again at once (still behind their head)."""
        if not claims:
            return
        now = clock.now()
        with self.session_factory() as session, session.begin():
            for claim in claims:
                session.execute(
                    update(EventDelivery)
                    .where(
                        EventDelivery.id == claim.delivery_id,
                        EventDelivery.attempts == claim.attempt,
                        EventDelivery.state == PENDING,
                    )
                    .values(attempts=EventDelivery.attempts - 1, next_attempt_at=now, claimed_by=None)
                    .execution_options(synchronize_session=False)
                )

    def send(self, claim: Claim) -> Outcome:
        """POST the event to the listener, signed now (a retry is signed afresh); only a 2xx answer counts
        as delivered."""
        assert self.http is not None and claim.callback is not None and claim.secret is not None
        body = signing.delivery_body(claim.payload)
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            **signing.signed_headers(claim.secret, body, claim.event_id, now=self.wall_clock()),
        }
        try:
            response = self.http.post(claim.callback, content=body, headers=headers)
        except httpx.HTTPError as error:
            return Outcome(delivered=False, error=f"{type(error).__name__}: {error}"[:500])
        if 200 <= response.status_code < 300:
            return Outcome(delivered=True, status=response.status_code)
        return Outcome(delivered=False, status=response.status_code, error=f"HTTP {response.status_code}")

    def consume(self, claim: Claim) -> bool:
        """Run an internal consumer's handler on its claimed event, in the transaction that marks the
        delivery done (fenced on the attempt): the handler's writes and the mark commit together, so a
        DB-only handler takes effect exactly once. A handler that raises rolls back both; the attempt is
        then recorded as failed (retry with backoff, or dead)."""
        assert claim.consumer is not None
        registered = consumers.consumer(claim.consumer)
        if registered is None:  # unregistered in this process since the claim: leave it to another process
            self.release([claim])
            return False
        event = consumers.ConsumedEvent(
            event_id=claim.event_id,
            event_type=claim.event_type,
            api=claim.api,
            seq=claim.event_seq,
            payload=claim.payload,
            attempt=claim.attempt,
        )
        try:
            with self.session_factory() as session, session.begin():
                if not self._fenced_update(session, claim, self._delivered_values(Outcome(delivered=True))):
                    logger.info("delivery %s: claim %d superseded; not consumed", claim.delivery_id, claim.attempt)
                    return False
                registered.handler(event, session)
                session.flush()
        except Exception as error:
            logger.warning(
                "consumer %s failed on event %s (attempt %d)", claim.consumer, claim.event_id, claim.attempt,
                exc_info=True,
            )  # fmt: skip
            self.record(claim, Outcome(delivered=False, error=f"{type(error).__name__}: {error}"[:500]))
            return False
        return True

    def record(self, claim: Claim, outcome: Outcome) -> str:
        """Store the outcome of one attempt; returns the new state ('' if the claim was lost)."""
        values = self._delivered_values(outcome) if outcome.delivered else self._failed_values(claim, outcome)
        with self.session_factory() as session, session.begin():
            recorded = self._fenced_update(session, claim, values)
        if not recorded:
            # The lease expired and another worker claimed it again, or the listener was unregistered.
            logger.info("delivery %s: claim %d superseded; outcome dropped", claim.delivery_id, claim.attempt)
            return ""
        return str(values.get("state", PENDING))

    def record_delivered(self, delivered: list[tuple[Claim, Outcome]]) -> int:
        """Mark successful attempts delivered, in one transaction, each fenced on its attempt; returns how
        many were still this worker's to mark."""
        if not delivered:
            return 0
        table = cast(Table, EventDelivery.__table__)
        statement = (
            update(table)
            .where(
                table.c.id == bindparam("delivery_id"),
                table.c.attempts == bindparam("attempt"),
                table.c.state == PENDING,
            )
            .values(
                state=DELIVERED,
                delivered_at=bindparam("at"),
                last_status=bindparam("status"),
                last_error=None,
                claimed_by=None,
            )
        )
        now = clock.now()
        rows = [
            {"delivery_id": claim.delivery_id, "attempt": claim.attempt, "at": now, "status": outcome.status}
            for claim, outcome in delivered
        ]
        with self.session_factory() as session, session.begin():
            marked = int(session.connection().execute(statement, rows).rowcount)
        if marked < len(rows):
            dropped = len(rows) - marked
            logger.info("%d of %d delivered events had been claimed again; outcome dropped", dropped, len(rows))
        return marked

    @staticmethod
    def _delivered_values(outcome: Outcome) -> dict[str, Any]:
        return {
            "last_status": outcome.status,
            "last_error": outcome.error,
            "claimed_by": None,
            "state": DELIVERED,
            "delivered_at": clock.now(),
        }

    def _failed_values(self, claim: Claim, outcome: Outcome) -> dict[str, Any]:
        values: dict[str, Any] = {"last_status": outcome.status, "last_error": outcome.error, "claimed_by": None}
        if claim.attempt >= self.policy.max_attempts:
            values.update(state=DEAD)
            logger.warning(
                "event %s to %s dead after %d attempts: %s",
                claim.event_id,
                claim.target,
                claim.attempt,
                outcome.error,
            )
            return values
        with self._rng_lock:
            delay = self.policy.delay(claim.attempt, self.rng)
        values.update(next_attempt_at=clock.now() + timedelta(seconds=delay))
        logger.info(
            "event %s to %s failed (attempt %d, %s); retry in %.2fs",
            claim.event_id,
            claim.target,
            claim.attempt,
            outcome.error,
            delay,
        )
        return values

    @staticmethod
    def _fenced_update(session: Session, claim: Claim, values: dict[str, Any]) -> bool:
        """Apply ``values`` only if the delivery is still pending under this claim's attempt number
        (the kernel's fence, ``common.steps.lease.fenced_update``)."""
        return fenced_update(
            session, EventDelivery, EventDelivery.id, claim.delivery_id, claim.attempt, PENDING, values
        )


def run_forever(
    dispatcher: Dispatcher,
    *,
    interval: float,
    stop: threading.Event,
    wake: threading.Event | None = None,
    after_step: Callable[[], object] | None = None,
) -> None:
    """The standalone loop (``provisio worker``): run steps until ``stop`` is set, polling every
    ``interval`` seconds when idle, or sooner when ``wake`` is set (a publish in this process, or a
    PostgreSQL notification: ``server.wakeup``). ``after_step`` runs after each step (housekeeping)."""
    wake = wake or threading.Event()
    remove = events.add_commit_listener(wake.set)
    try:
        while not stop.is_set():
            wake.clear()
            try:
                worked = dispatcher.run_once()
                if after_step is not None:
                    after_step()
            except Exception:
                logger.exception("dispatcher step failed; retrying after %.2fs", interval)
                worked = 0
            if not worked:
                logger.debug("dispatcher idle; next poll in %.1fs unless woken", interval)
                wake.wait(interval)
                if stop.is_set():
                    break
    finally:
        remove()


def make_dispatcher(session_factory: SessionFactory, settings: Settings, **overrides: Any) -> Dispatcher:
    if settings.auth.enabled and "gate" not in overrides:
        from server.auth.hub_gate import CredentialGate

        overrides["gate"] = CredentialGate(session_factory).refusal
    return Dispatcher(session_factory, policy=delivery_retry_policy(settings), **overrides)


# --- operator functions (ops API and CLI) -------------------------------------------------------------


class DeliveryNotFound(NotFound):
    code = "DELIVERY_NOT_FOUND"


class DeliveryPending(Conflict):
    code = "DELIVERY_PENDING"


def delivery_json(
    delivery: EventDelivery, event: OutboxEvent, subscription: EventSubscription | None
) -> dict[str, Any]:
    """A delivery as the ops API shows it: to a hub listener (``subscriptionId``, ``callback``) or to an
    internal consumer (``consumer``; the other two are null)."""
    return {
        "id": str(delivery.id),
        "state": delivery.state,
        "attempts": delivery.attempts,
        "eventId": event.event_id,
        "eventType": event.event_type,
        "api": event.api,
        "subscriptionId": subscription.id if subscription is not None else None,
        # Delivery reads the stored callback; people see it masked.
        "callback": redact_url(subscription.callback) if subscription is not None else None,
        "consumer": delivery.consumer,
        "createdAt": clock.isoformat(delivery.created_at),
        "nextAttemptAt": clock.isoformat(delivery.next_attempt_at),
        "lastAttemptAt": clock.isoformat(delivery.last_attempt_at) if delivery.last_attempt_at else None,
        "lastStatus": delivery.last_status,
        "lastError": redact_urls_in_text(delivery.last_error) if delivery.last_error else None,
        "deliveredAt": clock.isoformat(delivery.delivered_at) if delivery.delivered_at else None,
    }


def list_deliveries(
    session: Session,
    *,
    state: str | None = None,
    subscription_id: str | None = None,
    event_id: str | None = None,
    consumer: str | None = None,
    offset: int = 0,
    limit: int = 100,
) -> tuple[list[dict[str, Any]], int]:
    """Deliveries, newest first, with the total count (e.g. ``state='dead'``: the dead-letter queue)."""
    conditions = []
    if consumer:
        conditions.append(EventDelivery.consumer == consumer)
    if state:
        conditions.append(EventDelivery.state == state)
    if subscription_id:
        conditions.append(EventDelivery.subscription_id == subscription_id)
    if event_id:
        conditions.append(OutboxEvent.event_id == event_id)
    where = and_(true(), *conditions)
    base = (
        select(EventDelivery, OutboxEvent, EventSubscription)
        .join(OutboxEvent, OutboxEvent.seq == EventDelivery.event_seq)
        .outerjoin(EventSubscription, EventSubscription.id == EventDelivery.subscription_id)
        .where(where)
    )
    total = session.execute(select(func.count()).select_from(base.subquery())).scalar_one()
    rows = session.execute(base.order_by(EventDelivery.id.desc()).offset(offset).limit(limit)).all()
    return [delivery_json(*row) for row in rows], int(total)


def redeliver(session: Session, delivery_id: int) -> dict[str, Any]:
    """Put a dead (or delivered) delivery back in the queue, due now, with a fresh attempt budget.
    The event keeps its ``eventId``, so a listener that already has it drops the duplicate."""
    row = session.execute(
        select(EventDelivery, OutboxEvent, EventSubscription)
        .join(OutboxEvent, OutboxEvent.seq == EventDelivery.event_seq)
        .outerjoin(EventSubscription, EventSubscription.id == EventDelivery.subscription_id)
        .where(EventDelivery.id == delivery_id)
        .with_for_update(of=EventDelivery)
    ).first()
    if row is None:
        raise DeliveryNotFound(f"No event delivery with id {delivery_id}.")
    delivery = row[0]
    if delivery.state == PENDING:
        raise DeliveryPending(f"Event delivery {delivery_id} is already waiting to be delivered.")
    delivery.state = PENDING
    delivery.attempts = 0
    delivery.next_attempt_at = clock.now()
    delivery.delivered_at = None
    session.flush()
    events.wake_dispatcher_after_commit(session)
    logger.info("delivery %s of event %s put back in the queue", delivery_id, row[1].event_id)
    return delivery_json(*row)


def redeliver_dead(session: Session, *, subscription_id: str | None = None) -> int:
    """Put every dead delivery (of one subscription, or all) back in the queue; returns how many."""
    statement = update(EventDelivery).where(EventDelivery.state == DEAD)
    if subscription_id:
        statement = statement.where(EventDelivery.subscription_id == subscription_id)
    result = session.execute(
        statement.values(state=PENDING, attempts=0, next_attempt_at=clock.now()).execution_options(
            synchronize_session=False
        )
    )
    events.wake_dispatcher_after_commit(session)
    return int(result.rowcount)  # type: ignore[attr-defined]
