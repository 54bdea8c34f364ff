"""Unit of work: one use case, one transaction.

    with uow() as tx:
        resource = tx.session.get(...)
        ...
        tx.commit()

Leaving the block without ``commit()`` or through an exception rolls everything back, so a failed use case
leaves the database as it was. Handlers and repositories never commit; only use cases (service.py) do.

``ReadUnitOfWork`` is the same block for a use case that only runs Core statements (a GET by id): one
connection from the pool and one transaction on it, no ORM ``Session``. The session's begin, connection
bookkeeping, rollback and close were about a quarter of a retrieve's CPU time around a single SELECT.
Both expose ``connection``, so a read use case runs on either.

A request can watch the transactions its use cases run (``watch_transactions``): the hook hears when a
unit of work begins and is asked to write its own rows just before the commit, in the same transaction.
``server.idempotency`` records an ``Idempotency-Key`` that way, so the key and the effect commit together.
With no hook (every request without that header) it costs a context-variable lookup per unit of work.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from types import TracebackType
from typing import Any, Protocol, TypeVar

from sqlalchemy import Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from common.prepared import observes_cursor_executions

T = TypeVar("T")
_logger = logging.getLogger(__name__)


class TransactionHook(Protocol):
    """Watches the units of work of one request (``watch_transactions``)."""

    def began(self, session: Session) -> None:
        """A unit of work opened ``session`` and began its transaction."""

    def before_commit(self, session: Session) -> None:
        """``session`` is about to commit: rows written here commit (or roll back) with the use case's."""


_hook: ContextVar[TransactionHook | None] = ContextVar("provisio_uow_hook", default=None)


@contextmanager
def watch_transactions(hook: TransactionHook) -> Iterator[None]:
    """Every ``UnitOfWork`` entered in this context (and the threads it is copied into) reports to ``hook``."""
    token = _hook.set(hook)
    try:
        yield
    finally:
        _hook.reset(token)


class UnitOfWork:
    def __init__(self, session_factory: Callable[[], Session]) -> None:
        self._session_factory = session_factory
        self._session: Session | None = None
        self.committed = False

    @property
    def session(self) -> Session:
        if self._session is None:
            raise RuntimeError("unit of work used outside its 'with' block")
        return self._session

    def __enter__(self) -> UnitOfWork:
        self._session = self._session_factory()
        self._session.begin()
        hook = _hook.get()
        if hook is not None:
            hook.began(self._session)
        return self

    @property
    def connection(self) -> Connection:
        """The transaction's connection, for Core statements (reads that need no ORM instances)."""
        return self.session.connection()

    # For ``common.prepared.PreparedSelect``: the transaction's DB-API cursor.
    @property
    def dialect(self) -> Dialect:
        return self.connection.dialect

    def cursor(self) -> Any:
        return self.connection.connection.cursor()

    def invalidate(self, error: BaseException) -> None:
        self.connection.invalidate(error)

    @property
    def observer(self) -> Connection | None:
        connection = self.connection
        return connection if observes_cursor_executions(connection.dispatch) else None

    def commit(self) -> None:
        hook = _hook.get()
        if hook is not None:
            hook.before_commit(self.session)
        self.session.commit()
        self.committed = True

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        session = self.session
        try:
            if session.in_transaction():
                session.rollback()
        finally:
            session.close()
            self._session = None


class ReadUnitOfWork:
    """A read-only use case's transaction on one pooled connection, always rolled back (nothing to commit)."""

    def __init__(self, connect: Callable[[], Connection]) -> None:
        self._connect = connect
        self._connection: Connection | None = None

    @property
    def connection(self) -> Connection:
        if self._connection is None:
            raise RuntimeError("unit of work used outside its 'with' block")
        return self._connection

    @property
    def dialect(self) -> Dialect:
        return self.connection.dialect

    def cursor(self) -> Any:
        return self.connection.connection.cursor()

    def invalidate(self, error: BaseException) -> None:
        self.connection.invalidate(error)

    @property
    def observer(self) -> Connection | None:
        connection = self.connection
        return connection if observes_cursor_executions(connection.dispatch) else None

    def __enter__(self) -> ReadUnitOfWork:
        connection = self._connect()
        try:
            connection.begin()
        except BaseException:
            connection.close()
            raise
        self._connection = connection
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        connection = self.connection
        self._connection = None
        # close() rolls the open transaction back and returns the connection to the pool.
        connection.close()


class DriverReadUnitOfWork:
    """A read-only use case's transaction on one pooled DB-API connection itself, for use cases that read
    only through ``common.prepared.PreparedSelect`` (a GET by id): no SQLAlchemy ``Connection`` is made
    around it (its construction, begin, events and close were half of such a unit's CPU time). ``checkout``
    gives the pool's connection with its transaction begun as the engine would begin it
    (``server.db.driver_read_checkout``); leaving the block gives it back to the pool, which rolls it back."""

    def __init__(self, checkout: Callable[[], Any], dialect: Dialect) -> None:
        self._checkout = checkout
        self._connection: Any = None
        self.dialect = dialect
        self.observer = None  # no Connection to show listeners: server.deps gives a ReadUnitOfWork then

    def cursor(self) -> Any:
        if self._connection is None:
            raise RuntimeError("unit of work used outside its 'with' block")
        return self._connection.cursor()

    def invalidate(self, error: BaseException) -> None:
        if self._connection is not None:
            self._connection.invalidate(error)

    @property
    def connection(self) -> Connection:
        raise RuntimeError(
            "a DriverReadUnitOfWork has no SQLAlchemy Connection: run here only statements rendered once "
            "(no expanding IN lists), or use ReadUnitOfWork"
        )

    def __enter__(self) -> DriverReadUnitOfWork:
        self._connection = self._checkout()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        connection, self._connection = self._connection, None
        connection.close()  # back to the pool, which rolls the transaction back (its reset on return)


# What a read use case accepts: any unit of work; reads through ``PreparedSelect`` run on each.
Reads = UnitOfWork | ReadUnitOfWork | DriverReadUnitOfWork


# PostgreSQL aborts one transaction of a deadlock (40P01) or of a serialization failure (40001); running the
# whole use case again is the documented remedy (PostgreSQL 15 manual, §13.2.3 and §13.3.4).
RETRIED_SQLSTATES = frozenset({"40P01", "40001"})
USE_CASE_ATTEMPTS = 5


def retried_on_conflict(attempt: Callable[[], T], *, attempts: int = USE_CASE_ATTEMPTS) -> T:
    """Run ``attempt`` (a whole use case, its own unit of work) again when the database aborted it to break a
    deadlock or a serialization conflict; any other error, or the last attempt's, is raised."""
    for remaining in range(attempts - 1, -1, -1):
        try:
            return attempt()
        except DBAPIError as error:
            if remaining == 0 or getattr(error.orig, "sqlstate", None) not in RETRIED_SQLSTATES:
                raise
            _logger.info("transaction aborted by the database (deadlock or serialization); %d attempts left", remaining)
    raise AssertionError("unreachable")  # pragma: no cover
