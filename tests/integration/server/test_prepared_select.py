"""``common.prepared.PreparedSelect`` on every unit of work: the same values as ``Connection.execute``
(JSON documents, UTC datetimes, integers), driver errors as SQLAlchemy's, and the driver unit of work
(``DriverReadUnitOfWork``) giving its connection back ended, on the suite's database (SQLite or PostgreSQL)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy.exc
from sqlalchemy import Engine, Integer, bindparam, column, event, select, table, text

from common.prepared import PreparedSelect
from common.uow import DriverReadUnitOfWork, ReadUnitOfWork, UnitOfWork
from oss.resource_inventory import service
from oss.resource_inventory.models import ResourceRow
from server.db import driver_read_checkout, make_engine, make_session_factory, read_only_engine

_TABLE: Any = ResourceRow.__table__
_BY_ID = select(_TABLE).where(_TABLE.c.id == bindparam("resource_id"))
PREPARED = PreparedSelect(_BY_ID)


@pytest.fixture
def stored(clean_db: Engine) -> str:
    document = {
        "name": "r1",
        "@type": "LogicalResource",
        "startOperatingDate": "2026-01-02T03:04:05.123456Z",
        "resourceCharacteristic": [{"name": "vlan", "value": 12, "valueType": "integer"}],
        "relatedParty": [{"id": "p", "name": "NOC ✓"}],
    }
    return service.create_resource(UnitOfWork(make_session_factory(clean_db)), document).id


def _units(engine: Engine) -> list[Any]:
    return [
        UnitOfWork(make_session_factory(engine, read_only=True)),
        ReadUnitOfWork(read_only_engine(engine).connect),
        DriverReadUnitOfWork(driver_read_checkout(engine), engine.dialect),
    ]


def test_values_are_those_core_reads_on_every_unit_of_work(clean_db: Engine, stored: str) -> None:
    with clean_db.connect() as connection:
        expected = tuple(connection.execute(_BY_ID, {"resource_id": stored}).one())
    assert expected[0] == stored
    for unit in _units(clean_db):
        with unit as tx:
            assert PREPARED.first(tx, {"resource_id": stored}) == expected
            assert PREPARED.first(tx, {"resource_id": "missing"}) is None
    assert clean_db.pool.checkedout() == 0  # type: ignore[attr-defined]


def test_a_missing_value_and_a_driver_error_are_sqlalchemys_errors(clean_db: Engine) -> None:
    unit = DriverReadUnitOfWork(driver_read_checkout(clean_db), clean_db.dialect)
    with unit as tx, pytest.raises(sqlalchemy.exc.InvalidRequestError):
        PREPARED.first(tx, {})
    broken = PreparedSelect(select(column("nope", Integer)).select_from(table("no_such_table")))
    for unit in _units(clean_db):
        with pytest.raises(sqlalchemy.exc.DBAPIError), unit as tx:
            broken.first(tx, {})
    assert clean_db.pool.checkedout() == 0  # type: ignore[attr-defined]


def test_driver_unit_gives_its_connection_back_ended_even_on_error(clean_db: Engine, stored: str) -> None:
    unit = DriverReadUnitOfWork(driver_read_checkout(clean_db), clean_db.dialect)
    with pytest.raises(LookupError), unit as tx:
        assert PREPARED.first(tx, {"resource_id": stored}) is not None
        raise LookupError("the use case failed")
    assert clean_db.pool.checkedout() == 0  # type: ignore[attr-defined]
    with pytest.raises(RuntimeError, match="outside its 'with' block"):
        unit.cursor()
    with make_session_factory(clean_db)() as writer, writer.begin():  # no transaction left open on it
        writer.execute(text("SELECT 1"))


def test_sqlite_driver_unit_reads_while_a_writer_holds_the_write_lock(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'locks.db'}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (n INTEGER)"))
        connection.execute(text("INSERT INTO t VALUES (1)"))
    read_n = PreparedSelect(select(column("n", Integer)).select_from(table("t")))
    seen: list[Any] = []

    def read() -> None:
        with DriverReadUnitOfWork(driver_read_checkout(engine), engine.dialect) as tx:
            seen.append(read_n.first(tx, {}))

    with make_session_factory(engine)() as writer, writer.begin():
        writer.execute(text("UPDATE t SET n = 2"))
        reader = threading.Thread(target=read)
        reader.start()
        reader.join(timeout=5)
        assert not reader.is_alive(), "the driver read unit waited for the write lock"
    assert seen == [(1,)]
    engine.dispose()


def test_cursor_execution_listeners_see_each_statement(clean_db: Engine, stored: str) -> None:
    seen: list[str] = []

    def log(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_rest: Any) -> None:
        seen.append(statement)

    event.listen(clean_db, "before_cursor_execute", log)
    try:
        for unit in _units(clean_db)[:2]:
            with unit as tx:
                assert PREPARED.first(tx, {"resource_id": stored}) is not None
        assert len([statement for statement in seen if "FROM resource" in statement]) == 2
    finally:
        event.remove(clean_db, "before_cursor_execute", log)


def test_a_statement_rendered_per_execution_goes_through_sqlalchemy(clean_db: Engine, stored: str) -> None:
    """An expanding IN list is rendered by SQLAlchemy at each execution: its own execute runs it."""
    by_ids = PreparedSelect(select(_TABLE.c.id).where(_TABLE.c.id.in_(bindparam("ids", expanding=True))))
    for unit in _units(clean_db)[:2]:
        with unit as tx:
            assert by_ids.all(tx, {"ids": [stored, "missing"]}) == [(stored,)]
    with DriverReadUnitOfWork(driver_read_checkout(clean_db), clean_db.dialect) as tx, pytest.raises(RuntimeError):
        by_ids.all(tx, {"ids": [stored]})
