"""Cross-process wake-ups for the event workers on PostgreSQL: ``NOTIFY`` after a commit, ``LISTEN`` in
every process that delivers (PostgreSQL 15 docs, "NOTIFY" and "LISTEN").

- ``Notifier``: a commit that published events pokes it (``common.events.add_commit_listener``); its own
  thread sends ``NOTIFY provisio_events`` on its own autocommit connection, *after* the commit. Pokes that
  arrive while a NOTIFY is in flight are coalesced into the next one, so a busy process sends about one
  NOTIFY per round trip, not one per commit. Not inside the writing transaction: a transaction that has
  queued a notification takes a cluster-wide lock at commit, which would serialise every writing
  transaction of the server behind it.
- ``Listener``: a thread that ``LISTEN``s on its own connection and calls ``on_wake`` for each
  notification (and once after every (re)connection, for what committed while it was not listening).

Both are best effort: polling (``PROVISIO_DISPATCH_INTERVAL``) stays the fallback, so a lost connection
costs latency, never an event. SQLite has neither (one process delivers; it wakes in-process).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, Protocol

from sqlalchemy import Engine

logger = logging.getLogger(__name__)

CHANNEL = "provisio_events"
RETRY_DELAY = 1.0  # seconds before reconnecting after a failure


class Connection(Protocol):
    def execute(self, query: Any) -> Any: ...
    def close(self) -> None: ...


Connect = Callable[[], Any]


def connector(engine: Engine) -> Connect:
    """A factory of dedicated psycopg connections (autocommit, outside the engine's pool) to ``engine``'s
    database: a LISTEN must outlive any pooled checkout, and a NOTIFY must not wait for a pool slot."""
    import psycopg

    args, kwargs = engine.dialect.create_connect_args(engine.url)

    def connect() -> Any:
        return psycopg.connect(*args, **kwargs, autocommit=True)

    return connect


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


class Notifier:
    """Sends one coalesced ``NOTIFY`` after commits that published events (see the module docstring)."""

    def __init__(self, connect: Connect, *, channel: str = CHANNEL, retry_delay: float = RETRY_DELAY) -> None:
        self._connect = connect
        self._statement = f"NOTIFY {channel}"
        self._retry_delay = retry_delay
        self._pending = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="event-notify", daemon=True)
        self.sent = 0

    def start(self) -> Notifier:
        self._thread.start()
        return self

    def poke(self) -> None:
        """Ask for a NOTIFY; never blocks (called from the committing thread)."""
        self._pending.set()

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        self._pending.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        connection: Any = None
        try:
            while True:
                self._pending.wait()
                if self._stopping.is_set():
                    return
                self._pending.clear()  # a commit from now on asks for another NOTIFY after this one
                try:
                    connection = connection or self._connect()
                    connection.execute(self._statement)
                    self.sent += 1
                except Exception:
                    logger.warning("event NOTIFY failed; workers fall back to polling", exc_info=True)
                    _close_quietly(connection)
                    connection = None
                    self._stopping.wait(self._retry_delay)
        finally:
            _close_quietly(connection)


class Listener:
    """``LISTEN``s for event notifications and calls ``on_wake`` for each (see the module docstring)."""

    def __init__(
        self,
        connect: Connect,
        on_wake: Callable[[], None],
        *,
        channel: str = CHANNEL,
        tick: float = 0.5,
        retry_delay: float = RETRY_DELAY,
    ) -> None:
        self._connect = connect
        self._on_wake = on_wake
        self._channel = channel
        self._tick = tick  # how often the thread looks at the stop flag while idle
        self._retry_delay = retry_delay
        self._stopping = threading.Event()
        self.listening = threading.Event()
        self._thread = threading.Thread(target=self._run, name="event-listen", daemon=True)

    def start(self) -> Listener:
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stopping.is_set():
            connection: Any = None
            try:
                connection = self._connect()
                connection.execute(f"LISTEN {self._channel}")
                self.listening.set()
                logger.info("listening for event notifications on channel %s", self._channel)
                self._wake()  # whatever committed while we were not listening
                while not self._stopping.is_set():
                    for _notification in connection.notifies(timeout=self._tick):
                        self._wake()
            except Exception:
                if self._stopping.is_set():
                    return
                logger.warning("event LISTEN connection failed; reconnecting (polling meanwhile)", exc_info=True)
                self._stopping.wait(self._retry_delay)
            finally:
                self.listening.clear()
                _close_quietly(connection)

    def _wake(self) -> None:
        try:
            self._on_wake()
        except Exception:  # a wake-up must never kill the listener
            logger.exception("event wake-up callback failed")


def _close_quietly(connection: Any) -> None:
    if connection is not None:
        try:
            connection.close()
        except Exception:
            logger.debug("closing a notification connection failed", exc_info=True)
