"""Expiry, through the use cases the sweeper and the API call: the sweeper expires what is due and nothing
else; a commit decides expiry under the row lock; on PostgreSQL a commit and a sweep racing for one
reservation end with exactly one of them deciding it."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select, text

from common import clock
from common.events import OutboxEvent
from common.uow import UnitOfWork
from oss.reservation import expire_due_reservations, service
from oss.reservation.errors import ReservationExpired
from server.db import make_session_factory
from tests.support.fake_providers import FakeProvider, install

START = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
ITEM = {
    "@type": "FakeNumberReservationItem",
    "quantity": 2,
    "resourceCapacity": {"resourcePool": {"id": "fake-numbers-a"}},
}


@pytest.fixture
def fixed_clock() -> Iterator[clock.FixedClock]:
    fixed = clock.FixedClock(START)
    previous = clock.set_clock(fixed)
    yield fixed
    clock.set_clock(previous)


@pytest.fixture
def uow(clean_db: Engine) -> Any:
    factory = make_session_factory(clean_db)
    return lambda: UnitOfWork(factory)


@pytest.fixture
def numbers(clean_db: Engine) -> FakeProvider:
    return install(clean_db)[0]


def _reserve(uow: Any, minutes: int, **extra: Any) -> str:
    end = clock.isoformat(START + timedelta(minutes=minutes))
    document = {"reservationItem": [dict(ITEM)], "validFor": {"endDateTime": end}, **extra}
    return service.create_reservation(uow(), document).id


def _state(uow: Any, reservation_id: str) -> str:
    return service.retrieve_reservation(uow(), reservation_id).state


def test_sweeper_expires_what_is_due_and_nothing_else(
    uow: Any, numbers: FakeProvider, clean_db: Engine, fixed_clock: clock.FixedClock
) -> None:
    due = _reserve(uow, 5)
    later = _reserve(uow, 60)
    in_delivery = _reserve(
        uow, 5, relatedEntity=[{"id": "oi-1", "@referredType": "ProductOrderItem", "role": "inDelivery"}]
    )
    committed = _reserve(uow, 5)
    service.patch_reservation(uow(), committed, {"reservationState": "committed"})
    assert expire_due_reservations(uow, START + timedelta(minutes=10)) == 1
    assert [_state(uow, found) for found in (due, later, in_delivery, committed)] == [
        "expired",
        "reserved",
        "reserved",
        "committed",
    ]
    assert ("release:expired", due) in numbers.calls
    states = numbers.states(clean_db)
    assert states["reserved"] == 4 and states["assigned"] == 2 and states["available"] == 25 - 6
    with clean_db.connect() as connection:
        last = connection.execute(
            select(OutboxEvent.event_type, OutboxEvent.payload).order_by(OutboxEvent.seq.desc())
        ).first()
    assert last is not None and last[0] == "ReservationStateChangeEvent"
    assert last[1]["event"]["reservation"]["reservationState"] == "expired"
    assert expire_due_reservations(uow, START + timedelta(minutes=10)) == 0  # nothing left to do


def test_sweeper_works_through_every_batch(uow: Any, numbers: FakeProvider, fixed_clock: clock.FixedClock) -> None:
    ids = [_reserve(uow, 5) for _ in range(5)]
    assert expire_due_reservations(uow, START + timedelta(minutes=6), batch=2) == 5
    assert {_state(uow, found) for found in ids} == {"expired"}


def test_commit_after_a_sweep_is_409_expired(uow: Any, numbers: FakeProvider, fixed_clock: clock.FixedClock) -> None:
    reservation_id = _reserve(uow, 5)
    expire_due_reservations(uow, START + timedelta(minutes=6))
    with pytest.raises(ReservationExpired):
        service.patch_reservation(uow(), reservation_id, {"reservationState": "committed"})
    assert [call for call, _ in numbers.calls] == ["hold", "release:expired"]


def test_commit_after_the_end_expires_it_under_the_lock_without_a_sweeper(
    uow: Any, numbers: FakeProvider, clean_db: Engine, fixed_clock: clock.FixedClock
) -> None:
    reservation_id = _reserve(uow, 5)
    fixed_clock.advance(timedelta(minutes=5, seconds=1))
    with pytest.raises(ReservationExpired):
        service.patch_reservation(uow(), reservation_id, {"reservationState": "committed"})
    assert _state(uow, reservation_id) == "expired"
    assert numbers.states(clean_db) == {"available": 25}
    assert expire_due_reservations(uow, fixed_clock.now()) == 0


def _wait_for_lock_waiter(engine: Engine, timeout: float = 10.0) -> None:
    """Until some backend waits for a row lock (the commit blocked behind the sweeper)."""
    deadline = time.monotonic() + timeout
    with engine.connect() as connection:
        while time.monotonic() < deadline:
            waiting = connection.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE wait_event_type = 'Lock' AND datname = current_database()"
                )
            ).scalar_one()
            if waiting:
                return
            connection.rollback()
            time.sleep(0.01)
    raise AssertionError("the commit never waited for the reservation's row lock")


@pytest.mark.pg
def test_commit_in_progress_wins_over_a_racing_sweep(
    uow: Any, numbers: FakeProvider, clean_db: Engine, fixed_clock: clock.FixedClock
) -> None:
    reservation_id = _reserve(uow, 5)
    reached, go_on = threading.Event(), threading.Event()
    numbers.pause_on["commit"] = (reached, go_on)
    outcome: dict[str, Any] = {}

    def commit() -> None:
        try:
            outcome["state"] = service.patch_reservation(uow(), reservation_id, {"reservationState": "committed"}).state
        except Exception as error:
            outcome["error"] = error

    committer = threading.Thread(target=commit)
    committer.start()
    assert reached.wait(10)  # the commit holds the row lock, inside the provider's commit
    # The sweeper's clock is past the end; the locked row is the committer's to decide: skipped, not waited for.
    assert expire_due_reservations(uow, START + timedelta(minutes=6)) == 0
    go_on.set()
    committer.join(10)
    assert outcome == {"state": "committed"}
    assert expire_due_reservations(uow, START + timedelta(minutes=6)) == 0
    assert [call for call, _ in numbers.calls] == ["hold", "commit"]
    assert numbers.states(clean_db)["assigned"] == 2


@pytest.mark.pg
def test_sweep_in_progress_makes_a_racing_commit_409_expired(
    uow: Any, numbers: FakeProvider, clean_db: Engine, fixed_clock: clock.FixedClock
) -> None:
    reservation_id = _reserve(uow, 5)
    reached, go_on = threading.Event(), threading.Event()
    numbers.pause_on["release"] = (reached, go_on)
    swept: dict[str, Any] = {}
    outcome: dict[str, Any] = {}

    def sweep() -> None:
        swept["count"] = expire_due_reservations(uow, START + timedelta(minutes=6))

    def commit() -> None:  # its own clock still says the hold is valid: only the lock tells it otherwise
        try:
            outcome["state"] = service.patch_reservation(uow(), reservation_id, {"reservationState": "committed"}).state
        except ReservationExpired as error:
            outcome["error"] = error.code

    sweeper = threading.Thread(target=sweep)
    sweeper.start()
    assert reached.wait(10)  # the sweeper holds the row lock, inside the provider's release
    committer = threading.Thread(target=commit)
    committer.start()
    _wait_for_lock_waiter(clean_db)
    go_on.set()
    sweeper.join(10)
    committer.join(10)
    assert swept == {"count": 1}
    assert outcome == {"error": "RESERVATION_EXPIRED"}
    assert _state(uow, reservation_id) == "expired"
    assert [call for call, _ in numbers.calls] == ["hold", "release:expired"]
    assert numbers.states(clean_db) == {"available": 25}


def test_the_kernel_runs_the_reservation_sweeper(
    uow: Any, numbers: FakeProvider, clean_db: Engine, fixed_clock: clock.FixedClock
) -> None:
    from common import steps
    from oss.reservation import EXPIRY_SWEEP_EVERY, EXPIRY_SWEEPER

    registered = steps.registered_sweepers()[EXPIRY_SWEEPER]
    assert registered.every == EXPIRY_SWEEP_EVERY and registered.sweep is expire_due_reservations
    reservation_id = _reserve(uow, 5)
    fixed_clock.advance(timedelta(minutes=6))
    runner = steps.StepRunner(make_session_factory(clean_db), heartbeat=False)
    try:
        runner.run_once()
    finally:
        runner.close()
    assert _state(uow, reservation_id) == "expired"
    assert numbers.states(clean_db) == {"available": 25}


def test_a_deadlocked_create_is_run_again_in_a_new_transaction(
    uow: Any, numbers: FakeProvider, clean_db: Engine, fixed_clock: clock.FixedClock
) -> None:
    from sqlalchemy.exc import OperationalError

    numbers.deadlocks = 1
    reservation_id = _reserve(uow, 5)
    assert _state(uow, reservation_id) == "reserved"
    assert numbers.states(clean_db)["reserved"] == 2
    from common.uow import USE_CASE_ATTEMPTS

    numbers.deadlocks = USE_CASE_ATTEMPTS  # every attempt loses: the error reaches the caller, nothing is held
    with pytest.raises(OperationalError):
        _reserve(uow, 5)
    assert numbers.states(clean_db)["reserved"] == 2
