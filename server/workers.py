"""Background workers: the event dispatcher (hub listeners and internal consumers) and its housekeeping.

``start(container)`` launches them inside the API process on the running event loop and returns an async
``stop``; ``run_standalone(container, stop)`` is ``provisio worker``: the same dispatcher without the HTTP
API. With PostgreSQL any number of processes run them side by side: work rows are claimed with
``FOR UPDATE SKIP LOCKED`` and a lease.

A dispatcher sleeps between steps: ``settings.dispatch_interval`` when idle, not at all while there is
work. It wakes at once when a transaction in its own process commits events, and on PostgreSQL when
another process does (``server.wakeup``: every process NOTIFYs after such commits, every dispatcher
LISTENs). After each step it runs the purge of delivered events when due (``PurgeSchedule``).

``PROVISIO_API_DISPATCH=0`` keeps the API process from delivering (``provisio worker`` processes do); it
still NOTIFYs them after its commits.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Awaitable, Callable

from common import events
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
    task: asyncio.Task[None] | None = None
    dispatcher: Dispatcher | None = None
    if settings.api_dispatch:
        dispatcher = make_dispatcher(container.session_factory, settings)
        purge = PurgeSchedule.from_settings(container.session_factory, settings)
        notifications.listen(on_wake)
        task = loop.create_task(
            _dispatch_loop(dispatcher, settings.dispatch_interval, wake, lambda: stopping, purge.run_if_due),
            name="event-dispatcher",
        )

    async def stop() -> None:
        nonlocal stopping
        stopping = True
        wake.set()
        if task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(task), STOP_TIMEOUT)
            except TimeoutError:
                logger.warning("event dispatcher did not stop within %.0fs; cancelling", STOP_TIMEOUT)
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await asyncio.to_thread(notifications.close)
        if dispatcher is not None:
            await asyncio.to_thread(dispatcher.close)

    return stop


def run_standalone(container: Container, stop: threading.Event) -> None:
    """``provisio worker``: deliver until ``stop`` is set. Loads every context first, so that the internal
    consumers their facades register are delivered here too."""
    load_all_models()
    settings = container.settings
    dispatcher = make_dispatcher(container.session_factory, settings)
    purge = PurgeSchedule.from_settings(container.session_factory, settings)
    wake = threading.Event()
    notifications = _Notifications(container)
    notifications.listen(wake.set)
    try:
        run_forever(dispatcher, interval=settings.dispatch_interval, stop=stop, wake=wake, after_step=purge.run_if_due)
    finally:
        notifications.close()
        dispatcher.close()


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
