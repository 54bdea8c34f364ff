"""Background workers that run inside the API process (event dispatcher, sweepers).

``start(container)`` launches them on the running event loop and returns an async ``stop``. With
PostgreSQL any number of processes may run them side by side: work rows are claimed with
``FOR UPDATE SKIP LOCKED``. ``provisio worker`` runs the same dispatcher step without the HTTP API
(``server.dispatcher.run_forever``).

The dispatcher step is synchronous (SQLAlchemy + httpx), so it runs in a thread; the asyncio task only
sleeps between steps: ``settings.dispatch_interval`` when idle, not at all while there is work, and it
wakes at once when a transaction in this process commits events.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from common import events
from server.deps import Container
from server.dispatcher import Dispatcher, make_dispatcher

logger = logging.getLogger(__name__)

Stop = Callable[[], Awaitable[None]]

STOP_TIMEOUT = 10.0


def start(container: Container) -> Stop:
    dispatcher = make_dispatcher(container.session_factory, container.settings)
    loop = asyncio.get_running_loop()
    wake = asyncio.Event()
    stopping = False

    def on_commit() -> None:
        # Called from whichever thread committed; hop onto the loop.
        with contextlib.suppress(RuntimeError):  # the loop is closing
            loop.call_soon_threadsafe(wake.set)

    remove_listener = events.add_commit_listener(on_commit)
    task = loop.create_task(
        _dispatch_loop(dispatcher, container.settings.dispatch_interval, wake, lambda: stopping),
        name="event-dispatcher",
    )

    async def stop() -> None:
        nonlocal stopping
        stopping = True
        remove_listener()
        wake.set()
        try:
            await asyncio.wait_for(asyncio.shield(task), STOP_TIMEOUT)
        except TimeoutError:
            logger.warning("event dispatcher did not stop within %.0fs; cancelling", STOP_TIMEOUT)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await asyncio.to_thread(dispatcher.close)

    return stop


async def _dispatch_loop(
    dispatcher: Dispatcher, interval: float, wake: asyncio.Event, stopping: Callable[[], bool]
) -> None:
    while not stopping():
        wake.clear()  # before the step, so a publish during the step makes us go round again
        try:
            worked = await asyncio.to_thread(dispatcher.run_once)
        except Exception:
            logger.exception("event dispatcher step failed; retrying after %.2fs", interval)
            worked = 0
        if worked or stopping():
            continue
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wake.wait(), interval)
