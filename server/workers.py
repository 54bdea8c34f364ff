"""Background workers: the event dispatcher (hub listeners and internal consumers) and its housekeeping,
and the durable-step runner (``common.steps``: sweepers, timers, saga and orchestration steps).

``start(container)`` launches them inside the API process on the running event loop and returns an async
``stop``; ``run_standalone(container, stop)`` is ``provisio worker``: the same dispatcher without the HTTP
API. With PostgreSQL any number of processes run them side by side: work rows are claimed with
``FOR UPDATE SKIP LOCKED`` and a lease.

A dispatcher sleeps between steps: ``settings.dispatch_interval`` when idle, not at all while there is
work. It wakes at once when a transaction in its own process commits events, and on PostgreSQL when
another process does (``server.wakeup``: every process NOTIFYs after such commits, every dispatcher
LISTENs). After each step it runs the purge of delivered events when due (``PurgeSchedule``).

The step runner has a loop of its own beside the dispatcher's (a long sweep or activation never holds up
event delivery): it sleeps until the earliest due step or sweeper (at most ``dispatch_interval``) and is
woken by the same wake-ups, since scheduling or waking a step flags its transaction like a publish does.

``PROVISIO_API_DISPATCH=0`` keeps the API process from delivering and from running steps (``provisio
worker`` processes do); it still NOTIFYs them after its commits.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Awaitable, Callable
from datetime import timedelta

from common import events, steps
from server import wakeup
from server.deps import Container
from server.dispatcher import Dispatcher, make_dispatcher, run_forever
from server.event_purge import PurgeSchedule
from server.schema import load_all_models

logger = logging.getLogger(__name__)

Stop = Callable[[], Awaitable[None]]

STOP_TIMEOUT = 10.0


def start(container: Container) -> Stop:
    settings = container.settings
    loop = asyncio.get_running_loop()
    wake = asyncio.Event()
    stopping = False

    def on_wake() -> None:
        # Called from whichever thread committed (or the LISTEN thread); hop onto the loop.
        with contextlib.suppress(RuntimeError):  # the loop is closing
            loop.call_soon_threadsafe(wake.set)

    notifications = _Notifications(container)
    step_wake = asyncio.Event()

    def on_step_wake() -> None:
        with contextlib.suppress(RuntimeError):  # the loop is closing
            loop.call_soon_threadsafe(step_wake.set)

    tasks: list[asyncio.Task[None]] = []
    dispatcher: Dispatcher | None = None
    runner: steps.StepRunner | None = None
    if settings.api_dispatch:
        dispatcher = make_dispatcher(container.session_factory, settings)
        runner = make_step_runner(container)
        purge = PurgeSchedule.from_settings(container.session_factory, settings)
        notifications.listen(_both(on_wake, on_step_wake))
        tasks.append(
            loop.create_task(
                _dispatch_loop(dispatcher, settings.dispatch_interval, wake, lambda: stopping, purge.run_if_due),
                name="event-dispatcher",
            )
        )
        tasks.append(
            loop.create_task(
                _step_loop(runner, settings.dispatch_interval, step_wake, lambda: stopping), name="durable-steps"
            )
        )

    async def stop() -> None:
        nonlocal stopping
        stopping = True
        wake.set()
        step_wake.set()
        for task in tasks:
            try:
                await asyncio.wait_for(asyncio.shield(task), STOP_TIMEOUT)
            except TimeoutError:
                logger.warning("%s did not stop within %.0fs; cancelling", task.get_name(), STOP_TIMEOUT)
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await asyncio.to_thread(notifications.close)
        if dispatcher is not None:
            await asyncio.to_thread(dispatcher.close)
        if runner is not None:
            await asyncio.to_thread(runner.close)

    return stop


def run_standalone(container: Container, stop: threading.Event) -> None:
    """``provisio worker``: deliver until ``stop`` is set. Loads every context first, so that the internal
    consumers their facades register are delivered here too."""
    load_all_models()
    settings = container.settings
    dispatcher = make_dispatcher(container.session_factory, settings)
    purge = PurgeSchedule.from_settings(container.session_factory, settings)
    runner = make_step_runner(container)
    wake, step_wake = threading.Event(), threading.Event()
    notifications = _Notifications(container)
    notifications.listen(_both(wake.set, step_wake.set))
    step_thread = threading.Thread(
        target=steps.run_forever,
        args=(runner,),
        kwargs={"interval": settings.dispatch_interval, "stop": stop, "wake": step_wake},
        name="durable-steps",
    )
    step_thread.start()
    # Stopping wakes both loops at once, rather than after their idle poll.
    threading.Thread(target=_wake_on, args=(stop, wake, step_wake), name="worker-stop", daemon=True).start()
    try:
        run_forever(dispatcher, interval=settings.dispatch_interval, stop=stop, wake=wake, after_step=purge.run_if_due)
    finally:
        step_wake.set()
        step_thread.join(STOP_TIMEOUT)
        notifications.close()
        dispatcher.close()
        runner.close()


def _wake_on(stop: threading.Event, *wakes: threading.Event) -> None:
    stop.wait()
    for wake in wakes:
        wake.set()


def _both(first: Callable[[], None], second: Callable[[], None]) -> Callable[[], None]:
    """One wake-up for both loops (a commit that published events or scheduled steps, or a NOTIFY)."""

    def wake() -> None:
        first()
        second()

    return wake


def make_step_runner(container: Container) -> steps.StepRunner:
    """The durable-step runner with the settings' lease, retry policy and concurrency."""
    settings = container.settings
    return steps.StepRunner(
        container.session_factory,
        retry=steps.RetryPolicy(
            max_attempts=settings.step_max_attempts,
            base_delay=settings.step_retry_base,
            max_delay=settings.step_retry_max,
        ),
        lease=timedelta(seconds=settings.step_lease),
        concurrency=settings.step_concurrency,
        batch_size=settings.step_concurrency * 2,
        read_session_factory=container.read_only_session_factory,
    )


