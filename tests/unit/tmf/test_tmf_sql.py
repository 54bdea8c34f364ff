"""Filters and sort keys -> SQL, compiled for both dialects and run on SQLite."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Connection, create_engine, insert, select
from sqlalchemy.dialects import postgresql, sqlite

from common.tmf import ListStatements, order_by, parse_list_query, where_clause
from tests.unit.tmf.test_tmf_query import SPEC, THING

PG: Any = postgresql.dialect()  # type: ignore[no-untyped-call]
LITE: Any = sqlite.dialect()

ROWS: list[dict[str, Any]] = [
    {
        "id": "a",
        "name": "alpha",
        "status": "available",
        "size": 1,
        "started": datetime(2026, 1, 1, tzinfo=UTC),
        "doc": {
            "resourceCharacteristic": [{"name": "vlan", "value": 100}, {"name": "mtu", "value": "1500"}],
            "place": {"id": "site-1"},
            "description": "first",
            "resourceRelationship": [{"resource": {"id": "port-1"}}],
        },
    },
    {
        "id": "b",
        "name": "beta",
        "status": "reserved",
        "size": 2,
        "started": datetime(2026, 3, 1, tzinfo=UTC),
        "doc": {"resourceCharacteristic": [{"name": "vlan", "value": "200"}], "place": {"id": "site-2"}},
    },
    {"id": "c", "name": "gamma", "status": None, "size": 3, "started": None, "doc": {}},
]


@pytest.fixture
def db() -> Iterator[Connection]:
    engine = create_engine("sqlite://")
    with engine.begin() as connection:
        THING.create(connection)
        connection.execute(insert(THING), ROWS)
        yield connection


def ids(db: Connection, query_string: str) -> list[str]:
    query = parse_list_query(query_string, SPEC)
    statement = select(THING.c.id).where(where_clause(query)).order_by(*order_by(query, SPEC))
    return list(db.scalars(statement))


@pytest.mark.parametrize(
    ("query_string", "expected"),
    [
        ("", ["a", "b", "c"]),
        ("name=beta", ["b"]),
        ("status=available,reserved", ["a", "b"]),
        ("status.ne=available", ["b", "c"]),
        ("size.gt=1", ["b", "c"]),
        ("size.gte=2&size.lt=3", ["b"]),
        ("startOperatingDate.gt=2026-02-01", ["b"]),
        ("startOperatingDate.lte=2026-01-01T00:00:00Z", ["a"]),
        ("resourceCharacteristic.name=vlan", ["a", "b"]),
        ("resourceCharacteristic.name=mtu", ["a"]),
        ("resourceCharacteristic.value=100", ["a"]),  # a JSON number
        ("resourceCharacteristic.value=200", ["b"]),  # a JSON string
        ("resourceCharacteristic.value=1500,200", ["a", "b"]),
        ("resourceCharacteristic.name=vlan&resourceCharacteristic.value=200", ["b"]),
        ("resourceRelationship.resource.id=port-1", ["a"]),
        ("place.id=site-2", ["b"]),
        ("description=first", ["a"]),
        ("description=nothing", []),
    ],
)
def test_filter_selects_the_expected_rows_on_sqlite(db: Connection, query_string: str, expected: list[str]) -> None:
    assert ids(db, query_string) == expected
    assert listed_ids(db, query_string) == expected  # the same rows from the statements kept per shape
    assert listed_ids(db, query_string) == expected  # and when they are reused


def listed_ids(db: Connection, query_string: str, statements: ListStatements | None = None) -> list[str]:
    """The ids of a page through ``ListStatements`` (count and page), checking the count against an unpaged
    page."""
    statements = statements or LISTS
    query = parse_list_query(query_string, SPEC)
    count, page, params = statements.for_query(query)
    found = [row.id for row in db.execute(page, params)]
    assert db.scalar(count, params) == len(list(db.execute(page, {**params, "offset": 0, "limit": len(ROWS)})))
    return found


LISTS = ListStatements(THING, SPEC)


def test_list_statements_are_reused_for_the_same_shape_with_other_values(db: Connection) -> None:
    statements = ListStatements(THING, SPEC)
    first = statements.for_query(parse_list_query("status=available&size.gt=0&sort=-name", SPEC))
    second = statements.for_query(parse_list_query("status=reserved&size.gt=1&sort=-name&offset=1", SPEC))
    assert first[0] is second[0] and first[1] is second[1]
    assert second[2] == {"v0": "reserved", "v1": 1, "offset": 1, "limit": SPEC.default_limit}
    other = statements.for_query(parse_list_query("status=available,reserved", SPEC))  # two values: another shape
    assert other[1] is not first[1]
    assert listed_ids(db, "status=available,reserved&offset=1&limit=1", statements) == ["b"]


def test_list_statements_with_a_json_filter_are_built_per_query(db: Connection) -> None:
    statements = ListStatements(THING, SPEC)
    first = statements.for_query(parse_list_query("resourceCharacteristic.name=vlan", SPEC))
    second = statements.for_query(parse_list_query("resourceCharacteristic.name=mtu", SPEC))
    assert first[1] is not second[1]  # the JSON filter's SQL holds its values
    assert listed_ids(db, "resourceCharacteristic.name=mtu", statements) == ["a"]


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("sort=-name", ["c", "b", "a"]),
        ("sort=startOperatingDate", ["a", "b", "c"]),  # NULLs last ascending
        ("sort=-startOperatingDate", ["c", "b", "a"]),  # and first descending, as on PostgreSQL
    ],
)
def test_sort_orders_rows_with_nulls_placed_like_postgresql(db: Connection, sort: str, expected: list[str]) -> None:
    assert ids(db, sort) == expected


def _sql(query_string: str, dialect: Any) -> str:
    query = parse_list_query(query_string, SPEC)
    statement = select(THING.c.id).where(where_clause(query))
    return str(statement.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))


def test_json_array_filter_compiles_to_jsonb_containment_on_postgresql() -> None:
    sql = _sql("resourceCharacteristic.value=100", PG)
    assert "thing.doc @> CAST(" in sql
    assert json.dumps({"resourceCharacteristic": [{"value": "100"}]}, separators=(",", ":")) in sql
    assert json.dumps({"resourceCharacteristic": [{"value": 100}]}, separators=(",", ":")) in sql
    assert "AS JSONB)" in sql


def test_json_array_filter_compiles_to_json_each_exists_on_sqlite() -> None:
    sql = _sql("resourceCharacteristic.name=vlan", LITE)
    assert "EXISTS (SELECT 1" in sql
    assert "json_each(thing.doc, '$.\"resourceCharacteristic\"')" in sql
    assert "-> '$.\"name\"'" in sql and "IN ('\"vlan\"')" in sql


def test_json_object_filter_compiles_without_an_array_on_both_dialects() -> None:
    assert '{"place":{"id":"site-1"}}' in _sql("place.id=site-1", PG)
    assert 'thing.doc -> \'$."place"."id"\'' in _sql("place.id=site-1", LITE)


def test_column_filters_are_plain_comparisons_on_both_dialects() -> None:
    for dialect in (PG, LITE):
        sql = _sql("status=available,reserved&size.gt=1", dialect)
        assert "thing.status IN ('available', 'reserved')" in sql
        assert "thing.size > 1" in sql


def test_order_by_ends_with_the_tiebreaker() -> None:
    query = parse_list_query("sort=-name", SPEC)
    rendered = [str(clause.compile(dialect=PG)) for clause in order_by(query, SPEC)]
    assert rendered == ["thing.name DESC NULLS FIRST", "thing.id ASC"]


@pytest.mark.parametrize("dialect", [PG, LITE])
def test_json_filter_is_parenthesised_next_to_other_filters(dialect: Any) -> None:
    sql = _sql("resourceCharacteristic.value=3,4&status=available", dialect)
    where = sql.split("WHERE", 1)[1].strip()
    assert where.startswith("(")
    assert where.endswith("AND thing.status = 'available'")


def test_json_or_list_does_not_swallow_the_next_condition_on_sqlite(db: Connection) -> None:
    assert ids(db, "resourceCharacteristic.value=100,200&status=reserved") == ["b"]
