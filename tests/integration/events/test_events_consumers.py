"""Internal consumers (``common.events.register_consumer``): fed from the outbox, delivered by the dispatcher
with the hub listeners' guarantees (at least once, in order per consumer, stable event id, retries with
backoff, dead letters, redelivery), their writes committed with the mark that they are done."""

from __future__ import annotations

import asyncio
import dataclasses
import random
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from helpers_events import API, deliveries, outbox, publish, subscribe
from sqlalchemy import Engine, insert
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from common import clock, events
from common.events import DEAD, DELIVERED, PENDING, OutboxEvent
from common.uow import UnitOfWork
from server import dispatcher as dispatch
from server import workers
from server.deps import Container
from server.dispatcher import Dispatcher, RetryPolicy
from server.settings import Settings
from tests.support.recording_listener import RecordingListener

pytestmark = pytest.mark.integration

POLICY = RetryPolicy(max_attempts=3, base_delay=10.0, max_delay=60.0, jitter=0.0)
NAME = "test.echo"
ECHO_API = "consumerTest"


@dataclass
class EchoConsumer:
    """Records what it sees and, as its DB effect, publishes an ``EchoEvent`` in the handler's session;
    ``failures`` makes the first N calls raise after writing (their writes must roll back)."""

    seen: list[tuple[str, int]] = field(default_factory=list)  # (event id, attempt)
    failures: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, event: events.ConsumedEvent, session: Session) -> None:
        events.publish(session, api=ECHO_API, event_type="EchoEvent", resource={"id": event.event_id})
        with self.lock:
            self.seen.append((event.event_id, event.attempt))
            if self.failures > 0:
                self.failures -= 1
                raise RuntimeError("handler failed on purpose")


@pytest.fixture
def echo() -> Iterator[EchoConsumer]:
    consumer = EchoConsumer()
    events.register_consumer(NAME, ["ResourceCreateEvent"], consumer, api=API)
    yield consumer
    events.unregister_consumer(NAME)


@pytest.fixture
def dispatcher(session_factory: sessionmaker[Session]) -> Iterator[Dispatcher]:
    worker = Dispatcher(
        session_factory, policy=POLICY, rng=random.Random(7), lease=timedelta(seconds=30), worker_id="A"
    )
    yield worker
    worker.close()


def echoes(factory: sessionmaker[Session]) -> list[str]:
    return [event.payload["event"]["resource"]["id"] for event in outbox(factory) if event.api == ECHO_API]


def drain(worker: Dispatcher) -> None:
    for _ in range(50):
        if not worker.run_once():
            return
    raise AssertionError("the dispatcher never went idle")


def test_consumer_gets_each_event_of_its_types_once_and_its_writes_commit_with_the_mark(
    session_factory: sessionmaker[Session], dispatcher: Dispatcher, echo: EchoConsumer, fixed_clock: clock.FixedClock
) -> None:
    created = publish(session_factory, name="port-1")
    publish(session_factory, event_type="ResourceDeleteEvent")  # not a type it consumes: no row at all

    drain(dispatcher)

    assert echo.seen == [(created, 1)]
    assert echoes(session_factory) == [created]  # the handler's write, exactly once
    consumer_rows = [(d.consumer, d.state, d.attempts) for d, _ in deliveries(session_factory) if d.consumer]
    assert consumer_rows == [(NAME, DELIVERED, 1)]


def test_one_event_goes_to_hub_listeners_and_consumers_alike(
    session_factory: sessionmaker[Session],
    dispatcher: Dispatcher,
    echo: EchoConsumer,
    listener: RecordingListener,
    fixed_clock: clock.FixedClock,
) -> None:
    subscribe(session_factory, listener)
    event_id = publish(session_factory)

    drain(dispatcher)

    assert [event["eventId"] for event in listener.events()] == [event_id]
    assert [seen for seen, _ in echo.seen] == [event_id]
    targets = {(d.subscription_id is not None, d.consumer, d.state) for d, _ in deliveries(session_factory)}
    assert targets == {(True, None, DELIVERED), (False, NAME, DELIVERED)}


