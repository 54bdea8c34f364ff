"""The runner: claims due sweepers and steps, runs them, records the outcome (fenced on the claim).

One ``StepRunner.run_once``:

1. **sweepers**: lease each registered sweeper whose ``due_at`` passed (``FOR UPDATE SKIP LOCKED`` on
   PostgreSQL), run its ``sweep``, then record it idle and due one interval after the run started, fenced
   on the claim. A failed sweep is retried after the step backoff (never later than one interval).
2. **steps**: lease up to ``batch_size`` due steps of the kinds registered in this process, oldest due
   first, each claim in one short transaction that commits before ``run`` starts; run them on a small thread
   pool; record ``done``/``waiting`` or a failed attempt (backoff, ``dead`` after ``max_attempts``).

While an item runs, a heartbeat thread renews its lease every third of the lease (fenced), so a long
activation or a long sweep keeps it and a killed process stops renewing it: the lease then ends and
another runner's claim takes over. A takeover counts as a failed attempt of the step (a step that kills
its worker every time ends ``dead`` instead of looping).

``run_forever`` is the loop of ``server/workers.py``: it sleeps until the earliest due time (or the poll
interval, whichever is sooner), and wakes at once when a transaction schedules or wakes a step (the same
commit hook and PostgreSQL ``NOTIFY`` that wake the event dispatcher: ``server/wakeup.py``).
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from common import clock, events, request_context
from common.steps.context import StepContext, StepSuperseded
from common.steps.lease import RetryPolicy, error_text, fenced_update, worker_identity
from common.steps.models import (
    CLAIMABLE_STATES,
    DEAD,
    IDLE,
    PENDING,
    RUNNING,
    DurableStep,
    Sweeper,
)
from common.steps.registry import StepKind, SweeperSpec, registered_steps, registered_sweepers
from common.uow import UnitOfWork

logger = logging.getLogger(__name__)

SessionFactory = Callable[[], Session]


@dataclass(frozen=True)
class StepClaim:
    step_id: str
    kind: str
    key: str
    payload: dict[str, Any]
    claim: int  # the row's attempts after the claim: the fencing token
    failures: int  # failed attempts before this one
    now: datetime


@dataclass(frozen=True)
class SweeperClaim:
    name: str
    claim: int
    started: datetime


@dataclass
class StepRunner:
    """Runs the registered sweepers and steps. ``run_once`` from one thread at a time; run several
    runners (threads or processes) side by side on PostgreSQL, one on SQLite."""

    session_factory: SessionFactory
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    lease: timedelta = timedelta(seconds=60)
    batch_size: int = 8
    concurrency: int = 4
    worker_id: str = field(default_factory=worker_identity)
    rng: random.Random = field(default_factory=random.Random)
    heartbeat: bool = True
    # Sessions for the idle loop's "when is the next item due" read (on SQLite: no write lock); default
    # ``session_factory``.
    read_session_factory: SessionFactory | None = None

    def __post_init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="durable-step")
        self._rng_lock = threading.Lock()
        self._ensured: dict[str, float] = {}
        self._leases = _Heartbeat(self) if self.heartbeat else None

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        if self._leases is not None:
            self._leases.stop()

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.session_factory)

    # --- one round -------------------------------------------------------------------------------------

    def run_once(self) -> int:
        """Run the due sweepers, then one batch of due steps; returns how many items were run."""
        with request_context.bind(actor="system"):
            ran = sum(1 for claim in self.claim_sweepers() if self.run_sweeper(claim) is not None)
            claims = self.claim_steps()
            ran += sum(1 for _ in self._pool.map(self.run_step, claims))
        return ran

    def next_due(self) -> datetime | None:
        """The earliest due time among this process's sweepers and claimable steps (None: nothing)."""
        kinds, names = sorted(registered_steps()), sorted(registered_sweepers())
        with (self.read_session_factory or self.session_factory)() as session, session.begin():
            due: list[datetime] = []
            if kinds:
                step_due = session.execute(
                    select(func.min(DurableStep.due_at)).where(
                        DurableStep.state.in_(CLAIMABLE_STATES), DurableStep.kind.in_(kinds)
                    )
                ).scalar()
                if step_due is not None:
                    due.append(step_due)
            if names:
                sweeper_due = session.execute(select(func.min(Sweeper.due_at)).where(Sweeper.name.in_(names))).scalar()
                if sweeper_due is not None:
                    due.append(sweeper_due)
                if set(names) - set(self._ensured):
                    due.append(clock.now())  # not yet in the database: due at once
        return min(due) if due else None

    # --- steps -----------------------------------------------------------------------------------------

    def claim_steps(self) -> list[StepClaim]:
        """Lease up to ``batch_size`` due steps of the locally registered kinds (oldest due first). A step
        whose previous lease expired counts that attempt as failed; at the budget it goes ``dead``."""
        kinds = registered_steps()
        if not kinds:
            return []
        now = clock.now()
        claims: list[StepClaim] = []
        with self.session_factory() as session, session.begin():
            rows = session.execute(
                select(
                    DurableStep.id,
                    DurableStep.kind,
                    DurableStep.key,
                    DurableStep.payload,
                    DurableStep.attempts,
                    DurableStep.failures,
                    DurableStep.state,
                    DurableStep.claimed_by,
                )
                .where(
                    DurableStep.state.in_(CLAIMABLE_STATES),
                    DurableStep.due_at <= now,
                    DurableStep.kind.in_(sorted(kinds)),
                )
                .order_by(DurableStep.due_at, DurableStep.id)
                .limit(self.batch_size)
                .with_for_update(skip_locked=True)
            ).all()
            for row in rows:
                kind = kinds[row.kind]
                failures = row.failures
                values: dict[str, Any] = {"updated_at": now}
                if row.state == RUNNING:  # its lease expired: the runner that held it died (or hung)
                    failures += 1
                    values["last_error"] = f"lease expired (held by {row.claimed_by})"[:500]
                    logger.warning("step %s/%s: lease of %s expired; taking over", row.kind, row.key, row.claimed_by)
                    if failures >= self._policy(kind).max_attempts:
                        session.execute(
                            update(DurableStep)
                            .where(DurableStep.id == row.id)
                            .values(**values, state=DEAD, failures=failures, due_at=None, claimed_by=None)
                        )
                        continue
                session.execute(
                    update(DurableStep)
                    .where(DurableStep.id == row.id)
                    .values(
                        **values,
                        state=RUNNING,
                        attempts=row.attempts + 1,
                        failures=failures,
                        due_at=now + self._lease_of(kind),
                        claimed_by=self.worker_id,
                        last_attempt_at=now,
                    )
                )
                claims.append(
                    StepClaim(row.id, row.kind, row.key, dict(row.payload or {}), row.attempts + 1, failures, now)
                )
        return claims

    def run_step(self, claim: StepClaim) -> str:
        """Run one claimed step and record its outcome; returns the new state ('' if superseded)."""
        kind = registered_steps().get(claim.kind)
        if kind is None:  # unregistered since the claim (tests): hand it back for another process
            self._record_step_failure(claim, None, RuntimeError("step kind not registered"), count=False)
            return ""
        context = StepContext(
            step_id=claim.step_id,
            kind=claim.kind,
            key=claim.key,
            payload=claim.payload,
            attempt=claim.failures + 1,
            now=claim.now,
            uow_factory=self.uow,
            claim=claim.claim,
        )
        lease = self._lease_of(kind)
        with request_context.bind(actor="system"), self._held(("step", claim.step_id, claim.claim, lease)):
            try:
                kind.run(context)
            except StepSuperseded:
                logger.info("step %s/%s: attempt %d superseded; outcome dropped", claim.kind, claim.key, claim.claim)
                return ""
            except Exception as error:
                logger.warning("step %s/%s failed (attempt %d)", claim.kind, claim.key, context.attempt, exc_info=True)
                return self._record_step_failure(claim, kind, error)
        if context.recorded:
            return "recorded"
        return self._record_step_success(claim, context)

    def _record_step_success(self, claim: StepClaim, context: StepContext) -> str:
        try:
            with self.session_factory() as session, session.begin():
                if context.waiting:
                    context.wait_in(session, context.wait_until)
                else:
                    context.complete_in(session)
                state = str(session.get(DurableStep, claim.step_id).state)  # type: ignore[union-attr]
        except StepSuperseded:
            logger.info("step %s/%s: attempt %d superseded; outcome dropped", claim.kind, claim.key, claim.claim)
            return ""
        return state

    def _record_step_failure(
        self, claim: StepClaim, kind: StepKind | None, error: BaseException, *, count: bool = True
    ) -> str:
        now = clock.now()
        with self.session_factory() as session, session.begin():
            row = session.get(DurableStep, claim.step_id, with_for_update=True)
            if row is None or row.state != RUNNING or row.attempts != claim.claim:
                logger.info("step %s/%s: attempt %d superseded; failure dropped", claim.kind, claim.key, claim.claim)
                return ""
            failures = claim.failures + (1 if count else 0)
            values: dict[str, Any] = {
                "claimed_by": None,
                "last_error": error_text(error),
                "updated_at": now,
                "failures": failures,
                "state": PENDING,
            }
            policy = self._policy(kind)
            if row.rescheduled_at is not None:  # a new schedule or a wake arrived meanwhile: that one counts
                values.update(due_at=row.rescheduled_at, rescheduled_at=None, failures=0)
            elif not count:
                values.update(due_at=now)
            elif failures >= policy.max_attempts:
                values.update(state=DEAD, due_at=None)
                logger.warning("step %s/%s dead after %d attempts: %s", claim.kind, claim.key, failures, error)
            else:
                with self._rng_lock:
                    delay = policy.delay(failures, self.rng)
                values.update(due_at=now + timedelta(seconds=delay))
            fenced_update(session, DurableStep, DurableStep.id, claim.step_id, claim.claim, RUNNING, values)
            return str(values["state"])

    # --- sweepers --------------------------------------------------------------------------------------

    def ensure_sweepers(self) -> None:
        """Create the rows of newly registered sweepers (due at once) and keep their interval current."""
        specs = registered_sweepers()
        missing = {name: spec for name, spec in specs.items() if self._ensured.get(name) != spec.every.total_seconds()}
        if not missing:
            return
        now = clock.now()
        with self.session_factory() as session, session.begin():
            insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
            for name, spec in sorted(missing.items()):
                statement = insert(Sweeper).values(
                    name=name, state=IDLE, every_seconds=spec.every.total_seconds(), due_at=now, attempts=0
                )
                session.execute(
                    statement.on_conflict_do_update(
                        index_elements=["name"], set_={"every_seconds": statement.excluded.every_seconds}
                    )
                )
        self._ensured.update({name: spec.every.total_seconds() for name, spec in missing.items()})

    def claim_sweepers(self) -> list[SweeperClaim]:
        """Lease the due sweepers registered in this process; a sweeper leased elsewhere is skipped."""
        specs = registered_sweepers()
        if not specs:
            return []
        self.ensure_sweepers()
        now = clock.now()
        claims: list[SweeperClaim] = []
        with self.session_factory() as session, session.begin():
            rows = session.execute(
                select(Sweeper.name, Sweeper.attempts, Sweeper.state, Sweeper.claimed_by)
                .where(Sweeper.name.in_(sorted(specs)), Sweeper.due_at <= now)
                .order_by(Sweeper.due_at, Sweeper.name)
                .with_for_update(skip_locked=True)
            ).all()
            for row in rows:
                if row.state == RUNNING:
                    logger.warning("sweeper %s: lease of %s expired; taking over", row.name, row.claimed_by)
                session.execute(
                    update(Sweeper)
                    .where(Sweeper.name == row.name)
                    .values(
                        state=RUNNING,
                        attempts=row.attempts + 1,
                        due_at=now + self._sweeper_lease(specs[row.name]),
                        claimed_by=self.worker_id,
                        last_started_at=now,
                    )
                )
                claims.append(SweeperClaim(row.name, row.attempts + 1, now))
        return claims

    def run_sweeper(self, claim: SweeperClaim) -> int | None:
        """Run one claimed sweeper; returns what it changed (None if it failed or its claim was lost)."""
        spec = registered_sweepers().get(claim.name)
        if spec is None:
            return None
        with self._held(("sweeper", claim.name, claim.claim, self._sweeper_lease(spec))):
            try:
                changed = int(spec.sweep(self.uow, claim.started))
            except Exception as error:
                logger.warning("sweeper %s failed", claim.name, exc_info=True)
                self._record_sweeper(claim, spec, error=error)
                return None
        return changed if self._record_sweeper(claim, spec, changed=changed) else None

    def _record_sweeper(
        self, claim: SweeperClaim, spec: SweeperSpec, *, changed: int = 0, error: BaseException | None = None
    ) -> bool:
        now = clock.now()
        values: dict[str, Any] = {"state": IDLE, "claimed_by": None, "last_finished_at": now}
        with self.session_factory() as session, session.begin():
            row = session.get(Sweeper, claim.name)
            if row is None:
                return False
            if error is None:
                values.update(
                    due_at=claim.started + spec.every,
                    runs=row.runs + 1,
                    failures=0,
                    last_changed=changed,
                    last_error=None,
                )
                if changed:
                    logger.info("sweeper %s changed %d", claim.name, changed)
            else:
                with self._rng_lock:
                    delay = min(self.retry.delay(row.failures + 1, self.rng), spec.every.total_seconds())
                values.update(
                    due_at=now + timedelta(seconds=delay), failures=row.failures + 1, last_error=error_text(error)
                )
            recorded = fenced_update(session, Sweeper, Sweeper.name, claim.name, claim.claim, RUNNING, values)
        if not recorded:
            logger.info("sweeper %s: claim %d superseded; outcome dropped", claim.name, claim.claim)
        return recorded

    # --- leases ----------------------------------------------------------------------------------------

    def _policy(self, kind: StepKind | None) -> RetryPolicy:
        return kind.retry if kind is not None and kind.retry is not None else self.retry

    def _lease_of(self, kind: StepKind) -> timedelta:
        return kind.lease or self.lease

    def _sweeper_lease(self, spec: SweeperSpec) -> timedelta:
        return spec.lease or self.lease

    def _held(self, item: tuple[str, str, int, timedelta]) -> _Held:
        return _Held(self._leases, item)

    def renew(self, item: tuple[str, str, int, timedelta]) -> bool:
        """Push one held lease forward (fenced); False when it was lost."""
        what, row_id, claim, lease = item
        model, id_column = (DurableStep, DurableStep.id) if what == "step" else (Sweeper, Sweeper.name)
        with self.session_factory() as session, session.begin():
            return fenced_update(session, model, id_column, row_id, claim, RUNNING, {"due_at": clock.now() + lease})


