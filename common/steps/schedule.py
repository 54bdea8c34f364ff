"""Scheduling and waking steps, inside the caller's transaction (so a step exists if and only if the
change that needs it committed, like an outbox event)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Table, case, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from common import clock, events
from common.orm import new_id
from common.steps.models import (
    DEAD,
    DONE,
    KEY_MAX_LENGTH,
    PENDING,
    RUNNING,
    WAITING,
    DurableStep,
)
from common.steps.registry import check_name

_STEP: Table = DurableStep.__table__  # type: ignore[assignment]


def schedule_step(session: Session, kind: str, *, key: str, due_at: datetime, payload: dict[str, Any]) -> str:
    """Schedule the step ``(kind, key)`` to run at or after ``due_at`` with ``payload``, in the caller's
    transaction; returns the step's id.

    Idempotent on ``(kind, key)``: scheduling an existing step again replaces its payload and moves its
    due time (earlier or later), whatever its state: a ``done`` or ``dead`` step is armed again with a
    fresh attempt budget. A step that is being run at that moment is not disturbed (no second runner
    starts): it runs again at the new due time once the current attempt ends, with the new payload.
    """
    check_name(kind, "step kind")
    if not key or len(key) > KEY_MAX_LENGTH:
        raise ValueError(f"step key must be 1-{KEY_MAX_LENGTH} characters: {key!r}")
    if due_at.tzinfo is None:
        raise ValueError("naive due_at given to schedule_step; use common.clock.now()")
    now = clock.now()
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    upsert = insert(DurableStep).values(
        id=new_id(),
        kind=kind,
        key=key,
        state=PENDING,
        payload=payload,
        due_at=due_at,
        attempts=0,
        failures=0,
        created_at=now,
        updated_at=now,
    )
    running = _STEP.c.state == RUNNING
    statement = upsert.on_conflict_do_update(
        index_elements=["kind", "key"],
        set_={
            "payload": upsert.excluded.payload,
            # Running: keep the lease (state and due_at); the runner re-arms the step when it records.
            "state": case((running, RUNNING), else_=PENDING),
            "due_at": case((running, _STEP.c.due_at), else_=upsert.excluded.due_at),
            "rescheduled_at": case((running, upsert.excluded.due_at), else_=None),
            "failures": case((running, _STEP.c.failures), else_=0),
            "finished_at": case((running, _STEP.c.finished_at), else_=None),
            "updated_at": now,
        },
    ).returning(_STEP.c.id)
    step_id = str(session.connection().execute(statement).scalar_one())
    events.wake_dispatcher_after_commit(session)  # the runners re-read their next due time
    return step_id


def wake_step(session: Session, kind: str, key: str) -> bool:
    """Make the step ``(kind, key)`` due now, in the caller's transaction (an internal event consumer
    wakes the step waiting on that event). A step being run at that moment runs once more after its
    current attempt, so a wake that arrives mid-run is not lost. Returns False when there is no such step
    or it is ``done`` or ``dead`` (nothing to wake)."""
    now = clock.now()
    result = session.execute(
        update(DurableStep)
        .where(DurableStep.kind == kind, DurableStep.key == key, DurableStep.state.not_in((DONE, DEAD)))
        .values(
            due_at=case((DurableStep.state == RUNNING, DurableStep.due_at), else_=now),
            state=case((DurableStep.state == RUNNING, RUNNING), else_=PENDING),
            rescheduled_at=case((DurableStep.state == RUNNING, now), else_=None),
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    woken = bool(result.rowcount)  # type: ignore[attr-defined]
    if woken:
        events.wake_dispatcher_after_commit(session)
    return woken


def cancel_step(session: Session, kind: str, key: str) -> bool:
    """Drop the step ``(kind, key)`` unless it is being run or already final, in the caller's transaction
    (a hold committed before its expiry). Returns whether a step was cancelled. A step being run at
    that moment is not stopped: its ``run`` must find, in its own transaction, that there is nothing
    left to do (the kernel gives at-least-once, so every ``run`` checks its precondition anyway)."""
    now = clock.now()
    result = session.execute(
        update(DurableStep)
        .where(DurableStep.kind == kind, DurableStep.key == key, DurableStep.state.in_((PENDING, WAITING)))
        .values(state=DONE, due_at=None, finished_at=now, updated_at=now, last_error="cancelled")
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def step_id_of(session: Session, kind: str, key: str) -> str | None:
    return session.execute(select(DurableStep.id).where(DurableStep.kind == kind, DurableStep.key == key)).scalar()
