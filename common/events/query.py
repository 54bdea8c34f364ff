"""The hub ``query`` filter: which events a listener wants (TMF630 Part 1, "Notifications" and "Filtering").

A query is what a client would put after ``?`` on a list request, applied to the *event*:

    eventType=ResourceCreateEvent
    eventType=ResourceStateChangeEvent,ResourceDeleteEvent          (comma: any of these values)
    eventType=ResourceStateChangeEvent&event.resource.resourceStatus=available   (&: all terms)
    event.resource.resourceCharacteristic.name=vlan                 (a path through a list: any element)
    eventTime.gte=2026-01-01T00:00:00Z                              (.gt .gte .lt .lte .eq .ne)

Whitespace around names and values is ignored (TMF630's own examples write ``eventType = X``), and
percent-escapes are decoded as in a list query (``+`` stays a plus: E.164 numbers; ``%ZZ`` is a 400).
The query is parsed when the listener registers, so a malformed one is a 400 then, never a silent drop
at delivery time.

Each API registers the schema of its events' payload (``register_event_schema``: TMF639's is
``{"resource": <the served Resource schemas>}``), and the hub checks every path against it: a member the
event cannot have (``event.resource.bogus``) or an operator TMF630 does not define
(``event.resource.name.like``) is a 400 naming it, not a listener that silently never matches.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from common.errors import InvalidInput
from common.tmf.members import MemberTree
from common.tmf.query import percent_decode

# Attributes of a TMF688 Event (plus fieldPath, which TMF639's AttributeValueChange event adds).
EVENT_ATTRIBUTES = frozenset(
    {
        "eventId",
        "eventTime",
        "eventType",
        "correlationId",
        "domain",
        "title",
        "description",
        "priority",
        "timeOcurred",
        "fieldPath",
        "event",
        "@type",
        "@baseType",
    }
)
OPERATOR_ORDER = ("eq", "ne", "gt", "gte", "lt", "lte")  # as TMF630 lists them
OPERATORS = frozenset(OPERATOR_ORDER)
_SEGMENT = re.compile(r"^[A-Za-z_@][A-Za-z0-9_@\-]*$")


class InvalidEventQuery(InvalidInput):
    code = "INVALID_QUERY"


# API name -> the members of its events (TMF688 attributes, and ``event`` -> the payload's entities).
_EVENT_SCHEMAS: dict[str, MemberTree] = {}


def event_members(payload: dict[str, MemberTree]) -> MemberTree:
    """The schema of a TMF688 event whose ``event`` member holds ``payload`` (``{"resource": ...}``)."""
    attributes: dict[str, MemberTree | None] = {name: None for name in EVENT_ATTRIBUTES if name != "event"}
    return MemberTree.of(**attributes, event=MemberTree(members=dict(payload)))


def register_event_schema(api: str, payload: dict[str, MemberTree]) -> None:
    """Declare what the events ``api`` publishes carry under ``event`` (e.g. TMF639: ``resource``); a
    second call adds entities (an API whose events carry several)."""
    previous = _EVENT_SCHEMAS.get(api)
    schema = event_members(payload)
    _EVENT_SCHEMAS[api] = schema if previous is None else previous.union(schema)


def event_schema(api: str) -> MemberTree | None:
    """The registered schema of ``api``'s events, or None when it registered none (paths unchecked)."""
    return _EVENT_SCHEMAS.get(api)


@dataclass(frozen=True)
class Term:
    """``path[.operator]=value[,value...]``; the term holds when any value matches."""

    path: tuple[str, ...]
    operator: str
    values: tuple[str, ...]

    def matches(self, event: dict[str, Any]) -> bool:
        found = list(_resolve(event, self.path))
        if self.operator == "ne":
            # "not equal" holds when no value found equals any of the given values.
            return not any(_equals(item, value) for item in found for value in self.values)
        return any(_compare(item, self.operator, value) for item in found for value in self.values)


@dataclass(frozen=True)
class EventFilter:
    terms: tuple[Term, ...] = ()

    def matches(self, event: dict[str, Any]) -> bool:
        return all(term.matches(event) for term in self.terms)

    @property
    def event_types(self) -> frozenset[str] | None:
        """The event types the filter admits, or None when it does not restrict the type."""
        allowed: frozenset[str] | None = None
        for term in self.terms:
            if term.path == ("eventType",) and term.operator == "eq":
                values = frozenset(term.values)
                allowed = values if allowed is None else allowed & values
        return allowed


MATCH_ALL = EventFilter()


