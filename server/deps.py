"""What handlers and use cases get from the composition root: the unit of work and the settings.

The app factory calls ``configure()`` once per process (tests once per app). Handlers call ``uow()``
to hand a transaction to a use case; they never build engines or sessions themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

from common.prepared import observes_cursor_executions
from common.uow import DriverReadUnitOfWork, ReadUnitOfWork, UnitOfWork
from server.db import driver_read_checkout, make_session_factory, read_only_engine
from server.settings import Settings

if TYPE_CHECKING:
    from server.auth.state import AuthState


@dataclass
class Container:
    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    auth: AuthState | None = None  # the app's authentication state (server.auth); None in workers
    read_only_session_factory: sessionmaker[Session] = field(init=False)
    read_only_connect: Callable[[], Connection] = field(init=False)
    driver_read_checkout: Callable[[], Any] = field(init=False)

    def __post_init__(self) -> None:
        self.read_only_session_factory = make_session_factory(self.engine, read_only=True)
        self.read_only_connect = read_only_engine(self.engine).connect
        self.driver_read_checkout = driver_read_checkout(self.engine)


_container: Container | None = None


def configure(container: Container) -> None:
    global _container
    _container = container


def container() -> Container:
    if _container is None:
        raise RuntimeError("server.deps.configure() was not called: build the app with server.app.create_app()")
    return _container


def uow(*, read_only: bool = False) -> UnitOfWork:
    """A fresh unit of work on the configured database. ``read_only`` for use cases that only read: on
    SQLite they then do not queue behind writers for the write lock."""
    factory = container().read_only_session_factory if read_only else container().session_factory
    return UnitOfWork(factory)


def read_uow() -> ReadUnitOfWork:
    """A fresh read-only unit of work without an ORM session, for use cases that run Core reads only
    (``common.uow.ReadUnitOfWork``); like ``uow(read_only=True)`` it takes no SQLite write lock."""
    return ReadUnitOfWork(container().read_only_connect)


def driver_read_uow() -> DriverReadUnitOfWork | ReadUnitOfWork:
    """A fresh read-only unit of work on a pooled DB-API connection itself, for use cases that read only
    through ``common.prepared.PreparedSelect`` (``common.uow.DriverReadUnitOfWork``); no SQLite write lock.
    While something listens to the engine's cursor executions (a statement log, tracing), a ``read_uow()``
    instead, whose Connection those listeners are shown."""
    configured = container()
    if observes_cursor_executions(configured.engine.dispatch):
        return ReadUnitOfWork(configured.read_only_connect)
    return DriverReadUnitOfWork(configured.driver_read_checkout, configured.engine.dialect)