def test_failing_consumer_is_retried_after_backoff_and_its_failed_writes_roll_back(
    session_factory: sessionmaker[Session], dispatcher: Dispatcher, echo: EchoConsumer, fixed_clock: clock.FixedClock
) -> None:
    event_id = publish(session_factory)
    echo.failures = 1

    assert dispatcher.run_once() == 1
    [(delivery, _)] = deliveries(session_factory)
    assert (delivery.state, delivery.attempts) == (PENDING, 1)
    assert delivery.last_error == "RuntimeError: handler failed on purpose"
    assert delivery.next_attempt_at == fixed_clock.now() + timedelta(seconds=10)
    assert echoes(session_factory) == []  # the failed attempt's write was rolled back

    fixed_clock.advance(timedelta(seconds=9))
    assert dispatcher.run_once() == 0  # not due yet
    fixed_clock.advance(timedelta(seconds=1))
    assert dispatcher.run_once() == 1
    assert echo.seen == [(event_id, 1), (event_id, 2)]  # the same event id on every attempt
    assert echoes(session_factory) == [event_id]
    assert deliveries(session_factory)[0][0].state == DELIVERED


def test_consumer_dead_lettered_is_listed_and_redelivered_through_the_ops_api(
    session_factory: sessionmaker[Session],
    dispatcher: Dispatcher,
    echo: EchoConsumer,
    client: TestClient,
    fixed_clock: clock.FixedClock,
) -> None:
    event_id = publish(session_factory)
    echo.failures = POLICY.max_attempts

    for _ in range(POLICY.max_attempts):
        assert dispatcher.run_once() == 1
        fixed_clock.advance(timedelta(seconds=POLICY.max_delay))
    assert dispatcher.run_once() == 0  # the dead stay dead

    response = client.get("/provisio/audit/v1/eventDelivery", params={"state": "dead", "consumer": NAME})
    assert response.status_code == 200, response.text
    [dead] = response.json()
    assert (dead["eventId"], dead["consumer"], dead["attempts"]) == (event_id, NAME, POLICY.max_attempts)
    assert dead["subscriptionId"] is None and dead["callback"] is None
    assert dead["lastError"] == "RuntimeError: handler failed on purpose"
    assert echoes(session_factory) == []

    response = client.post(f"/provisio/audit/v1/eventDelivery/{dead['id']}/redeliver")
    assert response.status_code == 200, response.text
    assert response.json()["state"] == PENDING
    assert dispatcher.run_once() == 1
    assert echoes(session_factory) == [event_id]
    assert deliveries(session_factory)[0][0].state == DELIVERED


def test_consumer_gets_its_events_in_order_and_a_failing_head_holds_the_line(
    session_factory: sessionmaker[Session], dispatcher: Dispatcher, echo: EchoConsumer, fixed_clock: clock.FixedClock
) -> None:
    event_ids = [publish(session_factory, name=f"r{index}") for index in range(5)]
    echo.failures = 1

    assert dispatcher.run_once() == 1  # the head failed; the four behind it were handed back untried
    assert [delivery.attempts for delivery, _ in deliveries(session_factory)] == [1, 0, 0, 0, 0]

    fixed_clock.advance(timedelta(seconds=POLICY.base_delay))
    drain(dispatcher)
    assert [event_id for event_id, _ in echo.seen] == [event_ids[0], *event_ids]
    assert echoes(session_factory) == event_ids


def test_stale_claim_of_a_consumer_does_not_run_the_handler(
    session_factory: sessionmaker[Session], dispatcher: Dispatcher, echo: EchoConsumer, fixed_clock: clock.FixedClock
) -> None:
    publish(session_factory)
    other = Dispatcher(session_factory, policy=POLICY, lease=timedelta(seconds=30), worker_id="B")
    try:
        [stale] = dispatcher.claim()  # worker A claims, then stalls past its lease
        fixed_clock.advance(timedelta(seconds=30))
        [fresh] = other.claim()
        assert fresh.attempt == stale.attempt + 1

        assert dispatcher.consume(stale) is False  # fenced on the attempt: the handler is not called
        assert echo.seen == []
        assert other.consume(fresh) is True
        assert len(echo.seen) == 1 and len(echoes(session_factory)) == 1
    finally:
        other.close()


def test_process_without_the_consumer_leaves_its_deliveries_pending(
    session_factory: sessionmaker[Session], dispatcher: Dispatcher, echo: EchoConsumer, fixed_clock: clock.FixedClock
) -> None:
    publish(session_factory)
    events.unregister_consumer(NAME)  # as a process of an older release that does not know it

    assert dispatcher.run_once() == 0
    [(delivery, _)] = deliveries(session_factory)
    assert (delivery.consumer, delivery.state, delivery.attempts) == (NAME, PENDING, 0)

    events.register_consumer(NAME, ["ResourceCreateEvent"], echo, api=API)
    assert dispatcher.run_once() == 1
    assert len(echo.seen) == 1


