"""Operator functions over steps and sweepers (served by the ops API, ``server/audit_api.py``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from common import clock, events
from common.errors import Conflict, NotFound
from common.steps.models import DEAD, PENDING, DurableStep, Sweeper


class StepNotFound(NotFound):
    code = "STEP_NOT_FOUND"


class StepNotDead(Conflict):
    code = "STEP_NOT_DEAD"


def step_json(step: DurableStep) -> dict[str, Any]:
    """A step as the ops API shows it."""
    return {
        "id": step.id,
        "kind": step.kind,
        "key": step.key,
        "state": step.state,
        "payload": step.payload,
        "dueAt": clock.isoformat(step.due_at) if step.due_at else None,
        "attempts": step.attempts,
        "failures": step.failures,
        "claimedBy": step.claimed_by,
        "lastAttemptAt": clock.isoformat(step.last_attempt_at) if step.last_attempt_at else None,
        "lastError": step.last_error,
        "createdAt": clock.isoformat(step.created_at),
        "updatedAt": clock.isoformat(step.updated_at),
        "finishedAt": clock.isoformat(step.finished_at) if step.finished_at else None,
    }


def sweeper_json(sweeper: Sweeper) -> dict[str, Any]:
    """A sweeper as the ops API shows it."""
    return {
        "id": sweeper.name,
        "name": sweeper.name,
        "state": sweeper.state,
        "everySeconds": sweeper.every_seconds,
        "dueAt": clock.isoformat(sweeper.due_at),
        "claimedBy": sweeper.claimed_by,
        "runs": sweeper.runs,
        "failures": sweeper.failures,
        "lastStartedAt": clock.isoformat(sweeper.last_started_at) if sweeper.last_started_at else None,
        "lastFinishedAt": clock.isoformat(sweeper.last_finished_at) if sweeper.last_finished_at else None,
        "lastChanged": sweeper.last_changed,
        "lastError": sweeper.last_error,
    }


def retry_step(session: Session, step_id: str) -> dict[str, Any]:
    """Put a dead step back in the queue, due now, with a fresh retry budget (the caller commits).
    ``attempts`` keeps counting, so a worker that still holds an old claim cannot record over the retry."""
    step = session.execute(select(DurableStep).where(DurableStep.id == step_id).with_for_update()).scalar()
    if step is None:
        raise StepNotFound(f"No durable step with id {step_id}.")
    if step.state != DEAD:
        raise StepNotDead(f"Durable step {step_id} is {step.state}; only a dead step can be retried.")
    now = clock.now()
    step.state, step.due_at, step.failures, step.updated_at, step.claimed_by = PENDING, now, 0, now, None
    session.flush()
    events.wake_dispatcher_after_commit(session)
    return step_json(step)
