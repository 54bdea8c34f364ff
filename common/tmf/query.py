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

One behaviour in every API, because every list goes through ``parse_list_query`` (and every retrieve
through ``parse_item_query``): an unknown filter attribute, operator, sort key or ``fields`` member is a
400 naming it (``fields`` members are checked against the type's schema, ``QuerySpec.members``, so dotted
members such as ``resourceCharacteristic.name`` are fine and ``bogus`` is not); a single-valued parameter
(``fields``, ``offset``, ``limit``, ``sort``) given twice is a 400, not "last wins"; a broken
percent-escape (``%ZZ``) or escapes that are not UTF-8 are a 400 (RFC 3986 §2.1), never read literally.

The raw query string is parsed here rather than taken from the framework: a ``+`` stays a plus (E.164
numbers, ISO offsets such as ``+01:00``; send a space as ``%20``). Values are percent-decoded *before*
commas split them, because common clients (Python's urlencode, httpx) escape every comma: a value
cannot contain a comma.
"""

from __future__ import annotations

import difflib
import enum
import json
import math
import re
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
    UnknownField,
    UnknownFilterAttribute,
    UnknownSortAttribute,
    UnsupportedOperator,
)
from common.tmf.members import MemberTree
from common.tmf.projection import Fields, parse_fields

# A table column or a mapped attribute (``ResourceRow.name``): both compare, sort and take ``op()``.
ColumnLike = ColumnElement[Any] | QueryableAttribute[Any]

COMPARISONS = ("gt", "gte", "lt", "lte")
OPERATORS = ("eq", "ne", *COMPARISONS)
RESERVED_PARAMETERS = frozenset({"fields", "offset", "limit", "sort"})
# A broken percent-escape: a '%' not followed by two hex digits (RFC 3986 §2.1).
_INTEGER = re.compile(r"[+-]?[0-9]+")
_BROKEN_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")


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
    # The members of the listed type's schema (``common.tmf.members.schema_members``): what ``fields``
    # may name. Required, so that no API can forget to check ``fields``.
    members: MemberTree = field(kw_only=True)
    by_name: dict[str, Attribute] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_name", {attribute.name: attribute for attribute in self.attributes})

    def attribute(self, name: str) -> Attribute:
        try:
            return self.by_name[name]
        except KeyError:
            pass
        head, _, tail = name.rpartition(".")
        if head in self.by_name:  # ``name.like``: a known attribute with an operator we do not offer
            known = self.by_name[head]
            raise UnsupportedOperator(
                f"Operator {tail!r} is not supported on {head!r}; use {', '.join(known.operators)} "
                f"(TMF630: {head}.gt=...); without an operator a filter means eq."
            )
        close = difflib.get_close_matches(name, list(self.by_name), n=3)
        hint = f" Did you mean {', '.join(repr(match) for match in close)}?" if close else ""
        raise UnknownFilterAttribute(
            f"Unknown filter attribute {name!r}.{hint} Filterable attributes: {', '.join(sorted(self.by_name))}."
        )


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
    pairs = _pairs(query_string)
    _refuse_repeated(name for name, _ in pairs)
    for name, raw in pairs:
        if name == "fields":
            fields = parse_checked_fields(raw, spec.members)
        elif name == "offset":
            offset = _non_negative_int("offset", raw)
        elif name == "limit":
            limit = min(_non_negative_int("limit", raw), spec.max_limit)
        elif name == "sort":
            sort = parse_sort(raw, spec)
        else:
            filters.append(parse_filter(name, raw, spec))
    return ListQuery(filters=tuple(filters), sort=sort, offset=offset, limit=limit, fields=fields)


def parse_item_query(query_string: str, members: MemberTree) -> Fields | None:
    """The query of a retrieve (``GET .../{id}``): ``fields`` only, checked as a list's is; any other
    parameter is a 400, as an unknown filter is on a list."""
    pairs = _pairs(query_string)
    _refuse_repeated(name for name, _ in pairs)
    fields: Fields | None = None
    for name, raw in pairs:
        if name != "fields":
            raise InvalidQuery(f"Unknown query parameter {name!r}; a retrieve takes only fields.")
        fields = parse_checked_fields(raw, members)
    return fields


def parse_checked_fields(raw: str, members: MemberTree) -> Fields:
    """``parse_fields`` with every name checked against the type's schema (TMF630 attribute selection:
    a name the type does not have is a mistake, not an empty selection)."""
    fields = parse_fields(raw)
    assert fields is not None  # raw is a string
    for name in _field_names(raw):
        problem = members.problem(name, what="field")
        if problem is not None:
            raise UnknownField(problem)
    for name, selection in fields.tree.items():
        child = members.members.get(name)
        if selection is not None and child is not None:
            _keep_required(selection, child)
    return fields


def _keep_required(selection: dict[str, Any], node: MemberTree) -> None:
    """Inside a selected member, keep what its schema requires (``fields=resourceCharacteristic.value``
    keeps each characteristic's ``name`` too), as ``id``, ``href`` and ``@type`` are kept at the top: a
    projection is still a valid representation of its schema."""
    for name in node.required:
        selection.setdefault(name, None)
    for name, nested in selection.items():
        child = node.members.get(name)
        if nested is not None and child is not None:
            _keep_required(nested, child)


def _field_names(raw: str) -> list[str]:
    names = [name.strip() for name in raw.split(",") if name.strip()]
    return [] if [name.lower() for name in names] == ["none"] else names


def _pairs(query_string: str) -> list[tuple[str, str]]:
    pairs = []
    for part in query_string.split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        pairs.append((percent_decode(name).strip(), percent_decode(value)))
    return pairs


def percent_decode(text: str) -> str:
    """RFC 3986 §2.1 percent-decoding that refuses what it cannot decode: a ``%`` without two hex digits
    (``%ZZ``) or escapes that are not UTF-8 are a 400, instead of being taken literally or replaced."""
    broken = _BROKEN_ESCAPE.search(text)
    if broken is not None:
        excerpt = text[broken.start() : broken.start() + 3]
        raise InvalidQuery(f"Broken percent-escape {excerpt!r} in the query string; a % is followed by two hex digits.")
    try:
        return unquote(text, errors="strict")
    except UnicodeDecodeError:
        raise InvalidQuery(f"The query string {text!r} has percent-escapes that are not UTF-8.") from None


def _refuse_repeated(names: Iterable[str]) -> None:
    """TMF630 gives ``fields``, ``offset``, ``limit`` and ``sort`` one value each: twice is ambiguous."""
    seen: set[str] = set()
    for name in names:
        if name in RESERVED_PARAMETERS:
            if name in seen:
                raise InvalidQuery(f"Parameter {name!r} is given more than once; it takes one value.")
            seen.add(name)


# The largest offset a database accepts (a signed 64-bit integer on SQLite and PostgreSQL alike).
MAX_OFFSET = 2**63 - 1


def _non_negative_int(name: str, raw: str) -> int:
    text = raw.strip()
    if not is_ascii_digits(text):
        raise InvalidQuery(f"{name} must be a non-negative integer, not {text!r}.")
    value = int(text)
    if value > MAX_OFFSET:
        raise InvalidQuery(f"{name} must be at most {MAX_OFFSET}, not {text}.")
    return value


def is_ascii_digits(text: str) -> bool:
    """``0``-``9`` only: ``str.isdigit`` also admits "¹" (which ``int`` refuses) and "٣" (which ``int``
    reads as 3), so neither can be trusted for an id or a count a client sends."""
    return text.isascii() and text.isdigit()


def integer_id(text: str) -> int | None:
    """The id in a path such as ``/auditRecord/{id}`` when the table's key is an integer: ASCII digits
    within a signed 64-bit integer, else ``None`` (the caller answers 404: no such id can exist)."""
    if not is_ascii_digits(text) or int(text) > MAX_OFFSET:
        return None
    return int(text)


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
        # ASCII digits only (int() also reads "٣" as 3), within the signed 64-bit range both databases hold.
        if not _INTEGER.fullmatch(text) or abs(int(text)) > MAX_OFFSET:
            raise InvalidFilterValue(f"{attribute.name} must be a 64-bit integer, not {text!r}.")
        return int(text)
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
        if _is_iso_8601(text):  # a real date-time, but outside years 1-9999 once moved to UTC
            raise InvalidFilterValue(
                f"{name} {text!r} is out of range: in UTC it falls outside the years 1-9999."
            ) from None
        raise InvalidFilterValue(
            f"{name} must be an ISO 8601 date or date-time (2026-01-01, 2026-01-01T10:00:00Z), not {text!r}."
        ) from None


def _is_iso_8601(text: str) -> bool:
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return False
    return True
