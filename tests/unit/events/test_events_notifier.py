"""The NOTIFY sender coalesces: commits that arrive while a NOTIFY is in flight make one more, not one each."""

from __future__ import annotations

import threading
import time
from typing import Any

from server.wakeup import Notifier


class BlockingConnection:
    """Stands in for the notifier's connection: the first NOTIFY blocks until released."""

    def __init__(self) -> None:
        self.statements: list[str] = []
        self.first_started = threading.Event()
        self.release = threading.Event()
        self.condition = threading.Condition()

    def execute(self, statement: Any) -> None:
        if not self.statements:
            self.first_started.set()
            self.release.wait(5)
        with self.condition:
            self.statements.append(str(statement))
            self.condition.notify_all()

    def close(self) -> None:
        return None

    def wait_for(self, count: int, timeout: float = 5.0) -> list[str]:
        deadline = time.monotonic() + timeout
        with self.condition:
            while len(self.statements) < count:
                remaining = deadline - time.monotonic()
                assert remaining > 0, f"only {self.statements} sent"
                self.condition.wait(remaining)
            return list(self.statements)


def test_pokes_during_a_notify_in_flight_are_coalesced_into_one_more() -> None:
    connection = BlockingConnection()
    notifier = Notifier(lambda: connection).start()
    try:
        notifier.poke()
        assert connection.first_started.wait(5)
        for _ in range(100):  # a hundred commits while the first NOTIFY is on the wire
            notifier.poke()
        connection.release.set()
        assert connection.wait_for(2) == ["NOTIFY provisio_events"] * 2
    finally:
        notifier.stop()
    assert notifier.sent == 2


def test_a_failed_notify_reconnects_on_the_next_poke() -> None:
    attempts: list[int] = []
    first_failed = threading.Event()
    good = BlockingConnection()
    good.release.set()

    class Broken:
        def execute(self, statement: Any) -> None:
            first_failed.set()
            raise OSError("connection lost")

        def close(self) -> None:
            return None

    def connect() -> Any:
        attempts.append(1)
        return Broken() if len(attempts) == 1 else good

    notifier = Notifier(connect, retry_delay=0.0).start()
    try:
        notifier.poke()
        assert first_failed.wait(5)
        notifier.poke()  # the next commit: a new connection, and this time the NOTIFY goes out
        assert good.wait_for(1) == ["NOTIFY provisio_events"]
    finally:
        notifier.stop()
