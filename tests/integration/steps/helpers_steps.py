"""Helpers of the durable-step tests."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from common import clock, steps


def schedule(
    session_factory: sessionmaker[Session],
    kind: str,
    key: str,
    *,
    due_at: datetime | None = None,
    payload: dict[str, Any] | None = None,
) -> str:
    with session_factory() as session, session.begin():
        return steps.schedule_step(session, kind, key=key, due_at=due_at or clock.now(), payload=payload or {})


def step_row(session_factory: sessionmaker[Session], kind: str, key: str) -> steps.DurableStep:
    with session_factory() as session, session.begin():
        step_id = steps.step_id_of(session, kind, key)
        row = session.get(steps.DurableStep, step_id)
        assert row is not None
        session.expunge(row)
        return row
