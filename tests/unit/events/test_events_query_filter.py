"""The hub query filter (TMF630 Part 1 notifications + filtering), evaluated on TMF event payloads."""

from __future__ import annotations

from typing import Any

import pytest

from common.events import InvalidEventQuery, parse_query

TMF639_TYPES = frozenset(
    {"ResourceCreateEvent", "ResourceAttributeValueChangeEvent", "ResourceStateChangeEvent", "ResourceDeleteEvent"}
)


def event(event_type: str = "ResourceCreateEvent", **resource: Any) -> dict[str, Any]:
    return {
        "eventId": "e-1",
        "eventTime": "2026-11-29T10:00:00.000Z",
        "eventType": event_type,
        "event": {"resource": {"id": "r-1", "resourceStatus": "available", **resource}},
    }


def test_empty_query_matches_every_event() -> None:
    for query in (None, "", "   "):
        assert parse_query(query).matches(event())


def test_event_type_matches_only_that_type() -> None:
    query = parse_query("eventType=ResourceCreateEvent")
    assert query.matches(event("ResourceCreateEvent"))
    assert not query.matches(event("ResourceDeleteEvent"))


def test_comma_separated_values_match_any_of_them() -> None:
    query = parse_query("eventType=ResourceStateChangeEvent,ResourceDeleteEvent")
    assert query.matches(event("ResourceStateChangeEvent"))
    assert query.matches(event("ResourceDeleteEvent"))
    assert not query.matches(event("ResourceCreateEvent"))


def test_attribute_condition_on_the_event_resource() -> None:
    query = parse_query("event.resource.resourceStatus=available")
    assert query.matches(event(resourceStatus="available"))
    assert not query.matches(event(resourceStatus="reserved"))
    assert not query.matches({"eventType": "ResourceCreateEvent", "event": {"resource": {}}})


def test_terms_joined_by_ampersand_must_all_hold() -> None:
    query = parse_query("eventType=ResourceStateChangeEvent&event.resource.resourceStatus=available")
    assert query.matches(event("ResourceStateChangeEvent", resourceStatus="available"))
    assert not query.matches(event("ResourceStateChangeEvent", resourceStatus="reserved"))
    assert not query.matches(event("ResourceCreateEvent", resourceStatus="available"))


def test_whitespace_around_names_and_values_is_ignored_as_in_tmf630_examples() -> None:
    assert parse_query("eventType = ResourceCreateEvent").matches(event())
    assert parse_query("?eventType=ResourceCreateEvent").matches(event())


def test_path_through_a_list_matches_when_any_element_matches() -> None:
    resource: dict[str, Any] = {
        "resourceCharacteristic": [{"name": "vlan", "value": 100}, {"name": "mtu", "value": 9000}]
    }
    assert parse_query("event.resource.resourceCharacteristic.name=mtu").matches(event(**resource))
    assert parse_query("event.resource.resourceCharacteristic.value=9000").matches(event(**resource))
    assert not parse_query("event.resource.resourceCharacteristic.name=speed").matches(event(**resource))


def test_comparison_operators_compare_numbers_and_iso_dates() -> None:
    item = event(capacity=10)
    assert parse_query("event.resource.capacity.gt=9").matches(item)
    assert parse_query("event.resource.capacity.gte=10").matches(item)
    assert not parse_query("event.resource.capacity.lt=10").matches(item)
    assert parse_query("event.resource.capacity.lte=10").matches(item)
    assert parse_query("eventTime.gte=2026-11-29T00:00:00Z").matches(item)
    assert not parse_query("eventTime.lt=2026-11-29T00:00:00Z").matches(item)


def test_ne_holds_when_no_value_equals() -> None:
    assert parse_query("event.resource.resourceStatus.ne=reserved").matches(event())
    assert not parse_query("event.resource.resourceStatus.ne=available,reserved").matches(event())


def test_booleans_and_percent_escapes_and_plus_signs() -> None:
    item = event(isBundle=True, name="+442079460001")
    assert parse_query("event.resource.isBundle=true").matches(item)
    assert not parse_query("event.resource.isBundle=false").matches(item)
    assert parse_query("event.resource.name=+442079460001").matches(item)
    assert parse_query("event.resource.name=%2B442079460001").matches(item)


@pytest.mark.parametrize(
    "query",
    [
        "eventType",  # no "="
        "=ResourceCreateEvent",  # no name
        "eventType=",  # no value
        "eventType=A,,B",  # empty alternative
        "resourceStatus=available",  # not an event attribute
        "event=x",  # "event" alone
        "event..resource=x",  # empty path segment
        "event.resource.na me=x",  # not an attribute name
    ],
)
def test_malformed_query_is_rejected_at_parse_time(query: str) -> None:
    with pytest.raises(InvalidEventQuery) as raised:
        parse_query(query)
    assert raised.value.code == "INVALID_QUERY"


def test_unknown_event_type_for_the_api_is_rejected() -> None:
    parse_query("eventType=ResourceCreateEvent", TMF639_TYPES)
    with pytest.raises(InvalidEventQuery, match="ServiceCreateEvent"):
        parse_query("eventType=ResourceCreateEvent,ServiceCreateEvent", TMF639_TYPES)


def test_event_types_reports_what_the_filter_admits() -> None:
    assert parse_query("").event_types is None
    assert parse_query("eventType=A,B&eventType=B,C").event_types == frozenset({"B"})


def test_paths_are_checked_only_against_a_given_schema() -> None:
    from common.events import InvalidEventQuery, event_members
    from common.tmf import MemberTree

    schema = event_members({"resource": MemberTree.of(name=None, capacity=None)})
    assert parse_query("event.resource.capacity.gt=9", schema=schema).terms
    with pytest.raises(InvalidEventQuery, match="'colour'"):
        parse_query("event.resource.colour=red", schema=schema)
    with pytest.raises(InvalidEventQuery, match="Operator 'like' is not supported"):
        parse_query("event.resource.name.like=x", schema=schema)
    with pytest.raises(InvalidEventQuery, match="'eventTyp'"):
        parse_query("eventTyp=ResourceCreateEvent", schema=schema)


@pytest.mark.parametrize("query", ["event.resource.name=%ZZ", "event.resource.name=a%", "eventType=%FF"])
def test_broken_percent_escape_in_a_hub_query_is_refused(query: str) -> None:
    from common.events import InvalidEventQuery

    with pytest.raises(InvalidEventQuery, match="percent-escape"):
        parse_query(query)


def test_good_percent_escapes_in_a_hub_query_are_decoded() -> None:
    assert parse_query("event.resource.name=j%C3%BCrgen").terms[0].values == ("jürgen",)
