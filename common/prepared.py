"""``PreparedSelect``: a Core SELECT run on the DB-API cursor of a unit of work, for the hottest reads.

A GET by id is one SELECT; run through SQLAlchemy's ``Connection.execute`` (statement cache lookup,
execution context, events, result object) it cost more CPU than the database's own work (measured on
SQLite: about 60 µs of a unit of work's ~110 µs). The statement is compiled once per dialect, as
SQLAlchemy's cache would compile it, and run on the driver's cursor; the values are converted by the
columns' own result processors (JSON documents, UTC datetimes), exactly as SQLAlchemy converts them, and
given as plain tuples in the statement's column order. Driver errors become SQLAlchemy's errors
(``DBAPIError.instance``: ``OperationalError`` and the rest), and a lost connection is dropped from the
pool, as ``Connection.execute`` does.

The units of work (``common.uow``) give the cursor: ``cursor()`` and ``dialect``.
"""

from __future__ import annotations

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


@dataclass(frozen=True)
class _Compiled:
    sql: str
    positional_names: tuple[str, ...] | None  # the parameters' order for a positional paramstyle (SQLite's ?)
    bind_processors: Mapping[str, Any]
    construct_params: Callable[..., Any]  # the statement's own (checks that every required value is given)
    result_processors: tuple[Callable[[Any], Any] | None, ...]

    def arguments(self, params: Mapping[str, Any]) -> Sequence[Any] | dict[str, Any]:
        values: dict[str, Any] = dict(self.construct_params(params))
        for name, process in self.bind_processors.items():
            if name in values:
                values[name] = process(values[name])
        if self.positional_names is not None:
            return [values[name] for name in self.positional_names]
        return values

    def row(self, values: Sequence[Any]) -> tuple[Any, ...]:
        return tuple(
            value if process is None or value is None else process(value)
            for process, value in zip(self.result_processors, values, strict=True)
        )


class PreparedSelect:
    def __init__(self, statement: Select[Any]) -> None:
        self._statement = statement
        self._compiled: weakref.WeakKeyDictionary[Dialect, _Compiled] = weakref.WeakKeyDictionary()

    def _for(self, dialect: Dialect) -> _Compiled:
        found = self._compiled.get(dialect)
        if found is None:
            compiled = self._statement.compile(dialect=dialect)
            found = _Compiled(
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
        compiled = self._for(reads.dialect)
        arguments = compiled.arguments(params)
        cursor = reads.cursor()
        try:
            cursor.execute(compiled.sql, arguments)
            row = cursor.fetchone()
        except reads.dialect.loaded_dbapi.Error as error:
            if reads.dialect.is_disconnect(error, None, cursor):
                reads.invalidate(error)
            raise sqlalchemy.exc.DBAPIError.instance(
                compiled.sql, arguments, error, reads.dialect.loaded_dbapi.Error, dialect=reads.dialect
            ) from error
        finally:
            cursor.close()
        return None if row is None else compiled.row(row)
