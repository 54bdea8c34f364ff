"""PostgreSQL: workers claim with FOR UPDATE SKIP LOCKED, so two of them never deliver the same row at once."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import timedelta

import pytest
from helpers_events import deliveries, publish, subscribe
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from common.events import DELIVERED, EventDelivery
from server.dispatcher import Dispatcher
from tests.support.recording_listener import RecordingListener

pytestmark = [pytest.mark.pg, pytest.mark.integration]


def test_row_locked_by_one_worker_is_skipped_not_waited_for(
    session_factory: sessionmaker[Session], listener: RecordingListener
) -> None:
    subscribe(session_factory, listener)
    publish(session_factory)
    worker = Dispatcher(session_factory, worker_id="B")
    try:
        with session_factory() as holder, holder.begin():
            # Another worker's claim transaction, still open, holding the row lock.
            holder.execute(select(EventDelivery.id).with_for_update()).all()
            started = time.monotonic()
            assert worker.claim() == []
            assert time.monotonic() - started < 2.0  # skipped at once, not blocked on the lock
        assert len(worker.claim()) == 1  # lock released: now it can be claimed
    finally:
        worker.close()


def test_two_workers_deliver_every_event_exactly_once_in_order(
    session_factory: sessionmaker[Session], listener: RecordingListener
) -> None:
    subscribers = 4
    for index in range(subscribers):
        subscribe(session_factory, listener, path=f"/{index}")
    event_ids = [publish(session_factory, name=f"r{index}") for index in range(25)]
    workers = [
        Dispatcher(session_factory, worker_id=name, batch_size=3, lease=timedelta(minutes=5)) for name in ("A", "B")
    ]
    start = threading.Barrier(len(workers))
    errors: list[BaseException] = []
    attempted: Counter[str] = Counter()

    def drain(worker: Dispatcher) -> None:
        try:
            start.wait()
            idle_rounds = 0
            while idle_rounds < 3:
                done = worker.run_once()
                attempted[worker.worker_id] += done
                idle_rounds = 0 if done else idle_rounds + 1
        except BaseException as error:  # surfaced by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=drain, args=(worker,)) for worker in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for worker in workers:
        worker.close()

    assert errors == []
    received = listener.wait_for_count(subscribers * len(event_ids))
    per_listener: dict[str, list[str]] = {}
    for path, event in zip(listener.paths, received, strict=True):
        per_listener.setdefault(path, []).append(event["eventId"])
    assert all(ids == event_ids for ids in per_listener.values()), "each listener gets every event once, in order"
    assert len(per_listener) == subscribers
    assert Counter(delivery.attempts for delivery, _ in deliveries(session_factory)) == {
        1: subscribers * len(event_ids)
    }
    assert {delivery.state for delivery, _ in deliveries(session_factory)} == {DELIVERED}
    assert attempted["A"] > 0 and attempted["B"] > 0, f"both workers must have delivered: {attempted}"
