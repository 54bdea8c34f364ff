from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from common import clock, steps
from server.db import make_session_factory


@pytest.fixture
def session_factory(clean_db: Engine) -> sessionmaker[Session]:
    return make_session_factory(clean_db)


@pytest.fixture
def fixed_clock() -> Iterator[clock.FixedClock]:
    fixed = clock.FixedClock(datetime(2026, 11, 29, 10, 0, tzinfo=UTC))
    previous = clock.set_clock(fixed)
    yield fixed
    clock.set_clock(previous)


class Registry:
    """Registers step kinds and sweepers for one test and forgets them afterwards."""

    def __init__(self) -> None:
        self.kinds: list[str] = []
        self.sweepers: list[str] = []

    def step(self, kind: str, run: steps.StepFunction, **options: Any) -> None:
        steps.register_step(kind, run, **options)
        self.kinds.append(kind)

    def sweeper(self, name: str, every: timedelta, sweep: steps.SweepFunction, **options: Any) -> None:
        steps.register_sweeper(name, every, sweep, **options)
        self.sweepers.append(name)

    def forget(self) -> None:
        for kind in self.kinds:
            steps.unregister_step(kind)
        for name in self.sweepers:
            steps.unregister_sweeper(name)


@pytest.fixture(autouse=True)
def only_the_tests_own_registrations() -> Iterator[None]:
    """Contexts register their sweepers and steps at import time (``oss.reservation``: ``reservation.expire``);
    the kernel's tests count what runs, so they see only what they register themselves."""
    sweepers, kinds = steps.registered_sweepers(), steps.registered_steps()
    for name in sweepers:
        steps.unregister_sweeper(name)
    for kind in kinds:
        steps.unregister_step(kind)
    yield
    for name, sweeper in sweepers.items():
        steps.register_sweeper(name, sweeper.every, sweeper.sweep, lease=sweeper.lease)
    for kind, step in kinds.items():
        steps.register_step(kind, step.run, retry=step.retry, lease=step.lease)


@pytest.fixture
def registry() -> Iterator[Registry]:
    registered = Registry()
    yield registered
    registered.forget()


@pytest.fixture
def make_runner(session_factory: sessionmaker[Session]) -> Iterator[Callable[..., steps.StepRunner]]:
    made: list[steps.StepRunner] = []

    def make(**options: Any) -> steps.StepRunner:
        options.setdefault("retry", steps.RetryPolicy(max_attempts=3, base_delay=10.0, max_delay=60.0, jitter=0.0))
        options.setdefault("lease", timedelta(seconds=30))
        options.setdefault("heartbeat", False)
        runner = steps.StepRunner(session_factory, **options)
        made.append(runner)
        return runner

    yield make
    for runner in made:
        runner.close()
