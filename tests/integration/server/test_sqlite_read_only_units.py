"""On SQLite a read-only unit of work must not queue behind a writer for the write lock."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import text

from common.uow import ReadUnitOfWork
from server.db import make_engine, make_session_factory, read_only_engine


def test_read_only_unit_reads_while_a_writer_holds_the_write_lock(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'locks.db'}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (n INTEGER)"))
        connection.execute(text("INSERT INTO t VALUES (1)"))
    readers = make_session_factory(engine, read_only=True)
    writers = make_session_factory(engine)
    seen: list[int] = []

    def read() -> None:
        with readers() as session, session.begin():
            seen.append(session.execute(text("SELECT n FROM t")).scalar_one())

    with writers() as writer, writer.begin():  # BEGIN IMMEDIATE: holds the write lock
        writer.execute(text("UPDATE t SET n = 2"))
        reader = threading.Thread(target=read)
        reader.start()
        reader.join(timeout=5)  # a writer-style BEGIN would wait here for up to busy_timeout (30 s)
        assert not reader.is_alive(), "the read-only unit waited for the write lock"
    assert seen == [1]  # it read the last committed state, not the writer's uncommitted change
    engine.dispose()


def test_writer_unit_takes_the_write_lock_at_begin(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'locks.db'}")
    writers = make_session_factory(engine)
    with writers() as session, session.begin():
        session.execute(text("SELECT 1"))
        in_transaction = session.connection().exec_driver_sql("PRAGMA main.journal_mode").scalar_one()
        # BEGIN IMMEDIATE reserved the database: a second immediate begin from another connection fails fast.
        other = engine.raw_connection()
        try:
            other.execute("PRAGMA busy_timeout=50")
            try:
                other.execute("BEGIN IMMEDIATE")
                acquired = True
            except Exception:  # sqlite3.OperationalError: database is locked
                acquired = False
        finally:
            other.close()
    assert in_transaction == "wal"
    assert acquired is False
    engine.dispose()


def test_session_free_read_unit_reads_while_a_writer_holds_the_write_lock(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'locks.db'}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (n INTEGER)"))
        connection.execute(text("INSERT INTO t VALUES (1)"))
    writers = make_session_factory(engine)
    seen: list[int] = []

    def read() -> None:
        with ReadUnitOfWork(read_only_engine(engine).connect) as tx:
            seen.append(tx.connection.execute(text("SELECT n FROM t")).scalar_one())

    with writers() as writer, writer.begin():
        writer.execute(text("UPDATE t SET n = 2"))
        reader = threading.Thread(target=read)
        reader.start()
        reader.join(timeout=5)
        assert not reader.is_alive(), "the session-free read unit waited for the write lock"
    assert seen == [1]
    engine.dispose()


def test_session_free_read_unit_gives_its_connection_back_ended_even_on_error(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'pool.db'}")
    unit = ReadUnitOfWork(read_only_engine(engine).connect)
    with pytest.raises(LookupError), unit as tx:
        tx.connection.execute(text("SELECT 1"))
        assert tx.connection.in_transaction()
        raise LookupError("the use case failed")
    assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    with pytest.raises(RuntimeError, match="outside its 'with' block"):
        _ = unit.connection
    # The connection came back without an open transaction: a writer can take the lock at once.
    with make_session_factory(engine)() as writer, writer.begin():
        writer.execute(text("SELECT 1"))
    engine.dispose()
