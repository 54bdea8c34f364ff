"""SQL for parsed TMF630 list queries: WHERE and ORDER BY, identical results on SQLite and PostgreSQL.

Column attributes become plain comparisons (indexable). JSON attributes become one construct,
``JsonPathEquals``, compiled per dialect:

- PostgreSQL: ``document @> '{"resourceCharacteristic": [{"name": "vlan"}]}'`` (one per candidate value,
  ORed) -- JSONB containment, which a GIN ``jsonb_path_ops`` index on the document answers;
- SQLite: ``EXISTS (SELECT 1 FROM json_each(document, '$."resourceCharacteristic"') AS e
  WHERE e.value -> '$."name"' IN ('"vlan"'))`` -- the ``->`` operator yields the member as JSON text, so
  strings, numbers and booleans compare exactly as JSONB does.

Through an array the term holds when any element matches (TMF630); each term is evaluated on its own,
so ``resourceCharacteristic.name=vlan&resourceCharacteristic.value=100`` may match two different elements.
NULLs sort last when ascending and first when descending on both databases (PostgreSQL's default).

``ListStatements`` keeps the count and page statements of a list per query *shape* (which attributes,
operators and how many values; the sort), with the values, offset and limit as bound parameters: a list
asked again with other values reuses the statement objects, so neither they nor SQLAlchemy's cache key
are built again (a tenth of a 100-resource list's CPU time). JSON filters are built per request as before.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import (
    Boolean,
    Integer,
    Select,
    Table,
    and_,
    bindparam,
    exists,
    func,
    literal,
    literal_column,
    or_,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import expression
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.expression import cast

from common.tmf.query import ColumnAttribute, ColumnLike, Filter, JsonAttribute, ListQuery, QuerySpec


class JsonPathEquals(expression.ColumnElement[bool]):
    """True when the JSON value at ``array[*].key`` (or ``key``) of ``document`` equals a candidate."""

    inherit_cache = False  # holds plain Python tuples; compilation is cheap
    type = Boolean()

    def __init__(
        self, document: ColumnLike, array: tuple[str, ...], key: tuple[str, ...], candidates: tuple[Any, ...]
    ) -> None:
        if not key:
            raise ValueError("a JSON filter needs a key path")
        self.document = document
        self.array_path = array
        self.member_path = key  # not ``key``: ColumnElement.key names the column in a SELECT
        self.candidates = candidates


def _nest(path: tuple[str, ...], leaf: Any) -> Any:
    for segment in reversed(path):
        leaf = {segment: leaf}
    return leaf


def containment_document(array: tuple[str, ...], key: tuple[str, ...], candidate: Any) -> Any:
    """The JSONB value that ``@>`` tests for: ``{"a": [{"k": v}]}`` or ``{"a": {"k": v}}``."""
    inner = _nest(key, candidate)
    return _nest(array, [inner]) if array else inner


def sqlite_json_path(path: tuple[str, ...]) -> str:
    """A SQLite JSON path with every member quoted (``@type`` needs it): ``$."a"."b"``."""
    return "$" + "".join('."' + segment.replace('"', '\\"') + '"' for segment in path)


def _json_text(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


@compiles(JsonPathEquals, "postgresql")
def _compile_postgresql(element: JsonPathEquals, compiler: SQLCompiler, **kw: Any) -> str:
    tests = [
        element.document.op("@>")(
            cast(literal(_json_text(containment_document(element.array_path, element.member_path, candidate))), JSONB)
        )
        for candidate in element.candidates
    ]
    # Parenthesised: the compiled text is spliced into the WHERE clause as is, next to ANDs.
    return "(" + compiler.process(or_(*tests), **kw) + ")"


@compiles(JsonPathEquals)
def _compile_default(element: JsonPathEquals, compiler: SQLCompiler, **kw: Any) -> str:
    """SQLite (3.38+ for ``->``)."""
    texts = [literal(_json_text(candidate)) for candidate in element.candidates]
    if not element.array_path:
        value = element.document.op("->")(literal(sqlite_json_path(element.member_path)))
        return "(" + compiler.process(value.in_(texts), **kw) + ")"
    each = func.json_each(element.document, literal(sqlite_json_path(element.array_path))).table_valued("value").alias()
    member = each.c.value.op("->")(literal(sqlite_json_path(element.member_path)))
    return (
        "("
        + compiler.process(exists(select(literal_column("1")).select_from(each).where(member.in_(texts))), **kw)
        + ")"
    )


def filter_clause(term: Filter) -> ColumnElement[bool]:
    attribute = term.attribute
    if isinstance(attribute, JsonAttribute):
        return JsonPathEquals(attribute.document, attribute.array, attribute.key, term.values)
    return _column_clause(attribute, term.operator, term.values)


def _column_clause(attribute: ColumnAttribute, operator: str, values: tuple[Any, ...]) -> ColumnElement[bool]:
    column = attribute.column
    if operator == "eq":
        return column == values[0] if len(values) == 1 else column.in_(values)
    if operator == "ne":
        # "not equal" includes rows without a value, as it does for JSON members that are absent.
        return or_(column.is_(None), column.not_in(values))
    value = values[0]
    comparisons: dict[str, Callable[[Any], ColumnElement[bool]]] = {
        "gt": column.__gt__,
        "gte": column.__ge__,
        "lt": column.__lt__,
        "lte": column.__le__,
    }
    return comparisons[operator](value)


def where_clause(query: ListQuery) -> ColumnElement[bool]:
    """All filters ANDed (``true()`` when there are none)."""
    if not query.filters:
        return true()
    return and_(*(filter_clause(term) for term in query.filters))


def order_by(query: ListQuery, spec: QuerySpec) -> list[ColumnElement[Any]]:
    """The client's sort keys (or the default order), then the tiebreaker so pages never overlap."""
    clauses: list[ColumnElement[Any]] = []
    if query.sort:
        for key in query.sort:
            column = key.attribute.column
            clauses.append(column.desc().nulls_first() if key.descending else column.asc().nulls_last())
    else:
        clauses.extend(column.asc().nulls_last() for column in spec.default_order)
    clauses.append(spec.tiebreaker.asc())
    return clauses


