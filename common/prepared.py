"""``PreparedSelect``: a Core SELECT run on the DB-API cursor of a unit of work, for the hottest reads.

A GET by id is one SELECT; run through SQLAlchemy's ``Connection.execute`` (statement cache lookup,
execution context, events, result object) it cost more CPU than the database's own work (measured on
SQLite: about 60 µs of a unit of work's ~110 µs). The statement is compiled once per dialect, as
SQLAlchemy's cache would compile it, and run on the driver's cursor; the values are converted by the
columns' own result processors (JSON documents, UTC datetimes), exactly as SQLAlchemy converts them, and
given as plain tuples in the statement's column order. Driver errors become SQLAlchemy's errors
(``DBAPIError.instance``: ``OperationalError`` and the rest), and a lost connection is dropped from the
pool, as ``Connection.execute`` does. ``before_cursor_execute`` / ``after_cursor_execute`` listeners (a
statement log, tracing) see each statement, called as SQLAlchemy calls them for cursor-level executions
(no execution context); statement-level ``before_execute`` ones are not called.

The units of work (``common.uow``) give the cursor: ``cursor()`` and ``dialect``.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import sqlalchemy.exc
from sqlalchemy import Select
from sqlalchemy.engine import Dialect


class DriverReads(Protocol):
    """What a unit of work gives a ``PreparedSelect``: its transaction's DB-API cursor and dialect."""

    @property
    def dialect(self) -> Dialect: ...

    def cursor(self) -> Any: ...

    def invalidate(self, error: BaseException) -> None: ...

    @property
    def connection(self) -> Any: ...  # SQLAlchemy's, for a statement it must render per execution

    @property
    def observer(self) -> Any: ...  # the Connection whose cursor-execution listeners to call, or None


@dataclass(frozen=True)
class _Compiled:
    driver_ready: bool  # False for a statement SQLAlchemy rewrites per execution (an expanding IN list)
    sql: str
    positional_names: tuple[str, ...] | None  # the parameters' order for a positional paramstyle (SQLite's ?)
    bind_processors: Mapping[str, Any]
    construct_params: Callable[..., Any]  # the statement's own (checks that every required value is given)
    result_processors: tuple[Callable[[Any], Any] | None, ...]
    _converting: tuple[tuple[int, Callable[[Any], Any]], ...] = ()  # (position, processor) of those with one

    def __post_init__(self) -> None:
        converting = tuple((i, p) for i, p in enumerate(self.result_processors) if p is not None)
        object.__setattr__(self, "_converting", converting)

    def arguments(self, params: Mapping[str, Any]) -> Sequence[Any] | dict[str, Any]:
        values: dict[str, Any] = dict(self.construct_params(params))
        for name, process in self.bind_processors.items():
            if name in values:
                values[name] = process(values[name])
        if self.positional_names is not None:
            return [values[name] for name in self.positional_names]
        return values

    def row(self, values: Sequence[Any]) -> tuple[Any, ...]:
        if len(values) != len(self.result_processors):
            raise ValueError(f"{len(values)} values for {len(self.result_processors)} selected columns")
        converted = list(values)
        for index, process in self.converting:
            if converted[index] is not None:
                converted[index] = process(converted[index])
        return tuple(converted)

    @property
    def converting(self) -> tuple[tuple[int, Callable[[Any], Any]], ...]:
        return self._converting


def observes_cursor_executions(dispatch: Any) -> bool:
    """True if ``dispatch`` (a Connection's or an Engine's) has cursor-execution listeners."""
    return bool(dispatch.before_cursor_execute or dispatch.after_cursor_execute)


class PreparedSelect:
    def __init__(self, statement: Select[Any]) -> None:
        self._statement = statement
        self._compiled: weakref.WeakKeyDictionary[Dialect, _Compiled] = weakref.WeakKeyDictionary()

    def _for(self, dialect: Dialect) -> _Compiled:
        found = self._compiled.get(dialect)
        if found is None:
            compiled = self._statement.compile(dialect=dialect)
            found = _Compiled(
                driver_ready=not (compiled.post_compile_params or compiled.literal_execute_params),
                sql=compiled.string,
                positional_names=tuple(compiled.positiontup or ()) if compiled.positional else None,
                bind_processors=dict(compiled._bind_processors),
                construct_params=compiled.construct_params,
                result_processors=tuple(
                    column.type._cached_result_processor(dialect, None) for column in self._statement.selected_columns
                ),
            )
            self._compiled[dialect] = found
        return found

    def first(self, reads: DriverReads, params: Mapping[str, Any]) -> tuple[Any, ...] | None:
        """The first row (None if there is none), its values converted as SQLAlchemy converts them."""
        rows = self._fetch(reads, params, one=True)
        return rows[0] if rows else None

    def all(self, reads: DriverReads, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Every row, values converted as SQLAlchemy converts them."""
        return self._fetch(reads, params, one=False)

    def scalar(self, reads: DriverReads, params: Mapping[str, Any]) -> Any:
        """The first column of the first row (None if there is none)."""
        row = self.first(reads, params)
        return None if row is None else row[0]

    def _fetch(self, reads: DriverReads, params: Mapping[str, Any], *, one: bool) -> list[tuple[Any, ...]]:
        compiled = self._for(reads.dialect)
        if not compiled.driver_ready:  # SQLAlchemy renders it per execution: its own execute, on its Connection
            result = reads.connection.execute(self._statement, dict(params))
            return [tuple(row) for row in ([result.first()] if one else result.all()) if row is not None]
        arguments: Any = compiled.arguments(params)
        sql = compiled.sql
        cursor = reads.cursor()
        observer = reads.observer
        try:
            if observer is not None:  # listeners of cursor executions see this one, as SQLAlchemy shows them
                for listener in observer.dispatch.before_cursor_execute:
                    sql, arguments = listener(observer, cursor, sql, arguments, None, False)
            cursor.execute(sql, arguments)
            rows = [cursor.fetchone()] if one else cursor.fetchall()
            if observer is not None:
                for listener in observer.dispatch.after_cursor_execute:
                    listener(observer, cursor, sql, arguments, None, False)
        except reads.dialect.loaded_dbapi.Error as error:
            if reads.dialect.is_disconnect(error, None, cursor):
                reads.invalidate(error)
            raise sqlalchemy.exc.DBAPIError.instance(
                sql, arguments, error, reads.dialect.loaded_dbapi.Error, dialect=reads.dialect
            ) from error
        finally:
            cursor.close()
        return [compiled.row(row) for row in rows if row is not None]


# id(statement) -> (statement, its PreparedSelect): statements kept per query shape elsewhere
# (``common.tmf.ListStatements``) get one prepared form each; the statement is kept so its id is not reused.
_PREPARED_LIMIT = 1024
_prepared: dict[int, tuple[Select[Any], PreparedSelect]] = {}
_prepared_lock = threading.Lock()


def prepared(statement: Select[Any]) -> PreparedSelect:
    """The ``PreparedSelect`` of ``statement``, made once per statement object."""
    found = _prepared.get(id(statement))
    if found is not None and found[0] is statement:
        return found[1]
    made = PreparedSelect(statement)
    with _prepared_lock:
        if len(_prepared) >= _PREPARED_LIMIT:
            _prepared.clear()
        _prepared[id(statement)] = (statement, made)
    return made
