"""TMF630 list queries, declared once per API and parsed the same way everywhere.

A context declares which TMF attributes can be filtered and sorted, and where each one lives::

    RESOURCE_QUERY = QuerySpec(
        attributes=(
            column("name", ResourceRow.name),
            column("resourceStatus", ResourceRow.resource_status, kind=enum_of("available", "reserved")),
            column("startOperatingDate", ResourceRow.start_operating_date, kind=DATETIME),
            *json_array(ResourceRow.document, "resourceCharacteristic", "name", "value"),
            *json_object(ResourceRow.document, "resourceSpecification", "id", "name"),
            json_value(ResourceRow.document, "description"),
        ),
        default_order=(ResourceRow.created_at,),
        tiebreaker=ResourceRow.id,
    )

and gets, for free, the parsing of (TMF630 Part 1, "Filtering", "Sorting", "Pagination")::

    ?name=x                              equality
    ?resourceStatus=available,reserved   a comma list means any of the values (OR)
    ?startOperatingDate.gt=2026-01-01    .eq .ne .gt .gte .lt .lte on columns
    ?resourceCharacteristic.name=vlan    a dotted path into the JSON document; through an array it
                                         matches when any element matches
    ?sort=name,-startOperatingDate       ascending, '-' for descending (NULLs last when ascending)
    ?offset=20&limit=10                  paging
    ?fields=name,resourceStatus          attribute selection (see ``projection``)

plus the SQL (``common.tmf.sql``) on SQLite and PostgreSQL. Different parameters are ANDed.

The raw query string is parsed here rather than taken from the framework: a ``+`` stays a plus (E.164
numbers, ISO offsets such as ``+01:00``; send a space as ``%20``). Values are percent-decoded *before*
commas split them, because common clients (Python's urlencode, httpx) escape every comma: a value
cannot contain a comma.
"""

from __future__ import annotations

import enum
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import unquote

from sqlalchemy.orm import QueryableAttribute
from sqlalchemy.sql.elements import ColumnElement

from common import clock
from common.tmf.errors import (
    InvalidFilterValue,
    InvalidQuery,
    UnknownFilterAttribute,
    UnknownSortAttribute,
    UnsupportedOperator,
)
from common.tmf.projection import Fields, parse_fields

# A table column or a mapped attribute (``ResourceRow.name``): both compare, sort and take ``op()``.
ColumnLike = ColumnElement[Any] | QueryableAttribute[Any]

COMPARISONS = ("gt", "gte", "lt", "lte")
OPERATORS = ("eq", "ne", *COMPARISONS)
RESERVED_PARAMETERS = frozenset({"fields", "offset", "limit", "sort"})


class Kind(enum.Enum):
    """How a filter value is read and which operators make sense."""

    STRING = "string"
    DATETIME = "date-time"
    INTEGER = "integer"
    BOOLEAN = "boolean"
    ENUM = "enum"


STRING, DATETIME, INTEGER, BOOLEAN = Kind.STRING, Kind.DATETIME, Kind.INTEGER, Kind.BOOLEAN


@dataclass(frozen=True)
class ColumnAttribute:
    """A TMF attribute stored in its own (indexed) column: every operator, sortable."""

    name: str
    column: ColumnLike
    kind: Kind = Kind.STRING
    choices: tuple[str, ...] = ()
    sortable: bool = True

    @property
    def operators(self) -> tuple[str, ...]:
        if self.kind in (Kind.ENUM, Kind.BOOLEAN):
            return ("eq", "ne")
        return OPERATORS


@dataclass(frozen=True)
class JsonAttribute:
    """A TMF attribute inside the JSON document column.

    ``array`` is the path from the document root to an array (empty when there is none); ``key`` is the
    path from each element (or from the root) to the value. Only equality is offered: it runs as JSONB
    containment on PostgreSQL (GIN-indexable) and as ``json_each`` on SQLite, with the same result.
    """

    name: str
    document: ColumnLike
    array: tuple[str, ...]
    key: tuple[str, ...]
    sortable: bool = False
    operators: tuple[str, ...] = ("eq",)


Attribute = ColumnAttribute | JsonAttribute


