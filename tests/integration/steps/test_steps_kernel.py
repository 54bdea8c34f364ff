"""The durable-step kernel on the configured database (SQLite or PostgreSQL), with a frozen clock:
due times, idempotent scheduling, retries with backoff, dead steps, leases, fencing, waits and wakes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from helpers_steps import schedule, step_row
from sqlalchemy.orm import Session, sessionmaker

from common import clock, steps

pytestmark = pytest.mark.integration

Runner = Callable[..., steps.StepRunner]


def test_step_runs_after_its_due_time_not_before(
    session_factory: sessionmaker[Session], fixed_clock: clock.FixedClock, registry, make_runner: Runner
) -> None:
    seen: list[tuple[str, dict, int]] = []
    registry.step("test.timer", lambda ctx: seen.append((ctx.key, ctx.payload, ctx.attempt)))
    schedule(session_factory, "test.timer", "a", due_at=fixed_clock.now() + timedelta(minutes=5), payload={"n": 1})
    runner = make_runner()

    assert runner.run_once() == 0
    fixed_clock.advance(timedelta(minutes=5))
    assert runner.run_once() == 1
    assert seen == [("a", {"n": 1}, 1)]
    row = step_row(session_factory, "test.timer", "a")
    assert (row.state, row.due_at, row.finished_at) == (steps.DONE, None, fixed_clock.now())
    assert runner.run_once() == 0  # done: never again


def test_scheduling_again_is_idempotent_and_moves_the_due_time(
    session_factory: sessionmaker[Session], fixed_clock: clock.FixedClock, registry, make_runner: Runner
) -> None:
    seen: list[dict] = []
    registry.step("test.timer", lambda ctx: seen.append(ctx.payload))
    first = schedule(session_factory, "test.timer", "a", due_at=fixed_clock.now() + timedelta(minutes=1))
    again = schedule(
        session_factory, "test.timer", "a", due_at=fixed_clock.now() + timedelta(minutes=10), payload={"v": 2}
    )
    runner = make_runner()

    assert again == first
    fixed_clock.advance(timedelta(minutes=5))
    assert runner.run_once() == 0  # moved later
    schedule(session_factory, "test.timer", "a", due_at=fixed_clock.now(), payload={"v": 3})  # and earlier
    assert runner.run_once() == 1
    assert seen == [{"v": 3}]
    schedule(session_factory, "test.timer", "a", due_at=fixed_clock.now(), payload={"v": 4})  # a done step re-arms
    assert runner.run_once() == 1
    assert seen == [{"v": 3}, {"v": 4}]


def test_a_failing_step_is_retried_with_backoff_then_dead_then_retried_by_an_operator(
    session_factory: sessionmaker[Session], fixed_clock: clock.FixedClock, registry, make_runner: Runner
) -> None:
    attempts: list[int] = []
    fail = [True]

    def flaky(ctx: steps.StepContext) -> None:
        attempts.append(ctx.attempt)
        if fail[0]:
            raise RuntimeError("device unreachable")

    registry.step("test.flaky", flaky)
    schedule(session_factory, "test.flaky", "a")
    runner = make_runner()  # 3 attempts, 10 s then 20 s

    assert runner.run_once() == 1
    row = step_row(session_factory, "test.flaky", "a")
    assert (row.state, row.failures, row.due_at) == (steps.PENDING, 1, fixed_clock.now() + timedelta(seconds=10))
    assert row.last_error == "RuntimeError: device unreachable"
    fixed_clock.advance(timedelta(seconds=9))
    assert runner.run_once() == 0  # still backing off
    fixed_clock.advance(timedelta(seconds=1))
    assert runner.run_once() == 1
    assert step_row(session_factory, "test.flaky", "a").due_at == fixed_clock.now() + timedelta(seconds=20)
    fixed_clock.advance(timedelta(seconds=20))
    assert runner.run_once() == 1
    row = step_row(session_factory, "test.flaky", "a")
    assert (row.state, row.failures, row.due_at) == (steps.DEAD, 3, None)
    fixed_clock.advance(timedelta(days=1))
    assert runner.run_once() == 0  # dead stays dead

    with session_factory() as session, session.begin():
        assert steps.retry_step(session, row.id)["state"] == steps.PENDING
    fail[0] = False
    assert runner.run_once() == 1
    assert attempts == [1, 2, 3, 1]
    assert step_row(session_factory, "test.flaky", "a").state == steps.DONE


def test_retrying_a_step_that_is_not_dead_is_a_conflict(
    session_factory: sessionmaker[Session], fixed_clock: clock.FixedClock
) -> None:
    step_id = schedule(session_factory, "test.timer", "a")
    with session_factory() as session, session.begin(), pytest.raises(steps.StepNotDead):
        steps.retry_step(session, step_id)
    with session_factory() as session, session.begin(), pytest.raises(steps.StepNotFound):
        steps.retry_step(session, "no-such-step")


def test_a_killed_runners_lease_comes_due_and_another_runner_finishes_the_step(
    session_factory: sessionmaker[Session], fixed_clock: clock.FixedClock, registry, make_runner: Runner
) -> None:
    ran_by: list[str] = []
    registry.step("test.work", lambda ctx: ran_by.append(str(ctx.claim)))
    schedule(session_factory, "test.work", "a")
    dead_runner, survivor = make_runner(worker_id="A"), make_runner(worker_id="B")

    (lost,) = dead_runner.claim_steps()  # ... and A dies before running it
    assert survivor.run_once() == 0  # leased to A
    fixed_clock.advance(timedelta(seconds=30))
    assert survivor.run_once() == 1
    row = step_row(session_factory, "test.work", "a")
    assert (row.state, row.attempts, row.failures) == (steps.DONE, 2, 0)
    assert ran_by == ["2"]
    # A comes back from the dead and reports: fenced out.
    assert dead_runner.run_step(lost) == ""
    assert step_row(session_factory, "test.work", "a").state == steps.DONE
    assert ran_by == ["2", "1"]  # it ran (at least once), but could not record


def test_fencing_refuses_a_stale_attempts_record_in_its_own_transaction(
    session_factory: sessionmaker[Session], fixed_clock: clock.FixedClock, registry, make_runner: Runner
) -> None:
    """A step that records its completion with its effect (``complete_in``) commits neither once its
    lease was taken over: the effect (here: scheduling a follow-up step) happens once, by the new holder."""

    def with_effect(ctx: steps.StepContext) -> None:
        with ctx.uow() as tx:
            steps.schedule_step(tx.session, "test.follow", key=f"from-{ctx.claim}", due_at=ctx.now, payload={})
            ctx.complete_in(tx.session)
            tx.commit()

    registry.step("test.effect", with_effect)
    schedule(session_factory, "test.effect", "a")
    slow, fast = make_runner(worker_id="slow"), make_runner(worker_id="fast")
    (old_claim,) = slow.claim_steps()
    fixed_clock.advance(timedelta(seconds=31))
    assert fast.run_once() == 1

    assert slow.run_step(old_claim) == ""  # StepSuperseded: rolled back, outcome dropped
    with session_factory() as session, session.begin():
        follow_ups = session.query(steps.DurableStep.key).filter(steps.DurableStep.kind == "test.follow").all()
    assert [key for (key,) in follow_ups] == ["from-2"]
    assert step_row(session_factory, "test.effect", "a").state == steps.DONE


def test_a_takeover_counts_as_a_failed_attempt_so_a_step_that_kills_its_worker_ends_dead(
    session_factory: sessionmaker[Session], fixed_clock: clock.FixedClock, registry, make_runner: Runner
) -> None:
    registry.step("test.poison", lambda ctx: None)
    schedule(session_factory, "test.poison", "a")
    runner = make_runner()  # 3 attempts
    for _ in range(3):
        assert len(runner.claim_steps()) == 1  # claimed, and the worker "dies"
        fixed_clock.advance(timedelta(seconds=31))
    assert runner.claim_steps() == []
    row = step_row(session_factory, "test.poison", "a")
    assert row.state == steps.DEAD
    assert row.last_error is not None and row.last_error.startswith("lease expired")


def test_a_waiting_step_sleeps_until_woken_and_the_wake_makes_it_due_now(
    session_factory: sessionmaker[Session], fixed_clock: clock.FixedClock, registry, make_runner: Runner
) -> None:
    runs: list[int] = []

    def wait_for_job(ctx: steps.StepContext) -> None:
        runs.append(ctx.attempt)
        if len(runs) == 1:
            ctx.wait()  # until an event wakes it

    registry.step("test.wait", wait_for_job)
    schedule(session_factory, "test.wait", "order-1")
    runner = make_runner()
    assert runner.run_once() == 1
    row = step_row(session_factory, "test.wait", "order-1")
    assert (row.state, row.due_at) == (steps.WAITING, None)
    fixed_clock.advance(timedelta(days=30))
    assert runner.run_once() == 0

    with session_factory() as session, session.begin():
        assert steps.wake_step(session, "test.wait", "order-1") is True
        assert steps.wake_step(session, "test.wait", "no-such-key") is False
    assert runner.run_once() == 1
    assert step_row(session_factory, "test.wait", "order-1").state == steps.DONE
    with session_factory() as session, session.begin():
        assert steps.wake_step(session, "test.wait", "order-1") is False  # done: nothing to wake


def test_a_wait_with_a_timeout_comes_due_at_the_timeout(
    session_factory: sessionmaker[Session], fixed_clock: clock.FixedClock, registry, make_runner: Runner
) -> None:
    runs: list[int] = []

    def poll(ctx: steps.StepContext) -> None:
        runs.append(1)
        if len(runs) < 3:
            ctx.wait(until=ctx.now + timedelta(minutes=1))

    registry.step("test.poll", poll)
    schedule(session_factory, "test.poll", "a")
    runner = make_runner()
    assert runner.run_once() == 1
    assert runner.next_due() == fixed_clock.now() + timedelta(minutes=1)
    assert runner.run_once() == 0
    fixed_clock.advance(timedelta(minutes=1))
    assert runner.run_once() == 1
    fixed_clock.advance(timedelta(minutes=1))
    assert runner.run_once() == 1
    assert len(runs) == 3
    assert step_row(session_factory, "test.poll", "a").failures == 0  # waiting is not failing


def test_a_wake_or_a_reschedule_during_a_run_runs_the_step_once_more_afterwards_never_twice_at_once(
    session_factory: sessionmaker[Session], fixed_clock: clock.FixedClock, registry, make_runner: Runner
) -> None:
    runs: list[dict] = []
    other = make_runner(worker_id="other")

    def run(ctx: steps.StepContext) -> None:
        runs.append(ctx.payload)
        if len(runs) == 1:  # mid-run, an event wakes it and a caller reschedules it
            with ctx.uow() as tx:
                steps.wake_step(tx.session, ctx.kind, ctx.key)
                tx.commit()
            schedule(session_factory, ctx.kind, ctx.key, due_at=ctx.now, payload={"v": 2})
            assert other.claim_steps() == []  # still leased: nobody else starts it
            ctx.wait()

    registry.step("test.busy", run)
    schedule(session_factory, "test.busy", "a", payload={"v": 1})
    runner = make_runner()
    assert runner.run_once() == 1
    assert step_row(session_factory, "test.busy", "a").state == steps.PENDING  # not parked: it was woken
    assert runner.run_once() == 1
    assert runs == [{"v": 1}, {"v": 2}]
    assert step_row(session_factory, "test.busy", "a").state == steps.DONE


def test_a_cancelled_step_does_not_run(
    session_factory: sessionmaker[Session], fixed_clock: clock.FixedClock, registry, make_runner: Runner
) -> None:
    registry.step("test.timer", lambda ctx: pytest.fail("cancelled step ran"))
    schedule(session_factory, "test.timer", "a")
    with session_factory() as session, session.begin():
        assert steps.cancel_step(session, "test.timer", "a") is True
    assert make_runner().run_once() == 0


def test_a_runner_claims_only_the_kinds_registered_in_its_process(
    session_factory: sessionmaker[Session], fixed_clock: clock.FixedClock, registry, make_runner: Runner
) -> None:
    registry.step("test.known", lambda ctx: None)
    schedule(session_factory, "test.unknown", "a")
    schedule(session_factory, "test.known", "a")
    runner = make_runner()
    assert runner.run_once() == 1
    assert step_row(session_factory, "test.unknown", "a").state == steps.PENDING


def test_scheduling_joins_the_callers_transaction(
    session_factory: sessionmaker[Session], fixed_clock: clock.FixedClock
) -> None:
    with session_factory() as session:
        session.begin()
        steps.schedule_step(session, "test.timer", key="a", due_at=clock.now(), payload={})
        session.rollback()
    with session_factory() as session, session.begin():
        assert steps.step_id_of(session, "test.timer", "a") is None


def test_bad_names_keys_and_naive_times_are_refused(session_factory: sessionmaker[Session]) -> None:
    with pytest.raises(ValueError, match="step kind"):
        steps.register_step("bad kind!", lambda ctx: None)
    with pytest.raises(ValueError, match="positive"):
        steps.register_sweeper("test.sweep", timedelta(0), lambda uow, now: 0)
    with session_factory() as session, session.begin():
        with pytest.raises(ValueError, match="key"):
            steps.schedule_step(session, "test.timer", key="", due_at=clock.now(), payload={})
        with pytest.raises(ValueError, match="naive"):
            steps.schedule_step(session, "test.timer", key="a", due_at=clock.now().replace(tzinfo=None), payload={})


# --- sweepers -------------------------------------------------------------------------------------------


def test_a_sweeper_runs_once_per_interval_across_two_runners(
    session_factory: sessionmaker[Session], fixed_clock: clock.FixedClock, registry, make_runner: Runner
) -> None:
    sweeps: list[object] = []

    def sweep(uow: steps.UnitOfWorkFactory, now: object) -> int:
        sweeps.append(now)
        return 2

    registry.sweeper("test.sweep", timedelta(minutes=1), sweep)
    first, second = make_runner(worker_id="A"), make_runner(worker_id="B")
    start = fixed_clock.now()
    for _ in range(3):
        assert first.run_once() + second.run_once() == 1
        assert first.run_once() + second.run_once() == 0  # not due again within the interval
        fixed_clock.advance(timedelta(seconds=30))
        assert first.run_once() + second.run_once() == 0
        fixed_clock.advance(timedelta(seconds=30))
    assert sweeps == [start, start + timedelta(minutes=1), start + timedelta(minutes=2)]
    with session_factory() as session, session.begin():
        row = session.get(steps.Sweeper, "test.sweep")
        assert row is not None
        assert (row.state, row.runs, row.last_changed, row.claimed_by) == (steps.IDLE, 3, 2, None)


def test_a_sweeper_whose_runner_died_is_taken_over_when_its_lease_ends(
    session_factory: sessionmaker[Session], fixed_clock: clock.FixedClock, registry, make_runner: Runner
) -> None:
    sweeps: list[str] = []
    registry.sweeper("test.sweep", timedelta(minutes=10), lambda uow, now: sweeps.append("ran") or 0)
    dead_runner, survivor = make_runner(worker_id="A"), make_runner(worker_id="B")
    (lost,) = dead_runner.claim_sweepers()
    assert survivor.run_once() == 0  # A holds the lease
    fixed_clock.advance(timedelta(seconds=30))
    assert survivor.run_once() == 1
    assert dead_runner.run_sweeper(lost) is None  # A's late outcome is fenced out
    with session_factory() as session, session.begin():
        row = session.get(steps.Sweeper, "test.sweep")
        assert row is not None and row.runs == 1 and row.attempts == 2


def test_a_failing_sweeper_is_retried_sooner_than_its_interval(
    session_factory: sessionmaker[Session], fixed_clock: clock.FixedClock, registry, make_runner: Runner
) -> None:
    def broken(uow: steps.UnitOfWorkFactory, now: object) -> int:
        raise RuntimeError("database hiccup")

    registry.sweeper("test.sweep", timedelta(hours=1), broken)
    runner = make_runner()  # first retry after 10 s
    assert runner.run_once() == 0
    with session_factory() as session, session.begin():
        row = session.get(steps.Sweeper, "test.sweep")
        assert row is not None
        assert (row.failures, row.last_error, row.due_at) == (
            1,
            "RuntimeError: database hiccup",
            fixed_clock.now() + timedelta(seconds=10),
        )


def test_a_restart_does_not_run_a_sweeper_before_its_due_time(
    session_factory: sessionmaker[Session], fixed_clock: clock.FixedClock, registry, make_runner: Runner
) -> None:
    sweeps: list[int] = []
    registry.sweeper("test.sweep", timedelta(hours=1), lambda uow, now: sweeps.append(1) or 0)
    assert make_runner().run_once() == 1
    fixed_clock.advance(timedelta(minutes=5))
    assert make_runner().run_once() == 0  # a new process: the row remembers the due time
    assert len(sweeps) == 1


def test_a_sweep_changes_data_through_the_units_of_work_it_is_given(
    session_factory: sessionmaker[Session], fixed_clock: clock.FixedClock, registry, make_runner: Runner
) -> None:
    """What issue 16's sweepers do: find what is due at ``now`` and change it in their own transactions."""
    for key in ("a", "b", "c"):
        schedule(session_factory, "test.hold", key, payload={"expires": key != "c"})

    def expire(uow: steps.UnitOfWorkFactory, now: object) -> int:
        with uow() as tx:
            rows = tx.session.query(steps.DurableStep).filter(steps.DurableStep.kind == "test.hold").all()
            changed = 0
            for row in rows:
                if row.payload["expires"]:
                    changed += steps.cancel_step(tx.session, row.kind, row.key)
            tx.commit()
        return changed

    registry.sweeper("test.expire", timedelta(minutes=1), expire)
    assert make_runner().run_once() == 1
    assert [step_row(session_factory, "test.hold", key).state for key in "abc"] == [
        steps.DONE,
        steps.DONE,
        steps.PENDING,
    ]
    with session_factory() as session, session.begin():
        row = session.get(steps.Sweeper, "test.expire")
        assert row is not None and row.last_changed == 2
