"""The dispatcher against a real database and a real HTTP listener on 127.0.0.1, with an injected clock."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import timedelta

import pytest
from helpers_events import deliveries, publish, subscribe
from sqlalchemy.orm import Session, sessionmaker

from common import clock
from common.errors import Conflict
from common.events import DEAD, DELIVERED, PENDING
from common.uow import UnitOfWork
from server import dispatcher as dispatch
from server.dispatcher import Dispatcher, RetryPolicy
from tests.support.recording_listener import RecordingListener

pytestmark = pytest.mark.integration

POLICY = RetryPolicy(max_attempts=3, base_delay=10.0, max_delay=60.0, jitter=0.0)


@pytest.fixture
def dispatcher(session_factory: sessionmaker[Session]) -> Iterator[Dispatcher]:
    worker = Dispatcher(
        session_factory, policy=POLICY, rng=random.Random(7), lease=timedelta(seconds=30), worker_id="A"
    )
    yield worker
    worker.close()


def test_event_is_posted_to_the_callback_and_marked_delivered(
    session_factory: sessionmaker[Session],
    dispatcher: Dispatcher,
    listener: RecordingListener,
    fixed_clock: clock.FixedClock,
) -> None:
    subscribe(session_factory, listener)
    event_id = publish(session_factory, name="port-1")

    assert dispatcher.run_once() == 1

    [received] = listener.events()
    assert received["eventId"] == event_id
    assert received["eventType"] == "ResourceCreateEvent"
    assert received["event"]["resource"]["name"] == "port-1"
    [(delivery, _)] = deliveries(session_factory)
    assert (delivery.state, delivery.attempts, delivery.last_status) == (DELIVERED, 1, 201)
    assert dispatcher.run_once() == 0  # nothing left to do


def test_failed_delivery_is_retried_after_backoff_with_the_same_event_id(
    session_factory: sessionmaker[Session],
    dispatcher: Dispatcher,
    listener: RecordingListener,
    fixed_clock: clock.FixedClock,
) -> None:
    subscribe(session_factory, listener)
    event_id = publish(session_factory)
    listener.status = 503

    assert dispatcher.run_once() == 1
    [(delivery, _)] = deliveries(session_factory)
    assert (delivery.state, delivery.attempts, delivery.last_error) == (PENDING, 1, "HTTP 503")
    assert delivery.next_attempt_at == fixed_clock.now() + timedelta(seconds=10)

    listener.status = 201
    fixed_clock.advance(timedelta(seconds=9))
    assert dispatcher.run_once() == 0  # not due yet
    fixed_clock.advance(timedelta(seconds=1))
    assert dispatcher.run_once() == 1
    assert [event["eventId"] for event in listener.events()] == [event_id]
    assert deliveries(session_factory)[0][0].state == DELIVERED


def test_delivery_goes_dead_after_max_attempts_and_can_be_redelivered(
    session_factory: sessionmaker[Session],
    dispatcher: Dispatcher,
    listener: RecordingListener,
    fixed_clock: clock.FixedClock,
) -> None:
    subscribe(session_factory, listener)
    event_id = publish(session_factory)
    listener.stop()  # connection refused on every attempt

    for _ in range(POLICY.max_attempts):
        assert dispatcher.run_once() == 1
        fixed_clock.advance(timedelta(seconds=POLICY.max_delay))
    [(delivery, _)] = deliveries(session_factory)
    assert (delivery.state, delivery.attempts) == (DEAD, 3)
    assert "ConnectError" in (delivery.last_error or "")
    assert dispatcher.run_once() == 0  # the dead stay dead

    with UnitOfWork(session_factory) as tx:
        dead, total = dispatch.list_deliveries(tx.session, state=DEAD)
    assert total == 1 and dead[0]["eventId"] == event_id and dead[0]["state"] == DEAD

    listener.start()
    with UnitOfWork(session_factory) as tx:
        dispatch.redeliver(tx.session, delivery.id)
        tx.commit()
    assert dispatcher.run_once() == 1
    assert [event["eventId"] for event in listener.events()] == [event_id]
    assert deliveries(session_factory)[0][0].state == DELIVERED


def test_redelivering_a_pending_delivery_is_a_conflict(
    session_factory: sessionmaker[Session], listener: RecordingListener
) -> None:
    subscribe(session_factory, listener)
    publish(session_factory)
    [(delivery, _)] = deliveries(session_factory)
    with pytest.raises(Conflict), UnitOfWork(session_factory) as tx:
        dispatch.redeliver(tx.session, delivery.id)


def test_expired_lease_lets_another_worker_deliver_and_drops_the_late_outcome(
    session_factory: sessionmaker[Session],
    dispatcher: Dispatcher,
    listener: RecordingListener,
    fixed_clock: clock.FixedClock,
) -> None:
    subscribe(session_factory, listener)
    publish(session_factory)
    other = Dispatcher(session_factory, policy=POLICY, lease=timedelta(seconds=30), worker_id="B")
    try:
        [claim] = dispatcher.claim()  # worker A claims, then "dies" before sending
        assert other.claim() == []  # leased: nobody else may take it
        fixed_clock.advance(timedelta(seconds=29))
        assert other.claim() == []
        fixed_clock.advance(timedelta(seconds=1))

        assert other.run_once() == 1  # the lease expired: B delivers it (attempt 2)
        assert len(listener.events()) == 1
        assert dispatcher.record(claim, dispatch.Outcome(delivered=False, error="late")) == ""
        [(delivery, _)] = deliveries(session_factory)
        assert (delivery.state, delivery.attempts) == (DELIVERED, 2)
    finally:
        other.close()


def test_listener_gets_its_events_in_order_and_one_at_a_time(
    session_factory: sessionmaker[Session],
    dispatcher: Dispatcher,
    listener: RecordingListener,
    fixed_clock: clock.FixedClock,
) -> None:
    subscribe(session_factory, listener)
    event_ids = [publish(session_factory, name=f"r{index}") for index in range(5)]
    listener.status = 500

    assert dispatcher.run_once() == 1  # only the head of the line is tried while the listener fails
    attempts = [delivery.attempts for delivery, _ in deliveries(session_factory)]
    assert attempts == [1, 0, 0, 0, 0]

    listener.status = 201
    fixed_clock.advance(timedelta(seconds=60))
    while dispatcher.run_once():
        pass
    assert [event["eventId"] for event in listener.events()] == event_ids


def test_a_down_listener_does_not_hold_up_another_listener(
    session_factory: sessionmaker[Session],
    dispatcher: Dispatcher,
    listener: RecordingListener,
    fixed_clock: clock.FixedClock,
) -> None:
    healthy = subscribe(session_factory, listener)
    subscribe(session_factory, "http://127.0.0.1:9/nobody-home")
    publish(session_factory)
    publish(session_factory)

    while dispatcher.run_once():
        pass

    states = {(delivery.subscription_id == healthy, delivery.state) for delivery, _ in deliveries(session_factory)}
    assert states == {(True, DELIVERED), (False, PENDING)}
    assert len(listener.events()) == 2


def test_failure_in_the_middle_of_a_run_hands_back_the_untried_rest(
    session_factory: sessionmaker[Session],
    dispatcher: Dispatcher,
    listener: RecordingListener,
    fixed_clock: clock.FixedClock,
) -> None:
    subscribe(session_factory, listener)
    event_ids = [publish(session_factory, name=f"r{index}") for index in range(4)]
    listener.script = [201, 201, 500]

    assert dispatcher.run_once() == 3  # two delivered, the third failed, the fourth never tried
    found = [(delivery.state, delivery.attempts) for delivery, _ in deliveries(session_factory)]
    assert found == [(DELIVERED, 1), (DELIVERED, 1), (PENDING, 1), (PENDING, 0)]
    assert [event["eventId"] for event in listener.events()] == event_ids[:2]

    fixed_clock.advance(timedelta(seconds=POLICY.base_delay))
    assert dispatcher.run_once() == 2
    assert [event["eventId"] for event in listener.events()] == event_ids


def test_a_run_of_successes_recorded_late_is_dropped_when_its_lease_was_taken_over(
    session_factory: sessionmaker[Session],
    dispatcher: Dispatcher,
    listener: RecordingListener,
    fixed_clock: clock.FixedClock,
) -> None:
    subscribe(session_factory, listener)
    for index in range(3):
        publish(session_factory, name=f"r{index}")
    stale = dispatcher.claim()  # worker A takes the run, then stalls past its lease
    assert len(stale) == 3
    fixed_clock.advance(timedelta(seconds=30))
    other = Dispatcher(session_factory, policy=POLICY, lease=timedelta(seconds=30), worker_id="B")
    try:
        assert other.run_once() == 3
    finally:
        other.close()

    late = [(claim, dispatch.Outcome(delivered=True, status=200)) for claim in stale]
    assert dispatcher.record_delivered(late) == 0  # fenced on the attempt, row by row
    found = [(delivery.state, delivery.attempts, delivery.last_status) for delivery, _ in deliveries(session_factory)]
    assert found == [(DELIVERED, 2, 201)] * 3