def column(name: str, column: ColumnLike, kind: Kind | tuple[Kind, tuple[str, ...]] = Kind.STRING) -> ColumnAttribute:
    """Declare a column attribute; ``kind`` may be ``enum_of(...)``."""
    if isinstance(kind, tuple):
        return ColumnAttribute(name=name, column=column, kind=kind[0], choices=kind[1])
    return ColumnAttribute(name=name, column=column, kind=kind)


def enum_of(*choices: str) -> tuple[Kind, tuple[str, ...]]:
    return (Kind.ENUM, tuple(choices))


def json_array(document: ColumnLike, array: str, *keys: str) -> tuple[JsonAttribute, ...]:
    """``array.key`` for each key (dotted keys reach into nested objects: ``resource.id``)."""
    return tuple(
        JsonAttribute(
            name=f"{array}.{key}", document=document, array=tuple(array.split(".")), key=tuple(key.split("."))
        )
        for key in keys
    )


def json_object(document: ColumnLike, member: str, *keys: str) -> tuple[JsonAttribute, ...]:
    """``member.key`` for each key of a nested object (no array on the way)."""
    return tuple(
        JsonAttribute(name=f"{member}.{key}", document=document, array=(), key=(member, *key.split(".")))
        for key in keys
    )


def json_value(document: ColumnLike, member: str) -> JsonAttribute:
    """A top-level scalar member kept in the document (``description``)."""
    return JsonAttribute(name=member, document=document, array=(), key=(member,))


@dataclass(frozen=True)
class QuerySpec:
    """What a list operation can filter and sort on; see the module docstring."""

    attributes: tuple[Attribute, ...]
    tiebreaker: ColumnLike
    default_order: tuple[ColumnLike, ...] = ()
    default_limit: int = 100
    max_limit: int = 1000
    by_name: dict[str, Attribute] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_name", {attribute.name: attribute for attribute in self.attributes})

    def attribute(self, name: str) -> Attribute:
        try:
            return self.by_name[name]
        except KeyError:
            raise UnknownFilterAttribute(
                f"Unknown filter attribute {name!r}; filterable attributes: {', '.join(sorted(self.by_name))}."
            ) from None


@dataclass(frozen=True)
class Filter:
    """``attribute.operator=value[,value...]``; typed values; the term holds when any value matches
    (``ne``: when none does)."""

    attribute: Attribute
    operator: str
    values: tuple[Any, ...]


@dataclass(frozen=True)
class SortKey:
    attribute: ColumnAttribute
    descending: bool = False


@dataclass(frozen=True)
class ListQuery:
    filters: tuple[Filter, ...] = ()
    sort: tuple[SortKey, ...] = ()
    offset: int = 0
    limit: int = 100
    fields: Fields | None = None


def parse_list_query(query_string: str, spec: QuerySpec) -> ListQuery:
    """Parse a raw query string (``a=1&b.gt=2``) against ``spec``; 400-class errors on anything unknown."""
    filters: list[Filter] = []
    sort: tuple[SortKey, ...] = ()
    offset, limit = 0, spec.default_limit
    fields: Fields | None = None
    for name, raw in _pairs(query_string):
        if name == "fields":
            fields = parse_fields(raw)
        elif name == "offset":
            offset = _non_negative_int("offset", raw)
        elif name == "limit":
            limit = min(_non_negative_int("limit", raw), spec.max_limit)
        elif name == "sort":
            sort = parse_sort(raw, spec)
        else:
            filters.append(parse_filter(name, raw, spec))
    return ListQuery(filters=tuple(filters), sort=sort, offset=offset, limit=limit, fields=fields)


def _pairs(query_string: str) -> Iterable[tuple[str, str]]:
    for part in query_string.split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        yield unquote(name).strip(), unquote(value)


# The largest offset a database accepts (a signed 64-bit integer on SQLite and PostgreSQL alike).
MAX_OFFSET = 2**63 - 1


def _non_negative_int(name: str, raw: str) -> int:
    text = raw.strip()
    # isdigit() alone admits "²" and other digits int() refuses; ASCII digits only.
    if not (text.isascii() and text.isdigit()):
        raise InvalidQuery(f"{name} must be a non-negative integer, not {text!r}.")
    value = int(text)
    if value > MAX_OFFSET:
        raise InvalidQuery(f"{name} must be at most {MAX_OFFSET}, not {text}.")
    return value


