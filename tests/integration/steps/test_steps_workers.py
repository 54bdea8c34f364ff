"""The step runner inside the workers: the API process's lifespan loop and ``provisio worker``'s loop run
steps and sweepers, woken by the commit that schedules a step rather than by their poll."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from datetime import timedelta

import pytest
from helpers_steps import schedule, step_row
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from common import steps
from server import workers
from server.deps import Container
from server.settings import Settings

pytestmark = pytest.mark.integration

# An idle poll of a minute: only the wake-up (or the due time) can run a step within the tests' deadlines.
SLOW_POLL = 60.0


def _container(settings: Settings, engine: Engine, session_factory: sessionmaker[Session]) -> Container:
    slow = dataclasses.replace(settings, dispatch_interval=SLOW_POLL)
    return Container(settings=slow, engine=engine, session_factory=session_factory)


def test_the_api_process_runs_a_step_as_soon_as_its_schedule_commits_and_its_sweepers(
    settings: Settings, clean_db: Engine, session_factory: sessionmaker[Session], registry
) -> None:
    ran, swept = threading.Event(), threading.Event()
    registry.step("test.now", lambda ctx: ran.set())
    registry.sweeper("test.sweep", timedelta(hours=1), lambda uow, now: swept.set() or 0)

    async def scenario() -> None:
        stop = workers.start(_container(settings, clean_db, session_factory))
        try:
            assert await asyncio.to_thread(swept.wait, 5.0), "the sweeper is due at once on a fresh database"
            await asyncio.sleep(0.05)  # the loop goes idle (for a minute, unless woken)
            await asyncio.to_thread(schedule, session_factory, "test.now", "a")
            assert await asyncio.to_thread(ran.wait, 5.0), "the commit woke the step loop"
        finally:
            await stop()

    asyncio.run(scenario())
    assert step_row(session_factory, "test.now", "a").state == steps.DONE


def test_the_standalone_worker_runs_steps_woken_by_commits_and_stops_cleanly(
    settings: Settings, clean_db: Engine, session_factory: sessionmaker[Session], registry
) -> None:
    ran = threading.Event()
    registry.step("test.now", lambda ctx: ran.set())
    stop = threading.Event()
    worker = threading.Thread(
        target=workers.run_standalone, args=(_container(settings, clean_db, session_factory), stop)
    )
    worker.start()
    try:
        schedule(session_factory, "test.now", "a")
        assert ran.wait(5.0)
    finally:
        stop.set()
        worker.join(15)
    assert not worker.is_alive()
    assert step_row(session_factory, "test.now", "a").state == steps.DONE


def test_an_idle_runner_sleeps_until_the_next_due_time_not_the_whole_poll(
    session_factory: sessionmaker[Session], registry
) -> None:
    from common import clock

    registry.step("test.later", lambda ctx: None)
    runner = steps.StepRunner(session_factory, heartbeat=False)
    try:
        assert steps.idle_pause(runner, SLOW_POLL) == SLOW_POLL  # nothing scheduled
        schedule(session_factory, "test.later", "a", due_at=clock.now() + timedelta(seconds=2))
        assert 0 < steps.idle_pause(runner, SLOW_POLL) <= 2.0
    finally:
        runner.close()
