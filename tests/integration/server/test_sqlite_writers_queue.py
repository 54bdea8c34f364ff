"""On SQLite the writers of one process queue on a Python lock before SQLite's write lock, so a writer
waiting for another is let in the moment it ends (SQLite's busy handler would poll with sleeps of up to
100 ms), and every way a write transaction ends lets the next one in."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event, text

from server.db import make_engine, make_session_factory


def _engine_without_busy_wait(path: Path) -> Engine:
    """SQLite's own busy handler switched off: a writer that met SQLite's lock would fail at once."""
    engine = make_engine(f"sqlite:///{path / 'writers.db'}")

    @event.listens_for(engine, "connect")
    def _no_busy_wait(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("PRAGMA busy_timeout=0")

    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (n INTEGER)"))
    return engine


def _count(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text("SELECT count(*) FROM t")).scalar_one())


def test_a_second_writer_waits_for_the_first_instead_of_failing(tmp_path: Path) -> None:
    engine = _engine_without_busy_wait(tmp_path)
    writers = make_session_factory(engine)
    errors: list[BaseException] = []
    starting = threading.Event()

    def second_writer() -> None:
        starting.set()
        try:
            with writers() as session, session.begin():
                session.execute(text("INSERT INTO t VALUES (2)"))
        except BaseException as error:  # before the fix: OperationalError, database is locked
            errors.append(error)

    with writers() as first, first.begin():
        first.execute(text("INSERT INTO t VALUES (1)"))
        thread = threading.Thread(target=second_writer)
        thread.start()
        assert starting.wait(5)
        thread.join(timeout=0.3)  # bounded: it must still be waiting for us, not have failed
        assert thread.is_alive() and not errors, errors
    thread.join(timeout=5)
    assert not thread.is_alive() and not errors, errors
    assert _count(engine) == 2
    engine.dispose()


def test_a_rolled_back_writer_lets_the_next_one_in(tmp_path: Path) -> None:
    engine = _engine_without_busy_wait(tmp_path)
    writers = make_session_factory(engine)
    with writers() as session, session.begin():
        session.execute(text("INSERT INTO t VALUES (1)"))
        session.rollback()
    with writers() as session, session.begin():
        session.execute(text("INSERT INTO t VALUES (2)"))
    assert _count(engine) == 1
    engine.dispose()


def test_a_connection_closed_inside_its_transaction_lets_the_next_writer_in(tmp_path: Path) -> None:
    engine = _engine_without_busy_wait(tmp_path)
    connection = engine.connect()
    connection.begin()
    connection.execute(text("INSERT INTO t VALUES (1)"))
    connection.close()  # never committed: rolled back on its way back to the pool
    done = threading.Event()

    def write() -> None:
        with engine.begin() as other:
            other.execute(text("INSERT INTO t VALUES (2)"))
        done.set()

    threading.Thread(target=write, daemon=True).start()
    assert done.wait(5), "the lock of the closed connection was never released"
    assert _count(engine) == 1
    engine.dispose()


def test_a_failed_commit_lets_the_next_writer_in(tmp_path: Path) -> None:
    engine = _engine_without_busy_wait(tmp_path)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE parent (id INTEGER PRIMARY KEY)"))
        connection.execute(
            text("CREATE TABLE child (parent_id INTEGER REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED)")
        )
    writers = make_session_factory(engine)
    try:
        with writers() as session, session.begin():
            session.execute(text("INSERT INTO child VALUES (42)"))  # the deferred foreign key fails at COMMIT
        raise AssertionError("the commit should have failed")
    except Exception as error:
        assert "FOREIGN KEY" in str(error)
    with writers() as session, session.begin():
        session.execute(text("INSERT INTO t VALUES (1)"))
    assert _count(engine) == 1
    engine.dispose()
