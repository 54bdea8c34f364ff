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

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from types import TracebackType
from typing import Protocol

from sqlalchemy import Connection
from sqlalchemy.orm import Session


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


# What a read use case accepts: either unit of work, it only uses ``connection``.
Reads = UnitOfWork | ReadUnitOfWork
