"""Parsing TMF630 list queries against a declared ``QuerySpec``."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import quote

import pytest
from sqlalchemy import JSON, Column, DateTime, Integer, MetaData, String, Table

from common.tmf import (
    DATETIME,
    INTEGER,
    InvalidFilterValue,
    InvalidQuery,
    JsonAttribute,
    MemberTree,
    QuerySpec,
    UnknownField,
    UnknownFilterAttribute,
    UnknownSortAttribute,
    UnsupportedOperator,
    column,
    enum_of,
    integer_id,
    json_array,
    json_object,
    json_value,
    parse_item_query,
    parse_list_query,
)

THING = Table(
    "thing",
    MetaData(),
    Column("id", String, primary_key=True),
    Column("name", String),
    Column("status", String),
    Column("size", Integer),
    Column("started", DateTime(timezone=True)),
    Column("doc", JSON),
)
SPEC = QuerySpec(
    attributes=(
        column("id", THING.c.id),
        column("name", THING.c.name),
        column("status", THING.c.status, enum_of("available", "reserved")),
        column("size", THING.c.size, INTEGER),
        column("startOperatingDate", THING.c.started, DATETIME),
        *json_array(THING.c.doc, "resourceCharacteristic", "name", "value"),
        *json_array(THING.c.doc, "resourceRelationship", "resource.id"),
        *json_object(THING.c.doc, "place", "id"),
        json_value(THING.c.doc, "description"),
    ),
    tiebreaker=THING.c.id,
    default_limit=10,
    max_limit=50,
    members=MemberTree.of(
        id=None,
        href=None,
        name=None,
        status=None,
        size=None,
        startOperatingDate=None,
        description=None,
        resourceCharacteristic=MemberTree.of(name=None, value=MemberTree(open=True)),
        place=MemberTree.of(id=None, name=None),
    ),
)


def test_empty_query_gives_defaults() -> None:
    query = parse_list_query("", SPEC)
    assert (query.filters, query.sort, query.offset, query.limit, query.fields) == ((), (), 0, 10, None)


def test_paging_parameters_are_read_and_limit_is_capped() -> None:
    query = parse_list_query("offset=20&limit=500", SPEC)
    assert (query.offset, query.limit) == (20, 50)


@pytest.mark.parametrize("raw", ["offset=-1", "limit=abc", "offset="])
def test_bad_paging_value_is_rejected(raw: str) -> None:
    with pytest.raises(InvalidQuery):
        parse_list_query(raw, SPEC)


def test_equality_with_comma_list_means_any_value() -> None:
    (term,) = parse_list_query("status=available,reserved", SPEC).filters
    assert (term.attribute.name, term.operator, term.values) == ("status", "eq", ("available", "reserved"))


def test_operator_suffix_is_split_from_the_attribute() -> None:
    (term,) = parse_list_query("startOperatingDate.gte=2026-01-01", SPEC).filters
    assert term.operator == "gte"
    assert term.values == (datetime(2026, 1, 1, tzinfo=UTC),)


def test_datetime_values_accept_offsets_and_keep_a_literal_plus() -> None:
    (term,) = parse_list_query("startOperatingDate.lt=2026-01-01T10:00:00+01:00", SPEC).filters
    assert term.values == (datetime(2026, 1, 1, 9, 0, tzinfo=UTC),)


def test_percent_escapes_are_decoded() -> None:
    (term,) = parse_list_query("name=a%20b%2Cc", SPEC).filters
    assert term.values == ("a b", "c")  # clients escape commas too: an escaped comma still separates


def test_dotted_json_attribute_gives_string_and_number_candidates() -> None:
    (term,) = parse_list_query("resourceCharacteristic.value=100", SPEC).filters
    assert isinstance(term.attribute, JsonAttribute)
    assert term.attribute.array == ("resourceCharacteristic",) and term.attribute.key == ("value",)
    assert term.values == ("100", 100)


def test_json_candidates_normalise_integral_floats_and_booleans() -> None:
    (term,) = parse_list_query("resourceCharacteristic.value=1.0,true", SPEC).filters
    assert term.values == ("1.0", 1, "true")  # True == 1 collapses with the number: same JSON row either way


def test_nested_key_inside_array_elements() -> None:
    (term,) = parse_list_query("resourceRelationship.resource.id=port-1", SPEC).filters
    assert term.attribute.key == ("resource", "id")  # type: ignore[union-attr]


def test_unknown_attribute_is_rejected_with_the_known_ones() -> None:
    with pytest.raises(UnknownFilterAttribute, match=r"resourceCharacteristic\.name"):
        parse_list_query("colour=red", SPEC)


def test_unknown_member_of_a_json_attribute_is_rejected() -> None:
    with pytest.raises(UnknownFilterAttribute):
        parse_list_query("resourceCharacteristic.colour=red", SPEC)


@pytest.mark.parametrize("raw", ["status=broken", "startOperatingDate.gt=yesterday", "size=ten", "name="])
def test_bad_filter_value_is_rejected(raw: str) -> None:
    with pytest.raises(InvalidFilterValue):
        parse_list_query(raw, SPEC)


@pytest.mark.parametrize("raw", ["status.gt=available", "resourceCharacteristic.name.gt=a", "description.ne=x"])
def test_operator_not_offered_on_the_attribute_is_rejected(raw: str) -> None:
    with pytest.raises(UnsupportedOperator):
        parse_list_query(raw, SPEC)


def test_comparison_with_a_list_is_rejected() -> None:
    with pytest.raises(InvalidFilterValue):
        parse_list_query("size.gt=1,2", SPEC)


def test_sort_reads_directions_in_order() -> None:
    query = parse_list_query("sort=name,-startOperatingDate,+size", SPEC)
    assert [(key.attribute.name, key.descending) for key in query.sort] == [
        ("name", False),
        ("startOperatingDate", True),
        ("size", False),
    ]


@pytest.mark.parametrize("raw", ["sort=colour", "sort=resourceCharacteristic.name"])
def test_sort_on_unknown_or_json_attribute_is_rejected(raw: str) -> None:
    with pytest.raises(UnknownSortAttribute):
        parse_list_query(raw, SPEC)


def test_fields_are_parsed_alongside_filters() -> None:
    query = parse_list_query("fields=name&name=x", SPEC)
    assert query.fields is not None and "name" in query.fields.tree
    assert len(query.filters) == 1


@pytest.mark.parametrize(
    "fields", ["name", "resourceCharacteristic.name", "place.id,name", "resourceCharacteristic.value.unit", "none"]
)
def test_fields_naming_schema_members_are_accepted(fields: str) -> None:
    assert parse_list_query(f"fields={fields}", SPEC).fields is not None


@pytest.mark.parametrize(
    ("fields", "named"),
    [("bogus", "'bogus'"), ("name,colour", "'colour'"), ("place.bogus", "'bogus'"), ("name.first", "'name'")],
)
def test_fields_naming_no_schema_member_are_refused_naming_it(fields: str, named: str) -> None:
    with pytest.raises(UnknownField, match=named):
        parse_list_query(f"fields={fields}", SPEC)


@pytest.mark.parametrize("name", ["fields", "offset", "limit", "sort"])
def test_single_valued_parameter_given_twice_is_refused(name: str) -> None:
    value = {"fields": "name", "offset": "1", "limit": "2", "sort": "name"}[name]
    with pytest.raises(InvalidQuery, match=f"'{name}' is given more than once"):
        parse_list_query(f"{name}={value}&name=x&{name}={value}", SPEC)


def test_repeated_filter_is_still_anded() -> None:
    query = parse_list_query("resourceCharacteristic.name=a&resourceCharacteristic.name=b", SPEC)
    assert [term.values for term in query.filters] == [("a",), ("b",)]


@pytest.mark.parametrize("raw", ["name=%ZZ", "name=abc%", "name=%4", "na%zme=x", "name=%C3%28", "name=%FF"])
def test_broken_or_non_utf8_percent_escape_is_refused(raw: str) -> None:
    with pytest.raises(InvalidQuery, match="percent-escape"):
        parse_list_query(raw, SPEC)


def test_good_percent_escapes_are_decoded() -> None:
    query = parse_list_query("name=j%C3%BCrgen%20x", SPEC)
    assert query.filters[0].values == ("jürgen x",)


def test_unsupported_operator_on_known_attribute_is_named_with_the_operators() -> None:
    with pytest.raises(UnsupportedOperator) as raised:
        parse_list_query("name.like=pe", SPEC)
    message = raised.value.message
    assert "'like' is not supported on 'name'" in message
    assert "eq, ne, gt, gte, lt, lte" in message
    assert "Filterable attributes" not in message


def test_unknown_attribute_suggests_a_close_name() -> None:
    with pytest.raises(UnknownFilterAttribute, match="Did you mean 'status'"):
        parse_list_query("statu=available", SPEC)


def test_date_outside_the_years_in_utc_is_reported_out_of_range() -> None:
    with pytest.raises(InvalidFilterValue) as raised:
        parse_list_query("startOperatingDate.gt=0001-01-01T00:00:00+14:00", SPEC)
    assert "out of range" in raised.value.message
    assert "must be an ISO 8601" not in raised.value.message


def test_text_that_is_no_date_is_still_reported_as_not_iso_8601() -> None:
    with pytest.raises(InvalidFilterValue, match="must be an ISO 8601"):
        parse_list_query("startOperatingDate.gt=yesterday", SPEC)


@pytest.mark.parametrize(("text", "expected"), [("3", 3), ("007", 7), ("\u00b9", None), ("\u0663", None), ("", None)])
def test_integer_id_takes_ascii_digits_only(text: str, expected: int | None) -> None:
    assert integer_id(text) == expected


def test_integer_id_beyond_64_bits_is_no_id() -> None:
    assert integer_id(str(2**63)) is None and integer_id(str(2**63 - 1)) == 2**63 - 1


def test_item_query_takes_checked_fields_only() -> None:
    assert parse_item_query("", SPEC.members) is None
    assert parse_item_query("fields=name", SPEC.members) is not None
    with pytest.raises(UnknownField):
        parse_item_query("fields=bogus", SPEC.members)
    with pytest.raises(InvalidQuery, match="'foo'"):
        parse_item_query("foo=bar", SPEC.members)
    with pytest.raises(InvalidQuery, match="more than once"):
        parse_item_query("fields=name&fields=id", SPEC.members)


@pytest.mark.parametrize("text", ["\u0663", "1\u00b9", str(2**63), "1.5"])
def test_integer_filter_takes_ascii_64_bit_integers_only(text: str) -> None:
    with pytest.raises(InvalidFilterValue, match="64-bit integer"):
        parse_list_query(f"size={quote(text)}", SPEC)


def test_integer_filter_reads_signed_ascii_integers() -> None:
    assert parse_list_query("size.gt=-3", SPEC).filters[0].values == (-3,)
