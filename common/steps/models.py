"""Tables of the durable-step kernel: ``durable_step`` (one row per scheduled step) and ``sweeper`` (one row
per periodic job). Both are work items claimed with a lease and fenced on their ``attempts`` counter, the
way ``event_delivery`` is (``server/dispatcher.py``); see ``common/steps/__init__.py`` for the guarantees.

Neither opts into the audit trail: they are machinery, rewritten at every claim and heartbeat.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from common.orm import Base, JSONType, UTCDateTime, new_id

# Step states. ``pending``: due at ``due_at``; ``running``: claimed, ``due_at`` is the end of the lease (a
# crashed runner's step comes due again when it passes); ``waiting``: the step asked to be run again at
# ``due_at`` (NULL: only when woken by ``wake_step``); ``done`` and ``dead`` are final (``dead`` until an
# operator retries it).
PENDING = "pending"
RUNNING = "running"
WAITING = "waiting"
DONE = "done"
DEAD = "dead"
STEP_STATES = (PENDING, RUNNING, WAITING, DONE, DEAD)
# States a runner may claim once ``due_at`` has passed (``running``: the lease expired).
CLAIMABLE_STATES = (PENDING, RUNNING, WAITING)

# Sweeper states: ``idle`` (due at ``due_at``) or ``running`` (``due_at`` is the end of the lease).
IDLE = "idle"
SWEEPER_STATES = (IDLE, RUNNING)

KIND_MAX_LENGTH = 64
KEY_MAX_LENGTH = 200


class DurableStep(Base):
    """One step of durable work, unique by (kind, key): a hold's expiry, a number's end of quarantine, a
    port date, an order plan's or an activation job's step."""

    __tablename__ = "durable_step"
    __table_args__ = (
        UniqueConstraint("kind", "key", name="uq_durable_step_kind_key"),
        CheckConstraint("state IN ('pending', 'running', 'waiting', 'done', 'dead')", name="state"),
        # The runner's claim: claimable rows by due time.
        Index("ix_durable_step_state_due_at", "state", "due_at"),
        Index("ix_durable_step_kind_state", "kind", "state"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(KIND_MAX_LENGTH))
    key: Mapped[str] = mapped_column(String(KEY_MAX_LENGTH))
    state: Mapped[str] = mapped_column(String(16), default=PENDING)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    # When the step may run next (pending/waiting) or when its lease ends (running). NULL: waiting for a wake.
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The fencing token: +1 at every claim; an outcome is recorded only under the attempt that claimed it.
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Failed attempts since the step was (re)scheduled or retried: the retry budget (``attempts`` never
    # goes down, or a stale worker's token could match again).
    failures: Mapped[int] = mapped_column(Integer, default=0)
    # Set when the step was rescheduled or woken while running: after that attempt, pending at this time.
    rescheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(500), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Sweeper(Base):
    """One periodic job (``register_sweeper``): its next due time and its lease, so that one process at a
    time runs it and a restart does not run it early."""

    __tablename__ = "sweeper"
    __table_args__ = (CheckConstraint("state IN ('idle', 'running')", name="state"),)

    name: Mapped[str] = mapped_column(String(KIND_MAX_LENGTH), primary_key=True)
    state: Mapped[str] = mapped_column(String(16), default=IDLE)
    every_seconds: Mapped[float] = mapped_column()
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # fencing token, +1 at every claim
    claimed_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    runs: Mapped[int] = mapped_column(Integer, default=0)
    failures: Mapped[int] = mapped_column(Integer, default=0)  # consecutive failed runs
    last_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_changed: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(500), nullable=True)
