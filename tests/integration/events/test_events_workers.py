"""The in-process worker: started by the app's lifespan, woken by a commit, stopped cleanly."""

from __future__ import annotations

import asyncio
import dataclasses
import time

import pytest
from helpers_events import publish, subscribe
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from server import workers
from server.deps import Container
from server.settings import Settings
from tests.support.recording_listener import RecordingListener

pytestmark = pytest.mark.integration


def test_publish_wakes_the_in_process_dispatcher_without_waiting_for_the_poll(
    settings: Settings, clean_db: Engine, session_factory: sessionmaker[Session], listener: RecordingListener
) -> None:
    subscribe(session_factory, listener)
    # An idle poll of a minute: only the commit wake-up can deliver within the test's deadline.
    container = Container(
        settings=dataclasses.replace(settings, dispatch_interval=60.0), engine=clean_db, session_factory=session_factory
    )

    async def scenario() -> float:
        stop = workers.start(container)
        try:
            await asyncio.sleep(0)  # let the first (empty) step run and the loop go idle
            await asyncio.to_thread(publish, session_factory)
            await asyncio.to_thread(listener.wait_for_count, 1, 5.0)
        finally:
            started = time.monotonic()
            await stop()
        return time.monotonic() - started

    stop_duration = asyncio.run(scenario())
    assert len(listener.events()) == 1
    assert stop_duration < 5.0  # stop does not wait for the idle poll