class _Notifications:
    """This process's part in the cross-process wake-ups (PostgreSQL only; nothing on SQLite): a NOTIFY
    after each commit that published events, and optionally a LISTEN that calls ``on_wake``."""

    def __init__(self, container: Container) -> None:
        self._engine = container.engine
        self._enabled = wakeup.is_postgres(self._engine)
        self._notifier: wakeup.Notifier | None = None
        self._listener: wakeup.Listener | None = None
        self._remove: list[Callable[[], None]] = []
        if self._enabled:
            self._notifier = wakeup.Notifier(wakeup.connector(self._engine)).start()
            self._remove.append(events.add_commit_listener(self._notifier.poke))

    def listen(self, on_wake: Callable[[], None]) -> None:
        self._remove.append(events.add_commit_listener(on_wake))  # this process's own commits
        if self._enabled:
            self._listener = wakeup.Listener(wakeup.connector(self._engine), on_wake).start()

    def close(self) -> None:
        for remove in self._remove:
            remove()
        if self._listener is not None:
            self._listener.stop()
        if self._notifier is not None:
            self._notifier.stop()


async def _dispatch_loop(
    dispatcher: Dispatcher,
    interval: float,
    wake: asyncio.Event,
    stopping: Callable[[], bool],
    after_step: Callable[[], object],
) -> None:
    while not stopping():
        wake.clear()  # before the step, so a publish during the step makes us go round again
        try:
            worked = await asyncio.to_thread(dispatcher.run_once)
            await asyncio.to_thread(after_step)
        except Exception:
            logger.exception("event dispatcher step failed; retrying after %.2fs", interval)
            worked = 0
        if worked or stopping():
            continue
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wake.wait(), interval)


async def _step_loop(
    runner: steps.StepRunner, interval: float, wake: asyncio.Event, stopping: Callable[[], bool]
) -> None:
    """The in-process step loop: a round, then sleep until the next due item (at most ``interval``) or a
    wake-up (a step scheduled or woken by a commit here, or a NOTIFY from another process)."""
    while not stopping():
        wake.clear()  # before the round, so a schedule during it makes us go round again
        try:
            worked = await asyncio.to_thread(runner.run_once)
            pause = 0.0 if worked else await asyncio.to_thread(steps.idle_pause, runner, interval)
        except Exception:
            logger.exception("durable-step round failed; retrying after %.2fs", interval)
            pause = interval
        if pause <= 0 or stopping():
            continue
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wake.wait(), pause)