@lru_cache(maxsize=1024)
def parse_query(
    query: str | None, known_event_types: frozenset[str] | None = None, schema: MemberTree | None = None
) -> EventFilter:
    """Parse a hub query; raise ``InvalidEventQuery`` (400) if it is malformed.

    ``known_event_types``, when given, are the event types the API publishes: asking for another one is
    a mistake the client wants to hear about now rather than wait forever for events that never come.
    ``schema``, when given (``event_schema(api)``), is what those events contain: every path must be in it.
    """
    text = (query or "").strip().lstrip("?").strip()
    if not text:
        return MATCH_ALL
    terms = tuple(_parse_term(part) for part in text.split("&") if part.strip())
    if schema is not None:
        for term in terms:
            _check_path(term, schema)
    if known_event_types is not None:
        for term in terms:
            if term.path == ("eventType",):
                unknown = sorted(set(term.values) - known_event_types)
                if unknown:
                    published = ", ".join(sorted(known_event_types))
                    raise InvalidEventQuery(f"Unknown eventType {', '.join(unknown)}; this hub publishes {published}.")
    return EventFilter(terms)


def _parse_term(part: str) -> Term:
    name, separator, raw_values = part.partition("=")
    name = _decoded(name.strip())
    if not separator or not name:
        raise InvalidEventQuery(f"Query term {part.strip()!r} is not of the form name=value.")
    segments = name.split(".")
    operator = "eq"
    if len(segments) > 1 and segments[-1] in OPERATORS:
        operator = segments.pop()
    for segment in segments:
        if not _SEGMENT.match(segment):
            raise InvalidEventQuery(f"Query attribute {name!r} is not a dotted attribute path.")
    if segments[0] not in EVENT_ATTRIBUTES:
        raise InvalidEventQuery(
            f"Query attribute {segments[0]!r} is not an event attribute; "
            f"filter on {', '.join(sorted(EVENT_ATTRIBUTES))} (e.g. event.resource.resourceStatus)."
        )
    if segments == ["event"]:
        raise InvalidEventQuery("Query attribute 'event' needs a path below it, e.g. event.resource.name.")
    values = tuple(_decoded(value.strip()) for value in raw_values.split(","))
    if not values or any(value == "" for value in values):
        raise InvalidEventQuery(f"Query term {part.strip()!r} has an empty value.")
    return Term(path=tuple(segments), operator=operator, values=values)


def _decoded(text: str) -> str:
    """Percent-decoded as a list query is (``common.tmf.percent_decode``): ``%ZZ`` is a 400, not text."""
    try:
        return percent_decode(text)
    except InvalidInput as error:
        raise InvalidEventQuery(error.message) from None


def _check_path(term: Term, schema: MemberTree) -> None:
    dotted = ".".join(term.path)
    found = schema.unknown_prefix(term.path)
    if found is None:
        return
    prefix, node = found
    if len(prefix) == len(term.path) - 1 and node.is_leaf and len(prefix) > 1:
        # ``event.resource.name.like``: a real attribute followed by an operator TMF630 does not define.
        raise InvalidEventQuery(
            f"Operator {term.path[-1]!r} is not supported in {dotted!r}; use {', '.join(OPERATOR_ORDER)}."
        )
    raise InvalidEventQuery(str(schema.problem(dotted, what="query attribute")))


def _resolve(node: Any, path: tuple[str, ...]) -> Iterator[Any]:
    """Every value at ``path``; a list on the way fans out (TMF630: match if any element matches)."""
    if isinstance(node, list):
        for item in node:
            yield from _resolve(item, path)
        return
    if not path:
        yield node
        return
    if isinstance(node, dict) and path[0] in node:
        yield from _resolve(node[path[0]], path[1:])


def _equals(found: Any, wanted: str) -> bool:
    if isinstance(found, bool):
        return wanted.lower() == ("true" if found else "false")
    if isinstance(found, int | float):
        number = _as_number(wanted)
        return number is not None and float(found) == number
    return isinstance(found, str) and found == wanted


def _compare(found: Any, operator: str, wanted: str) -> bool:
    if operator == "eq":
        return _equals(found, wanted)
    if isinstance(found, bool) or found is None or isinstance(found, dict | list):
        return False
    left: Any
    right: Any
    if isinstance(found, int | float):
        number = _as_number(wanted)
        if number is None:
            return False
        left, right = float(found), number
    else:
        # Strings (ISO 8601 date-times in UTC compare correctly as text).
        left, right = str(found), wanted
    if operator == "gt":
        return bool(left > right)
    if operator == "gte":
        return bool(left >= right)
    if operator == "lt":
        return bool(left < right)
    return bool(left <= right)  # lte


def _as_number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None
