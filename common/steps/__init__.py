"""The durable-step kernel: timers, sweepers and saga/orchestration steps as leased database rows
(ARCHITECTURE.md §3), grown from the event dispatcher's lease-claimed deliveries (``server/dispatcher.py``).

**Sweepers** (periodic jobs: expired holds, aged numbers, port dates)::

    from common import steps

    def _expire_holds(uow: steps.UnitOfWorkFactory, now: datetime) -> int:
        with uow() as tx:
            ...  # change what is due at ``now``; several short units of work for a large backlog
            tx.commit()
        return changed

    steps.register_sweeper("reservation.expire", timedelta(seconds=30), _expire_holds)

A sweeper has a durable row (``sweeper``) with a due time and a lease: exactly one process runs it at a
time, once per interval across all processes, and a restart does not run it early; a runner that dies
mid-sweep stops renewing its lease, and another process takes the sweeper over when it ends.

**Steps** (one piece of durable work, unique by ``(kind, key)``)::

    def _release_hold(ctx: steps.StepContext) -> None:
        with ctx.uow() as tx:
            ...  # check the precondition in this transaction (at-least-once), then change
            ctx.complete_in(tx.session)  # the step is done if and only if this commits
            tx.commit()

    steps.register_step("reservation.expiry", _release_hold)
    ...
    steps.schedule_step(tx.session, "reservation.expiry", key=reservation_id, due_at=valid_to,
                        payload={"reservationId": reservation_id})   # in the use case's transaction

Guarantees:

- A step is run **at least once after** ``due_at`` (and not before), by one runner at a time: claimed with
  ``FOR UPDATE SKIP LOCKED`` and a lease on PostgreSQL (any number of API and ``provisio worker``
  processes), by the single writer on SQLite. Its lease is renewed while ``run`` runs; a killed runner's
  lease ends and another runner takes the step over (that lost attempt counts as a failure).
- **Fencing**: every outcome is written ``WHERE attempts = <this claim>``: a runner whose lease expired
  cannot record over a newer attempt (``StepSuperseded``). With ``ctx.complete_in(session)`` the step's
  own writes and its completion commit together: a DB-only step takes effect exactly once.
- A ``run`` that raises is retried with exponential backoff and jitter, and is ``dead`` after the kind's
  ``max_attempts`` failed attempts, until an operator retries it (``POST /provisio/audit/v1/step/{id}/retry``).
- ``schedule_step`` joins the caller's transaction and is idempotent on ``(kind, key)``: re-scheduling
  replaces the payload and moves the due time. ``wake_step`` makes a step due now (a step parked with
  ``ctx.wait()`` for an event, woken by an internal event consumer); a schedule or wake that arrives while
  the step runs makes it run once more afterwards, never twice at once.
- Runners wake when a transaction that schedules or wakes a step commits (in-process hook, PostgreSQL
  ``NOTIFY``), and otherwise sleep until the next due time (at most ``PROVISIO_DISPATCH_INTERVAL``).

Time is ``common.clock`` throughout (tests freeze it); the lease heartbeat runs on wall time.
"""

from common.steps.context import StepContext, StepSuperseded
from common.steps.lease import RetryPolicy, fenced_update, worker_identity
from common.steps.models import (
    CLAIMABLE_STATES,
    DEAD,
    DONE,
    IDLE,
    PENDING,
    RUNNING,
    STEP_STATES,
    SWEEPER_STATES,
    WAITING,
    DurableStep,
    Sweeper,
)
from common.steps.ops import StepNotDead, StepNotFound, retry_step, step_json, sweeper_json
from common.steps.registry import (
    StepFunction,
    StepKind,
    SweeperSpec,
    SweepFunction,
    UnitOfWorkFactory,
    register_step,
    register_sweeper,
    registered_steps,
    registered_sweepers,
    unregister_step,
    unregister_sweeper,
)
from common.steps.runner import StepRunner, idle_pause, run_forever
from common.steps.schedule import cancel_step, schedule_step, step_id_of, wake_step

__all__ = [
    "CLAIMABLE_STATES",
    "DEAD",
    "DONE",
    "IDLE",
    "PENDING",
    "RUNNING",
    "STEP_STATES",
    "SWEEPER_STATES",
    "WAITING",
    "DurableStep",
    "RetryPolicy",
    "StepContext",
    "StepFunction",
    "StepKind",
    "StepNotDead",
    "StepNotFound",
    "StepRunner",
    "StepSuperseded",
    "SweepFunction",
    "Sweeper",
    "SweeperSpec",
    "UnitOfWorkFactory",
    "cancel_step",
    "fenced_update",
    "idle_pause",
    "register_step",
    "register_sweeper",
    "registered_steps",
    "registered_sweepers",
    "retry_step",
    "run_forever",
    "schedule_step",
    "step_id_of",
    "step_json",
    "sweeper_json",
    "unregister_step",
    "unregister_sweeper",
    "wake_step",
    "worker_identity",
]
