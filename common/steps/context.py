"""What a step's ``run`` gets: ``StepContext``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from common import clock
from common.steps.lease import fenced_update
from common.steps.models import DONE, PENDING, RUNNING, WAITING, DurableStep
from common.steps.registry import UnitOfWorkFactory
from common.uow import UnitOfWork


class StepSuperseded(Exception):
    """This attempt's claim on the step is gone (its lease expired and another worker claimed it, or the
    step was rescheduled, retried or cancelled meanwhile): roll back and stop; nothing of it may commit."""


@dataclass
class StepContext:
    """One attempt at one step.

    - ``payload``: as given to ``schedule_step`` (JSON); ``key``/``kind``/``step_id`` name the step.
    - ``attempt``: 1 on the first try, +1 after each failed attempt (reset by rescheduling or a retry).
    - ``now``: the kernel's clock (``common.clock``) when the step was claimed.
    - ``uow()``: a new unit of work; ``run`` opens its own transactions (no database transaction is open
      while ``run`` talks to devices or other servers).

    Returning from ``run`` records the step ``done``; raising records a failed attempt (retried with backoff,
    ``dead`` after the kind's ``max_attempts``). To record the outcome in ``run``'s own transaction, so the
    step's writes and its completion commit together or not at all (exactly-once effect for a DB-only
    step), call ``complete_in(tx.session)`` (or ``wait_in``) before ``tx.commit()``.
    """

    step_id: str
    kind: str
    key: str
    payload: dict[str, Any]
    attempt: int
    now: datetime
    uow_factory: UnitOfWorkFactory
    claim: int  # the fencing token (the row's ``attempts`` at claim time)
    waiting: bool = field(default=False, init=False)
    wait_until: datetime | None = field(default=None, init=False)
    recorded: bool = field(default=False, init=False)

    def uow(self) -> UnitOfWork:
        return self.uow_factory()

    def wait(self, until: datetime | None = None) -> None:
        """Do not finish the step when ``run`` returns: park it ``waiting`` until ``until`` (a timeout, a
        timer, a poll interval) or, with None, until ``wake_step`` makes it due. Not a failure: the retry
        budget is not used."""
        self.waiting, self.wait_until = True, until

    def complete_in(self, session: Session) -> None:
        """Record the step ``done`` in ``session``'s transaction (commits with the caller's writes);
        raises ``StepSuperseded`` if this attempt no longer holds the step."""
        self._record_in(session, done=True, until=None)

    def wait_in(self, session: Session, until: datetime | None = None) -> None:
        """``wait(until)``, recorded in ``session``'s transaction; raises ``StepSuperseded`` likewise."""
        self.wait(until)
        self._record_in(session, done=False, until=until)

    def _record_in(self, session: Session, *, done: bool, until: datetime | None) -> None:
        row = session.get(DurableStep, self.step_id, with_for_update=True, populate_existing=True)
        if row is None or row.state != RUNNING or row.attempts != self.claim:
            raise StepSuperseded(f"step {self.kind}/{self.key}: attempt {self.claim} no longer holds it")
        values = outcome_values(row.rescheduled_at, done=done, until=until, now=clock.now())
        if not fenced_update(session, DurableStep, DurableStep.id, self.step_id, self.claim, RUNNING, values):
            raise StepSuperseded(f"step {self.kind}/{self.key}: attempt {self.claim} no longer holds it")
        self.recorded = True


def outcome_values(
    rescheduled_at: datetime | None, *, done: bool, until: datetime | None, now: datetime
) -> dict[str, Any]:
    """The row's values after a successful attempt: done or waiting, unless it was rescheduled (or woken)
    while running, in which case it is pending again at that time."""
    common: dict[str, Any] = {"claimed_by": None, "last_error": None, "failures": 0, "updated_at": now}
    if rescheduled_at is not None:
        return {**common, "state": PENDING, "due_at": rescheduled_at, "rescheduled_at": None}
    if done:
        return {**common, "state": DONE, "due_at": None, "finished_at": now}
    return {**common, "state": WAITING, "due_at": until}
