"""PostgreSQL: a commit that published events NOTIFYs after the commit (never inside the writing
transaction), and a ``provisio worker`` in another process is woken by it long before its next poll."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from helpers_events import deliveries, subscribe
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session, sessionmaker

from common import events
from common.events import DELIVERED
from common.uow import UnitOfWork
from server import wakeup
from server.settings import Settings
from tests.support.recording_listener import RecordingListener

pytestmark = [pytest.mark.pg, pytest.mark.integration]

PROJECT_ROOT = Path(__file__).resolve().parents[3]
POLL_INTERVAL = 30.0  # the worker's idle poll: only a wake-up can deliver within the deadline below
DEADLINE = 5.0


@pytest.fixture
def notifier(clean_db: Engine) -> Iterator[wakeup.Notifier]:
    """This (publishing) process's NOTIFY after commits, as the API process runs it."""
    sender = wakeup.Notifier(wakeup.connector(clean_db)).start()
    remove = events.add_commit_listener(sender.poke)
    yield sender
    remove()
    sender.stop()


def _publish(factory: sessionmaker[Session], name: str = "r-1") -> str:
    with UnitOfWork(factory) as tx:
        event_id = events.publish(
            tx.session, api="resourceInventoryManagement", event_type="ResourceCreateEvent",
            resource={"id": name, "@type": "LogicalResource"},
        )  # fmt: skip
        tx.commit()
    return event_id


def test_notify_goes_out_after_the_commit_on_its_own_connection_not_in_the_transaction(
    clean_db: Engine, session_factory: sessionmaker[Session], notifier: wakeup.Notifier
) -> None:
    woken = threading.Event()
    listener = wakeup.Listener(wakeup.connector(clean_db), woken.set, tick=0.1).start()
    statements: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    try:
        assert listener.listening.wait(DEADLINE)
        woken.wait(DEADLINE)  # the wake-up every (re)connection gives
        woken.clear()
        subscribe(session_factory, "http://127.0.0.1:9/listener")  # an event nobody gets wakes nobody
        event.listen(clean_db, "before_cursor_execute", record)
        with UnitOfWork(session_factory) as tx:
            events.publish(tx.session, api="resourceInventoryManagement", event_type="ResourceCreateEvent",
                           resource={"id": "r-1"})  # fmt: skip
            tx.session.flush()
            assert notifier.sent == 0  # nothing sent while the transaction is open
            tx.commit()
        assert woken.wait(DEADLINE), "no notification after the commit"
        _wait_until(lambda: notifier.sent >= 1)  # the listener may hear it before the sender counts it
        assert not any("NOTIFY" in s.upper() for s in statements), "NOTIFY must not run in the writing transaction"

        with UnitOfWork(session_factory) as tx:  # a rolled-back publish notifies nobody
            events.publish(tx.session, api="resourceInventoryManagement", event_type="ResourceCreateEvent",
                           resource={"id": "r-2"})  # fmt: skip
        sent = notifier.sent
    finally:
        event.remove(clean_db, "before_cursor_execute", record)
        listener.stop()
    assert notifier.sent == sent


def _wait_until(condition: Callable[[], bool], timeout: float = DEADLINE) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.005)


class WorkerProcess:
    """``provisio worker`` in a child process; its log lines are read as they come."""

    def __init__(self, database_url: str, data_dir: Path) -> None:
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "PROVISIO_DATA_DIR": str(data_dir),
            "PROVISIO_DISPATCH_INTERVAL": str(POLL_INTERVAL),
            "LOG_LEVEL": "DEBUG",
        }
        self.lines: list[str] = []
        self._condition = threading.Condition()
        self.child = subprocess.Popen(
            [sys.executable, "-m", "server.cli", "worker"],
            cwd=PROJECT_ROOT, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.child.stderr is not None
        for line in self.child.stderr:
            with self._condition:
                self.lines.append(line.rstrip())
                self._condition.notify_all()

    def wait_for_line(self, text: str, after: int = 0, timeout: float = 30.0) -> int:
        """Index of the first log line from ``after`` on that contains ``text``."""
        deadline = time.monotonic() + timeout
        with self._condition:
            while True:
                for index in range(after, len(self.lines)):
                    if text in self.lines[index]:
                        return index
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self.child.poll() is not None:
                    tail = "\n".join(self.lines[-30:])
                    raise AssertionError(f"worker never logged {text!r}:\n{tail}")
                self._condition.wait(min(remaining, 0.5))

    def stop(self) -> int:
        self.child.terminate()
        try:
            return self.child.wait(15)
        except subprocess.TimeoutExpired:
            self.child.kill()
            return self.child.wait()


def test_worker_in_another_process_is_woken_by_notify_well_before_its_poll(
    settings: Settings,
    session_factory: sessionmaker[Session],
    listener: RecordingListener,
    notifier: wakeup.Notifier,
    tmp_path: Path,
) -> None:
    subscribe(session_factory, listener)
    worker = WorkerProcess(settings.database_url, tmp_path)
    try:
        worker.wait_for_line("listening for event notifications")
        idle = worker.wait_for_line("dispatcher idle")  # its start-up step is done: it now sleeps 30 s
        started = time.monotonic()
        event_id = _publish(session_factory)
        [received] = listener.wait_for_count(1, timeout=DEADLINE)
        elapsed = time.monotonic() - started
        assert received["eventId"] == event_id
        assert elapsed < DEADLINE < POLL_INTERVAL
        assert worker.wait_for_line("dispatcher idle", after=idle + 1) > idle  # and it went back to sleep

        second = _publish(session_factory, "r-2")  # and again, from idle
        assert [event["eventId"] for event in listener.wait_for_count(2, timeout=DEADLINE)] == [event_id, second]
    finally:
        assert worker.stop() == 0
    assert {delivery.state for delivery, _ in deliveries(session_factory)} == {DELIVERED}