def test_fan_out_of_a_batch_writes_every_target_of_every_event_in_one_call(
    session_factory: sessionmaker[Session], echo: EchoConsumer, listener: RecordingListener
) -> None:
    subscribe(session_factory, listener, query="eventType=ResourceCreateEvent")
    moment = clock.now()
    with UnitOfWork(session_factory) as tx:
        entries = []
        for event_type in ("ResourceCreateEvent", "ResourceDeleteEvent", "ResourceCreateEvent"):
            payload = events.event_payload(api=API, event_type=event_type, resource={"id": "r"}, moment=moment)
            seq = tx.session.execute(
                insert(OutboxEvent).returning(OutboxEvent.seq),
                {"event_id": payload["eventId"], "api": API, "event_type": event_type, "payload": payload,
                 "created_at": moment},
            ).scalar_one()  # fmt: skip
            entries.append(events.OutboxEntry(seq, API, event_type, payload, moment))
        assert events.fan_out(tx.session, entries) == 4  # two creates x (listener + consumer); the delete: none
        tx.commit()
    targets = sorted((event.event_type, d.consumer or "hub") for d, event in deliveries(session_factory))
    assert targets == [("ResourceCreateEvent", "hub")] * 2 + [("ResourceCreateEvent", NAME)] * 2


def test_register_consumer_refuses_a_bad_name_or_no_event_type() -> None:
    with pytest.raises(ValueError):
        events.register_consumer("has spaces", ["ResourceCreateEvent"], EchoConsumer())
    with pytest.raises(ValueError):
        events.register_consumer("x" * 65, ["ResourceCreateEvent"], EchoConsumer())
    with pytest.raises(ValueError):
        events.register_consumer("fine", [], EchoConsumer())
    assert "fine" not in events.registered_consumers()


def test_redeliver_dead_of_consumers_puts_them_back(
    session_factory: sessionmaker[Session], dispatcher: Dispatcher, echo: EchoConsumer, fixed_clock: clock.FixedClock
) -> None:
    publish(session_factory)
    echo.failures = POLICY.max_attempts
    for _ in range(POLICY.max_attempts):
        dispatcher.run_once()
        fixed_clock.advance(timedelta(seconds=POLICY.max_delay))
    with UnitOfWork(session_factory) as tx:
        assert dispatch.list_deliveries(tx.session, state=DEAD, consumer=NAME)[1] == 1
        assert dispatch.redeliver_dead(tx.session) == 1
        tx.commit()
    drain(dispatcher)
    assert deliveries(session_factory)[0][0].state == DELIVERED


@pytest.mark.pg
def test_two_workers_consume_every_event_exactly_once_in_order(
    session_factory: sessionmaker[Session], echo: EchoConsumer
) -> None:
    event_ids = [publish(session_factory, name=f"r{index}") for index in range(30)]
    workers = [
        Dispatcher(session_factory, worker_id=name, batch_size=2, run_length=3, lease=timedelta(minutes=5))
        for name in ("A", "B")
    ]
    start = threading.Barrier(len(workers))
    errors: list[BaseException] = []

    def work(worker: Dispatcher) -> None:
        try:
            start.wait()
            idle_rounds = 0
            while idle_rounds < 3:
                idle_rounds = 0 if worker.run_once() else idle_rounds + 1
        except BaseException as error:  # surfaced by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(worker,)) for worker in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for worker in workers:
        worker.close()

    assert errors == []
    assert [event_id for event_id, _ in echo.seen] == event_ids  # one line: in order, never two at once
    assert echoes(session_factory) == event_ids  # and each handler's write exactly once
    assert {(d.state, d.attempts) for d, _ in deliveries(session_factory)} == {(DELIVERED, 1)}


def test_the_in_process_worker_runs_consumers_at_once_after_the_commit(
    settings: Settings, clean_db: Engine, session_factory: sessionmaker[Session], echo: EchoConsumer
) -> None:
    # An idle poll of a minute: only the commit's wake-up can run the consumer within the deadline.
    slow_poll = dataclasses.replace(settings, dispatch_interval=60.0)
    container = Container(settings=slow_poll, engine=clean_db, session_factory=session_factory)

    async def scenario() -> str:
        stop = workers.start(container)
        try:
            await asyncio.sleep(0)
            event_id = await asyncio.to_thread(publish, session_factory)
            for _ in range(500):  # bounded: 5 s
                if echo.seen:
                    return event_id
                await asyncio.sleep(0.01)
            raise AssertionError("the consumer was not run")
        finally:
            await stop()

    event_id = asyncio.run(scenario())
    assert echo.seen == [(event_id, 1)]
    assert echoes(session_factory) == [event_id]