def parse_sort(raw: str, spec: QuerySpec) -> tuple[SortKey, ...]:
    keys: list[SortKey] = []
    for item in raw.split(","):
        item = item.strip()
        if not item:
            continue
        descending = item.startswith("-")
        name = item.lstrip("+-").strip()
        attribute = spec.by_name.get(name)
        if not isinstance(attribute, ColumnAttribute) or not attribute.sortable:
            sortable = sorted(a.name for a in spec.attributes if isinstance(a, ColumnAttribute) and a.sortable)
            raise UnknownSortAttribute(f"Cannot sort by {name!r}; sortable attributes: {', '.join(sortable)}.")
        keys.append(SortKey(attribute=attribute, descending=descending))
    return tuple(keys)


def parse_filter(name: str, raw: str, spec: QuerySpec) -> Filter:
    operator = "eq"
    attribute_name = name
    head, _, tail = name.rpartition(".")
    if head and tail in OPERATORS:
        attribute_name, operator = head, tail
    attribute = spec.attribute(attribute_name)
    if operator not in attribute.operators:
        raise UnsupportedOperator(
            f"Operator {operator!r} is not supported on {attribute.name!r}; use {', '.join(attribute.operators)}."
        )
    texts = tuple(value.strip() for value in raw.split(","))
    if any(text == "" for text in texts):
        raise InvalidFilterValue(f"Filter {name!r} has an empty value.")
    if operator in COMPARISONS and len(texts) > 1:
        raise InvalidFilterValue(f"Filter {name!r} compares with one value, not a list.")
    if isinstance(attribute, JsonAttribute):
        return Filter(attribute=attribute, operator=operator, values=json_candidates(texts))
    return Filter(attribute=attribute, operator=operator, values=tuple(_typed(attribute, text) for text in texts))


def json_candidates(texts: Sequence[str]) -> tuple[Any, ...]:
    """The JSON values a query text may stand for: always the string itself, plus the number or boolean it
    spells (``value=100`` matches ``"value": 100`` and ``"value": "100"``), integral numbers normalised."""
    candidates: list[Any] = []
    for text in texts:
        candidates.append(text)
        lowered = text.lower()
        if lowered in ("true", "false"):
            candidates.append(lowered == "true")
            continue
        try:
            number = json.loads(text)
        except ValueError:
            continue
        if isinstance(number, bool) or not isinstance(number, int | float) or not math.isfinite(number):
            continue  # NaN and Infinity are no JSON value a document can hold: match the text only
        candidates.append(int(number) if isinstance(number, float) and number.is_integer() else number)
    return tuple(dict.fromkeys(candidates, None))  # unique, order kept (1 and True collapse: fine)


def _typed(attribute: ColumnAttribute, text: str) -> Any:
    if attribute.kind is Kind.ENUM:
        if text not in attribute.choices:
            raise InvalidFilterValue(
                f"{text!r} is not a valid {attribute.name}; expected one of {', '.join(attribute.choices)}."
            )
        return text
    if attribute.kind is Kind.DATETIME:
        return parse_datetime(attribute.name, text)
    if attribute.kind is Kind.INTEGER:
        try:
            return int(text)
        except ValueError:
            raise InvalidFilterValue(f"{attribute.name} must be an integer, not {text!r}.") from None
    if attribute.kind is Kind.BOOLEAN:
        if text.lower() not in ("true", "false"):
            raise InvalidFilterValue(f"{attribute.name} must be true or false, not {text!r}.")
        return text.lower() == "true"
    return text


def parse_datetime(name: str, text: str) -> datetime:
    """ISO 8601 date-time (a ``Z`` or an offset; none means UTC) or a bare date (midnight UTC)."""
    try:
        return clock.parse_utc(text)
    except ValueError:
        raise InvalidFilterValue(
            f"{name} must be an ISO 8601 date or date-time (2026-01-01, 2026-01-01T10:00:00Z), not {text!r}."
        ) from None
