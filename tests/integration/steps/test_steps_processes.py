"""Real processes and real time: a runner killed with SIGKILL mid-step, the lease heartbeat, and (on
PostgreSQL) two runners racing for the same steps."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from helpers_steps import schedule, step_row
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from common import clock, steps
from server.settings import Settings

pytestmark = pytest.mark.integration

Runner = Callable[..., steps.StepRunner]
PROJECT_ROOT = Path(__file__).resolve().parents[3]

# The child: a runner whose step announces itself and then hangs, so the test can kill it mid-step.
CHILD = textwrap.dedent(
    """
    import sys, threading
    from datetime import timedelta
    from common import steps
    from server.db import make_engine, make_session_factory

    def hang(ctx):
        print(f"running {ctx.key} claim {ctx.claim}", flush=True)
        threading.Event().wait()

    steps.register_step("test.hang", hang)
    runner = steps.StepRunner(make_session_factory(make_engine(sys.argv[1])), lease=timedelta(seconds=60))
    runner.run_once()
    """
)


def test_a_runner_killed_mid_step_loses_nothing_another_takes_the_step_over(
    settings: Settings, session_factory: sessionmaker[Session], registry
) -> None:
    schedule(session_factory, "test.hang", "order-7", payload={"n": 7})
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, settings.database_url],
        cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert child.stdout is not None
        line = child.stdout.readline()  # blocks until the child runs the step (or dies)
        assert line.strip() == "running order-7 claim 1", child.stderr.read() if child.stderr else ""
        os.kill(child.pid, signal.SIGKILL)
        child.wait(10)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    row = step_row(session_factory, "test.hang", "order-7")
    assert row.state == steps.RUNNING and row.claimed_by is not None and f":{child.pid}:" in row.claimed_by

    finished: list[tuple[str, int]] = []
    registry.step("test.hang", lambda ctx: finished.append((ctx.key, ctx.claim)))
    survivor = steps.StepRunner(session_factory, lease=timedelta(seconds=60), heartbeat=False)
    try:
        assert survivor.run_once() == 0  # the dead child's lease still runs
        after_the_lease = clock.FixedClock(clock.now() + timedelta(seconds=61))
        previous = clock.set_clock(after_the_lease)
        try:
            assert survivor.run_once() == 1
        finally:
            clock.set_clock(previous)
    finally:
        survivor.close()
    assert finished == [("order-7", 2)]
    row = step_row(session_factory, "test.hang", "order-7")
    assert (row.state, row.attempts) == (steps.DONE, 2)


def test_the_heartbeat_keeps_a_long_steps_lease_so_nobody_else_takes_it(
    session_factory: sessionmaker[Session], registry
) -> None:
    started, release = threading.Event(), threading.Event()

    def long_step(ctx: steps.StepContext) -> None:
        started.set()
        assert release.wait(10)

    registry.step("test.long", long_step)
    schedule(session_factory, "test.long", "a")
    lease = timedelta(seconds=0.2)
    holder = steps.StepRunner(session_factory, lease=lease, worker_id="holder")
    other = steps.StepRunner(session_factory, lease=lease, worker_id="other", heartbeat=False)
    result: list[int] = []
    thread = threading.Thread(target=lambda: result.append(holder.run_once()))
    thread.start()
    try:
        assert started.wait(10)
        deadline = time.monotonic() + 1.0  # five leases long: without renewal it would be taken over
        while time.monotonic() < deadline:
            assert other.claim_steps() == []
            time.sleep(0.02)
    finally:
        release.set()
        thread.join(10)
        holder.close()
        other.close()
    assert result == [1]
    row = step_row(session_factory, "test.long", "a")
    assert (row.state, row.attempts) == (steps.DONE, 1)


@pytest.mark.pg
def test_a_step_locked_by_one_runners_claim_is_skipped_not_waited_for(
    session_factory: sessionmaker[Session], registry, make_runner: Runner
) -> None:
    registry.step("test.work", lambda ctx: None)
    schedule(session_factory, "test.work", "a")
    runner = make_runner()
    with session_factory() as holder, holder.begin():
        holder.execute(select(steps.DurableStep.id).with_for_update()).all()  # another claim, still open
        started = time.monotonic()
        assert runner.claim_steps() == []
        assert time.monotonic() - started < 2.0
    assert len(runner.claim_steps()) == 1


@pytest.mark.pg
def test_two_runners_never_run_the_same_step_at_once_and_run_each_once(
    session_factory: sessionmaker[Session], registry
) -> None:
    in_flight: set[str] = set()
    overlaps: list[str] = []
    runs: Counter[str] = Counter()
    lock = threading.Lock()

    def tracked(ctx: steps.StepContext) -> None:
        with lock:
            if ctx.key in in_flight:
                overlaps.append(ctx.key)
            in_flight.add(ctx.key)
            runs[ctx.key] += 1
        time.sleep(0.002)  # widen the window in which a second runner could start it
        with lock:
            in_flight.discard(ctx.key)

    registry.step("test.race", tracked)
    keys = [f"k{index}" for index in range(120)]
    for key in keys:
        schedule(session_factory, "test.race", key)
    runners = [
        steps.StepRunner(session_factory, lease=timedelta(minutes=5), worker_id=name, batch_size=5, concurrency=4)
        for name in ("A", "B", "C")
    ]
    barrier = threading.Barrier(len(runners))
    errors: list[BaseException] = []

    def drain(runner: steps.StepRunner) -> None:
        try:
            barrier.wait()
            while runner.run_once():
                pass
        except BaseException as error:  # surfaced below
            errors.append(error)

    threads = [threading.Thread(target=drain, args=(runner,)) for runner in runners]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    for runner in runners:
        runner.close()

    assert errors == []
    assert overlaps == []
    assert runs == Counter({key: 1 for key in keys})
    with session_factory() as session, session.begin():
        claimed = Counter(
            session.execute(select(steps.DurableStep.attempts).where(steps.DurableStep.kind == "test.race")).scalars()
        )
    assert claimed == {1: len(keys)}


@pytest.mark.pg
def test_a_sweeper_runs_once_per_interval_across_racing_runners(
    session_factory: sessionmaker[Session], fixed_clock: clock.FixedClock, registry
) -> None:
    sweeps: list[str] = []
    lock = threading.Lock()

    def sweep(uow: steps.UnitOfWorkFactory, now: object) -> int:
        with lock:
            sweeps.append(threading.current_thread().name)
        return 0

    registry.sweeper("test.sweep", timedelta(minutes=1), sweep)
    runners = [steps.StepRunner(session_factory, heartbeat=False, worker_id=f"r{index}") for index in range(4)]
    for runner in runners:
        runner.ensure_sweepers()
    for _ in range(3):
        barrier = threading.Barrier(len(runners))
        threads = [
            threading.Thread(target=lambda r=runner, b=barrier: (b.wait(), r.run_once()), name=f"t{index}")
            for index, runner in enumerate(runners)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        fixed_clock.advance(timedelta(minutes=1))
    for runner in runners:
        runner.close()
    assert len(sweeps) == 3