class _Held:
    def __init__(self, leases: _Heartbeat | None, item: tuple[str, str, int, timedelta]) -> None:
        self._leases, self._item = leases, item

    def __enter__(self) -> None:
        if self._leases is not None:
            self._leases.hold(self._item)

    def __exit__(self, *_exc: object) -> None:
        if self._leases is not None:
            self._leases.drop(self._item)


class _Heartbeat:
    """One thread per runner that renews the leases of the items being run, every third of the shortest
    lease held (wall time)."""

    def __init__(self, runner: StepRunner) -> None:
        self._runner = runner
        self._held: set[tuple[str, str, int, timedelta]] = set()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def hold(self, item: tuple[str, str, int, timedelta]) -> None:
        with self._lock:
            self._held.add(item)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="durable-step-lease", daemon=True)
                self._thread.start()

    def drop(self, item: tuple[str, str, int, timedelta]) -> None:
        with self._lock:
            self._held.discard(item)

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(5.0)

    def _run(self) -> None:
        while not self._stopping.is_set():
            with self._lock:
                held = list(self._held)
            period = min((item[3].total_seconds() for item in held), default=self._runner.lease.total_seconds()) / 3
            if self._stopping.wait(max(period, 0.05)):
                return
            for item in held:
                with self._lock:
                    if item not in self._held:
                        continue
                try:
                    if not self._runner.renew(item):
                        logger.warning("%s %s: lease lost (attempt %d)", item[0], item[1], item[2])
                except Exception:
                    logger.warning("renewing the lease of %s %s failed", item[0], item[1], exc_info=True)


def run_forever(
    runner: StepRunner,
    *,
    interval: float,
    stop: threading.Event,
    wake: threading.Event | None = None,
) -> None:
    """The standalone loop: run rounds until ``stop`` is set; when idle, sleep until the earliest due time
    or ``interval`` seconds, whichever is sooner, or until ``wake`` is set (a step scheduled or woken in
    this process, or a PostgreSQL notification from another)."""
    wake = wake or threading.Event()
    remove = events.add_commit_listener(wake.set)
    try:
        while not stop.is_set():
            wake.clear()
            try:
                worked = runner.run_once()
                pause = 0.0 if worked else idle_pause(runner, interval)
            except Exception:
                logger.exception("durable-step round failed; retrying after %.2fs", interval)
                pause = interval
            if pause > 0:
                wake.wait(pause)
    finally:
        remove()


def idle_pause(runner: StepRunner, interval: float) -> float:
    """Seconds to sleep when a round found nothing: until the next due time, at most ``interval``."""
    due = runner.next_due()
    if due is None:
        return interval
    return max(0.0, min(interval, (due - clock.now()).total_seconds()))
