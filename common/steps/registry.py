"""What this process knows how to run: step kinds (``register_step``) and sweepers (``register_sweeper``).

Like internal event consumers (``common.events.consumers``), registrations live in code: a context's
facade registers at import time, and every process (API and ``provisio worker``) loads every context
(``server.schema.load_all_models``). A runner claims only steps whose kind is registered in its process,
so a process started with an older code version never claims a kind it does not know.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from common.steps.lease import RetryPolicy
from common.steps.models import KIND_MAX_LENGTH
from common.uow import UnitOfWork

if TYPE_CHECKING:
    from common.steps.context import StepContext

StepFunction = Callable[["StepContext"], None]
UnitOfWorkFactory = Callable[[], UnitOfWork]
SweepFunction = Callable[[UnitOfWorkFactory, datetime], int]

_NAME = re.compile(r"^[A-Za-z0-9_.:-]+$")


@dataclass(frozen=True)
class StepKind:
    kind: str
    run: StepFunction
    retry: RetryPolicy | None = None  # None: the runner's default (settings)
    lease: timedelta | None = None  # None: the runner's default (settings)


@dataclass(frozen=True)
class SweeperSpec:
    name: str
    every: timedelta
    sweep: SweepFunction
    lease: timedelta | None = None


_steps: dict[str, StepKind] = {}
_sweepers: dict[str, SweeperSpec] = {}
_lock = threading.Lock()


def check_name(name: str, what: str) -> None:
    if not name or len(name) > KIND_MAX_LENGTH or not _NAME.match(name):
        raise ValueError(f"{what} must be 1-{KIND_MAX_LENGTH} characters of [A-Za-z0-9_.:-]: {name!r}")


def register_step(
    kind: str, run: StepFunction, *, retry: RetryPolicy | None = None, lease: timedelta | None = None
) -> StepKind:
    """Register the function that runs steps of ``kind``. See ``common.steps`` for the contract."""
    check_name(kind, "step kind")
    registered = StepKind(kind=kind, run=run, retry=retry, lease=lease)
    with _lock:
        _steps[kind] = registered
    return registered


def register_sweeper(
    name: str, every: timedelta, sweep: SweepFunction, *, lease: timedelta | None = None
) -> SweeperSpec:
    """Register a periodic job run every ``every``. See ``common.steps`` for the contract."""
    check_name(name, "sweeper name")
    if every <= timedelta(0):
        raise ValueError(f"sweeper {name!r} must run at a positive interval, not {every}")
    registered = SweeperSpec(name=name, every=every, sweep=sweep, lease=lease)
    with _lock:
        _sweepers[name] = registered
    return registered


def unregister_step(kind: str) -> None:
    """Forget a step kind in this process (tests); its rows stay in the database."""
    with _lock:
        _steps.pop(kind, None)


def unregister_sweeper(name: str) -> None:
    """Forget a sweeper in this process (tests); its row stays in the database."""
    with _lock:
        _sweepers.pop(name, None)


def registered_steps() -> dict[str, StepKind]:
    with _lock:
        return dict(_steps)


def registered_sweepers() -> dict[str, SweeperSpec]:
    with _lock:
        return dict(_sweepers)