# A query's shape: for each filter its attribute, operator and number of values; the sort. Two queries of one
# shape differ only in bound values.
Shape = tuple[tuple[tuple[str, str, int], ...], tuple[tuple[str, bool], ...]]


def query_shape(query: ListQuery) -> Shape | None:
    """The shape of ``query``, or None when a filter's SQL holds its values (JSON filters)."""
    if any(isinstance(term.attribute, JsonAttribute) for term in query.filters):
        return None
    return (
        tuple((term.attribute.name, term.operator, len(term.values)) for term in query.filters),
        tuple((key.attribute.name, key.descending) for key in query.sort),
    )


def _bound_clause(term: Filter, name: str) -> ColumnElement[bool]:
    """``filter_clause`` with the values as bound parameters ``name`` (one) or ``name`` expanding (a list)."""
    assert isinstance(term.attribute, ColumnAttribute)
    column = term.attribute.column
    if term.operator == "eq":
        return column == bindparam(name) if len(term.values) == 1 else column.in_(bindparam(name, expanding=True))
    if term.operator == "ne":
        return or_(column.is_(None), column.not_in(bindparam(name, expanding=True)))
    return _column_clause(term.attribute, term.operator, (bindparam(name),))


def _bound_values(term: Filter) -> Any:
    return (
        term.values[0]
        if term.operator not in ("eq", "ne") or (term.operator == "eq" and len(term.values) == 1)
        else list(term.values)
    )


class ListStatements:
    """The count and page statements of ``table`` lists, kept per query shape (see the module docstring)."""

    LIMIT = 256  # shapes kept; a client cycling through more only makes us build statements as before

    def __init__(self, table: Table, spec: QuerySpec) -> None:
        self._table = table
        self._spec = spec
        self._cache: dict[Shape, tuple[Select[Any], Select[Any]]] = {}
        self._lock = threading.Lock()

    def for_query(self, query: ListQuery) -> tuple[Select[Any], Select[Any], dict[str, Any]]:
        """(count statement, page statement, their parameters) for ``query``."""
        shape = query_shape(query)
        if shape is None:
            condition = where_clause(query)
            count, page = self._build(condition, query)
            return count, page, {"offset": query.offset, "limit": query.limit}
        params: dict[str, Any] = {f"v{index}": _bound_values(term) for index, term in enumerate(query.filters)}
        params.update(offset=query.offset, limit=query.limit)
        found = self._cache.get(shape)
        if found is None:
            terms = [_bound_clause(term, f"v{index}") for index, term in enumerate(query.filters)]
            found = self._build(and_(*terms) if terms else true(), query)
            with self._lock:
                if len(self._cache) >= self.LIMIT:
                    self._cache.clear()
                self._cache[shape] = found
        return found[0], found[1], params

    def _build(self, condition: ColumnElement[bool], query: ListQuery) -> tuple[Select[Any], Select[Any]]:
        count = select(func.count()).select_from(self._table).where(condition)
        page = (
            select(self._table)
            .where(condition)
            .order_by(*order_by(query, self._spec))
            .offset(bindparam("offset", type_=Integer))
            .limit(bindparam("limit", type_=Integer))
        )
        return count, page
