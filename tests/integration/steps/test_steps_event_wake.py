"""The pattern issues 19 and 20 build on: a step waits for an event (``ctx.wait()``), and an internal event
consumer wakes it in the transaction that marks the event consumed (``wake_step``): OSS tells BSS."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from collections.abc import Iterator

import pytest
from helpers_steps import schedule, step_row
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from common import events, steps
from server import workers
from server.deps import Container
from server.settings import Settings

pytestmark = pytest.mark.integration

API = "stepWakeTest"
CONSUMER = "test.job-done"


def _job_done(event: events.ConsumedEvent, session: Session) -> None:
    """An activation job finished: wake the order step waiting on it (keyed by the job's order)."""
    steps.wake_step(session, "test.await-job", event.payload["event"]["resource"]["orderId"])


@pytest.fixture
def consumer() -> Iterator[None]:
    events.register_event_types(API, ["JobStateChangeEvent"])
    events.register_consumer(CONSUMER, ["JobStateChangeEvent"], _job_done, api=API)
    yield
    events.unregister_consumer(CONSUMER)


def test_an_event_consumer_wakes_the_step_waiting_for_it_through_the_running_workers(
    settings: Settings, clean_db: Engine, session_factory: sessionmaker[Session], registry, consumer: None
) -> None:
    runs: list[str] = []
    done = threading.Event()

    def await_job(ctx: steps.StepContext) -> None:
        with ctx.uow() as tx:
            finished = len(runs) > 0  # a real step would read the job's state here
            runs.append("woken" if runs else "first")
            if finished:
                ctx.complete_in(tx.session)
                done.set()
            else:
                ctx.wait_in(tx.session)  # until the job's event arrives
            tx.commit()

    registry.step("test.await-job", await_job)
    slow = dataclasses.replace(settings, dispatch_interval=60.0)  # only wake-ups can finish in time

    async def scenario() -> None:
        stop = workers.start(Container(settings=slow, engine=clean_db, session_factory=session_factory))
        try:
            await asyncio.to_thread(schedule, session_factory, "test.await-job", "order-1")
            await asyncio.to_thread(_until_waiting, session_factory)
            await asyncio.to_thread(_publish_job_done, session_factory, "order-1")
            assert await asyncio.to_thread(done.wait, 10.0), "the consumer's wake reached the step"
        finally:
            await stop()

    asyncio.run(scenario())
    assert runs == ["first", "woken"]
    assert step_row(session_factory, "test.await-job", "order-1").state == steps.DONE


def _until_waiting(session_factory: sessionmaker[Session]) -> None:
    for _ in range(1000):
        if step_row(session_factory, "test.await-job", "order-1").state == steps.WAITING:
            return
        threading.Event().wait(0.01)
    raise AssertionError("the step never parked itself")


def _publish_job_done(session_factory: sessionmaker[Session], order_id: str) -> None:
    with session_factory() as session, session.begin():
        events.publish(
            session, api=API, event_type="JobStateChangeEvent", resource={"id": "job-1", "orderId": order_id}
        )
