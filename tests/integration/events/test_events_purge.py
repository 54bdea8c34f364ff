"""The scheduled purge: delivered events older than the retention go; pending and dead ones stay."""

from __future__ import annotations

import asyncio
import dataclasses
import random
from datetime import timedelta

import pytest
from helpers_events import deliveries, outbox, publish, subscribe
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from common import clock
from common.events import DEAD, DELIVERED
from server import workers
from server.deps import Container
from server.dispatcher import Dispatcher, RetryPolicy
from server.event_purge import PurgeSchedule
from server.settings import Settings
from tests.support.recording_listener import RecordingListener

pytestmark = pytest.mark.integration

RETENTION = timedelta(days=7)


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _one_delivered_one_dead_one_pending(
    session_factory: sessionmaker[Session], listener: RecordingListener, fixed_clock: clock.FixedClock
) -> None:
    worker = Dispatcher(session_factory, policy=RetryPolicy(max_attempts=1), rng=random.Random(1))
    try:
        good = subscribe(session_factory, listener)
        subscribe(session_factory, "http://127.0.0.1:9/nobody-home")  # its delivery goes dead at once
        publish(session_factory, name="old")
        while worker.run_once():
            pass
        states = sorted((d.subscription_id == good, d.state) for d, _ in deliveries(session_factory))
        assert states == [(False, DEAD), (True, DELIVERED)]
        fixed_clock.advance(RETENTION + timedelta(seconds=1))
        publish(session_factory, name="new")  # recent, and not delivered yet
    finally:
        worker.close()


def test_purge_runs_once_per_interval_and_deletes_only_what_was_delivered_before_the_retention(
    session_factory: sessionmaker[Session], listener: RecordingListener, fixed_clock: clock.FixedClock
) -> None:
    _one_delivered_one_dead_one_pending(session_factory, listener, fixed_clock)
    ticks = FakeMonotonic()
    schedule = PurgeSchedule(session_factory, RETENTION, interval=3600, monotonic=ticks)

    assert schedule.run_if_due() == 0  # not at start-up: one interval later
    ticks.now += 3599
    assert schedule.run_if_due() == 0
    ticks.now += 1
    assert schedule.run_if_due() == 1  # the delivered row; its event stays for the dead delivery
    remaining = sorted((d.state, e.payload["event"]["resource"]["name"]) for d, e in deliveries(session_factory))
    assert remaining == [(DEAD, "old"), ("pending", "new"), ("pending", "new")]
    assert len(outbox(session_factory)) == 2
    assert schedule.run_if_due() == 0  # next round one interval later


def test_purge_deletes_events_nobody_needs_and_retention_zero_keeps_everything(
    settings: Settings, session_factory: sessionmaker[Session], fixed_clock: clock.FixedClock
) -> None:
    publish(session_factory, name="no listener")  # an event no one subscribed to
    fixed_clock.advance(RETENTION + timedelta(seconds=1))

    keep = PurgeSchedule.from_settings(session_factory, dataclasses.replace(settings, event_retention=0))
    assert keep.retention is None
    assert keep.run_if_due() == 0
    ticks = FakeMonotonic()
    schedule = PurgeSchedule(session_factory, RETENTION, interval=0, monotonic=ticks)
    assert schedule.run_if_due() == 1
    assert outbox(session_factory) == []


def test_the_in_process_worker_runs_the_purge_on_its_schedule(
    settings: Settings, clean_db: Engine, session_factory: sessionmaker[Session], fixed_clock: clock.FixedClock
) -> None:
    publish(session_factory, name="old")
    fixed_clock.advance(timedelta(seconds=61))
    quick = dataclasses.replace(settings, event_retention=60, purge_interval=0.0, dispatch_interval=0.01)
    container = Container(settings=quick, engine=clean_db, session_factory=session_factory)

    async def scenario() -> None:
        stop = workers.start(container)
        try:
            for _ in range(500):  # bounded: 500 polls of 10 ms
                if not await asyncio.to_thread(outbox, session_factory):
                    return
                await asyncio.sleep(0.01)
            raise AssertionError("the purge never ran")
        finally:
            await stop()

    asyncio.run(scenario())
