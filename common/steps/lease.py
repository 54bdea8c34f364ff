"""Lease mechanics shared by every claimed work row (durable steps, sweepers, event deliveries).

A *claim* is a lease: in one short transaction the row's fencing counter (``attempts``) goes up by one,
its due time moves to the end of the lease and ``claimed_by`` names the worker; the transaction commits
before any work starts. A worker that dies simply stops renewing: the due time passes and another
worker claims the row again, with a higher counter. Every later write of the first worker is *fenced*:
``UPDATE ... WHERE id = :id AND attempts = :attempt AND state = :live``, which matches nothing once the
row was claimed again, so a stale worker can never record over a newer attempt.

On PostgreSQL the claim's ``SELECT`` takes ``FOR UPDATE SKIP LOCKED``, so concurrent claimers take
different rows without waiting; SQLite runs the same statement without the clause, one writer at a time.
``server/dispatcher.py`` uses ``RetryPolicy``, ``worker_identity`` and ``fenced_update`` from here too.
"""

from __future__ import annotations

import os
import random
import socket
import threading
from dataclasses import dataclass
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

CLAIMED_BY_MAX_LENGTH = 128
ERROR_MAX_LENGTH = 500


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter: after the n-th failed attempt wait about
    ``base_delay * multiplier**(n-1)`` seconds (capped at ``max_delay``), spread by +/- ``jitter``;
    ``max_attempts`` failed attempts make the work item dead."""

    max_attempts: int = 10
    base_delay: float = 1.0
    max_delay: float = 300.0
    multiplier: float = 2.0
    jitter: float = 0.25

    def delay(self, attempt: int, rng: random.Random) -> float:
        exponent = min(max(attempt - 1, 0), 64)  # 2**64 s is already far beyond any cap
        nominal = min(self.max_delay, self.base_delay * self.multiplier**exponent)
        spread = nominal * self.jitter
        return max(0.0, min(self.max_delay, nominal - spread + rng.random() * 2 * spread))


def worker_identity() -> str:
    """``host:pid:thread``: who holds a lease, as operators see it in ``claimed_by``."""
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"[:CLAIMED_BY_MAX_LENGTH]


def error_text(error: BaseException) -> str:
    """An exception as stored in ``last_error`` (type and message, bounded)."""
    return f"{type(error).__name__}: {error}"[:ERROR_MAX_LENGTH]


def fenced_update(
    session: Session, model: Any, id_column: Any, row_id: Any, attempt: int, live_state: str, values: dict[str, Any]
) -> bool:
    """Apply ``values`` to the row of ``model`` whose ``id_column`` is ``row_id`` only if it is still in
    ``live_state`` under this claim's ``attempt``; False when the claim was superseded (the lease expired
    and another worker claimed it, or an operator or a caller changed the row)."""
    result = session.execute(
        update(model)
        .where(id_column == row_id, model.attempts == attempt, model.state == live_state)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
