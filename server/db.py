"""Engine and session factory, the only place that knows which database we run on.

SQLite: WAL, foreign keys on, and ``BEGIN IMMEDIATE`` so that concurrent writers queue on the lock
instead of failing with "database is locked" halfway through a use case (NOTES.md).
PostgreSQL: plain READ COMMITTED; allocation code takes row locks with ``SELECT ... FOR UPDATE``. A pooled
connection is pinged before use only when it has sat idle in the pool (``PING_AFTER_IDLE_S``), not at every
checkout as ``pool_pre_ping`` would: that ping was one more round trip per request, a quarter of a GET by
id's time.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy.exc
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker


def json_text(value: Any) -> str:
    """JSON columns' text, by orjson (a resource create writes three documents: the row, its audit record,
    its event). The standard library takes what orjson refuses (an integer beyond 64 bits, which a client
    may send and Python keeps exactly), so no value is refused or changed."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return json.dumps(value)


def make_engine(database_url: str, **kwargs: Any) -> Engine:
    url = make_url(database_url)
    kwargs.setdefault("json_serializer", json_text)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs)
        _configure_sqlite(engine)
        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    engine = create_engine(url, **kwargs)
    if not kwargs.get("pool_pre_ping"):  # a caller that asked for a ping at every checkout gets it
        _ping_when_idle(engine)
    return engine


# A connection back from the pool after this long idle is pinged first: the server may have closed it
# meanwhile (a restart, idle_session_timeout, a proxy's idle cut). One in use a moment ago is alive, and if
# not, SQLAlchemy sees the disconnect on first use and invalidates the whole pool, as after a ping.
PING_AFTER_IDLE_S = 5.0
_IDLE_SINCE = "provisio_idle_since"


def _ping_when_idle(engine: Engine) -> None:
    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.pop(_IDLE_SINCE, None)
        if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_S:
            return  # new, or in use a moment ago
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as error:  # the pool discards this connection and checks out another (3 tries)
            raise sqlalchemy.exc.DisconnectionError(f"idle connection lost: {error}") from error


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not pysqlite, emit BEGIN, so we can make it IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    writers = threading.Lock()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A reader takes no lock up front (WAL readers never block writers, nor wait for them); a
        # writer takes the write lock at BEGIN, so it queues instead of failing halfway.
        if connection.get_execution_options().get(READ_ONLY_OPTION):
            _begin_on_driver(connection, "BEGIN DEFERRED")
            return
        # Writers of this process queue on a Python lock first: SQLite's busy handler polls the file lock
        # with sleeps of 1, 2, 5, 10 ... 100 ms, so eight threads queueing there wait far longer than the
        # transactions ahead of them last. The lock hands over the moment a writer ends; writers of other
        # processes still meet SQLite's own lock and busy timeout.
        if not writers.acquire(timeout=SQLITE_BUSY_TIMEOUT_S):
            raise sqlalchemy.exc.OperationalError("BEGIN IMMEDIATE", None, TimeoutError("database is locked"))
        try:
            _begin_on_driver(connection, "BEGIN IMMEDIATE")
        except BaseException:
            writers.release()
            raise
        connection.info[_HOLDS_WRITERS_LOCK] = True

    def _end(connection: Any, commit: bool) -> None:
        """Commit or roll back now, on the driver's connection, then let the next writer in (the driver call
        SQLAlchemy makes next finds no transaction and does nothing)."""
        if not connection.info.pop(_HOLDS_WRITERS_LOCK, False):
            return
        try:
            driver_connection = connection.connection.dbapi_connection
            driver_connection.commit() if commit else driver_connection.rollback()
        finally:
            writers.release()

    @event.listens_for(engine, "commit")
    def _on_commit(connection: Any) -> None:
        _end(connection, commit=True)

    @event.listens_for(engine, "rollback")
    def _on_rollback(connection: Any) -> None:
        _end(connection, commit=False)

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        # A connection returned with its transaction still open was rolled back by the pool's reset.
        if record.info.pop(_HOLDS_WRITERS_LOCK, False):
            writers.release()


def _begin_on_driver(connection: Any, statement: str) -> None:
    """Run ``BEGIN ...`` on the driver's connection itself, as ``_end`` ends it: through SQLAlchemy's
    execution machinery the statement cost more than the SELECT of a GET by id it opens (measured 25-40 µs
    of a unit of work's ~55 µs around the SELECT). Failures are SQLAlchemy's errors as before."""
    try:
        connection.connection.driver_connection.execute(statement)
    except sqlite3.Error as error:
        raise sqlalchemy.exc.DBAPIError.instance(statement, None, error, sqlite3.Error) from error


# Set in a connection's info while its transaction holds the process's SQLite writers lock.
_HOLDS_WRITERS_LOCK = "provisio_holds_writers_lock"
SQLITE_BUSY_TIMEOUT_S = 30  # as PRAGMA busy_timeout and the driver's timeout


# Execution option that marks a read-only unit of work (see _on_begin).
READ_ONLY_OPTION = "provisio_read_only"


def read_only_engine(engine: Engine) -> Engine:
    """``engine`` for transactions that only read: same pool, begins without the SQLite write lock."""
    return engine.execution_options(**{READ_ONLY_OPTION: True})


def driver_read_checkout(engine: Engine) -> Callable[[], Any]:
    """A pooled DB-API connection with a read-only transaction begun as ``read_only_engine`` begins one
    (SQLite: ``BEGIN DEFERRED``; PostgreSQL: the driver's implicit BEGIN at the first statement), for
    ``common.uow.DriverReadUnitOfWork``. The pool's events run as for any checkout (the idle ping)."""
    sqlite = engine.dialect.name == "sqlite"

    def checkout() -> Any:
        connection = engine.raw_connection()
        if sqlite:
            try:
                connection.dbapi_connection.execute("BEGIN DEFERRED")  # type: ignore[union-attr]
            except BaseException as error:
                connection.close()
                if isinstance(error, sqlite3.Error):
                    raise sqlalchemy.exc.DBAPIError.instance("BEGIN DEFERRED", None, error, sqlite3.Error) from error
                raise
        return connection

    return checkout


def make_session_factory(engine: Engine, *, read_only: bool = False) -> sessionmaker[Session]:
    """Sessions on ``engine``; ``read_only`` ones share its pool but begin without the SQLite write lock."""
    bind = read_only_engine(engine) if read_only else engine
    # expire_on_commit=False: use cases return plain data built after commit without reloading rows.
    return sessionmaker(bind=bind, expire_on_commit=False, autobegin=False)
