"""Pure rules of the number pool: E.164 parsing, block spans, the lifecycle, category rules, digit patterns."""

from __future__ import annotations

import fnmatch
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oss.number_pool import domain
from oss.number_pool.domain import DEFAULT_RULES, Interval, NumberShape, glob_part
from oss.number_pool.errors import (
    InvalidCategoryRule,
    InvalidE164,
    InvalidNumberBlock,
    InvalidPattern,
    InvalidTransition,
)

LONDON = NumberShape(length=12, cc_length=2, national_prefix="0")


def test_e164_is_parsed_with_region_type_and_trunk_prefix() -> None:
    number = domain.parse_e164("+44 20 7946 0123")
    assert (number.digits, number.region, number.number_type, number.national_prefix) == (
        442079460123,
        "GB",
        "fixedLine",
        "0",
    )
    us = domain.parse_e164("+1 (202) 555-0123")
    assert us.region == "US" and us.country_code == 1


@pytest.mark.parametrize("text", ["442079460123", "+0442079460123", "+4420", "+1234567890123456", "+44abc", ""])
def test_what_is_not_e164_is_refused_naming_it(text: str) -> None:
    with pytest.raises(InvalidE164) as raised:
        domain.parse_e164(text)
    assert repr(text.strip()) in raised.value.message


def test_a_block_has_one_country_code_and_length_and_first_before_last() -> None:
    assert domain.block_span("+442079460000", "+442079460999").size == 1000
    with pytest.raises(InvalidNumberBlock):
        domain.block_span("+442079460999", "+442079460000")
    with pytest.raises(InvalidNumberBlock):
        domain.block_span("+442079460000", "+12025550199")


def test_forbidden_transitions_name_the_current_state() -> None:
    domain.check_transition("+442079460001", "reserved", "assigned")
    with pytest.raises(InvalidTransition) as raised:
        domain.check_transition("+442079460001", "portedOut", "assigned")
    assert raised.value.details["currentState"] == "portedOut"


def test_every_state_maps_onto_tmf639_status_and_usage() -> None:
    assert set(domain.TMF639_STATUS) == set(domain.STATES)
    statuses = {"standby", "alarm", "available", "reserved", "unknown", "suspended"}
    assert all(
        status in statuses and usage in {"idle", "active", "busy"} for status, usage in domain.TMF639_STATUS.values()
    )


@pytest.mark.parametrize(
    ("digits", "category"),
    [
        (442079460000, "golden"),  # trailing zeros (4)
        (442077777770, "golden"),  # six repeated digits
        (442079461234, "silver"),  # ascending run of 4
        (442079468888, "silver"),  # four repeated digits
        (442079460500, "standard"),  # only two trailing zeros
    ],
)
def test_default_category_rules(digits: int, category: str) -> None:
    assert domain.classify(digits, LONDON, DEFAULT_RULES) == category


def test_a_regex_rule_applies_to_the_national_digits() -> None:
    rules = domain.parse_rules([{"category": "golden", "kind": "regex", "regex": r"0207946[1-9]0{3}"}])
    assert domain.classify(442079461000, LONDON, rules) == "golden"


@pytest.mark.parametrize(
    "rule",
    [
        {"category": "golden", "kind": "regex", "regex": r"(\d)\1"},  # back-reference: no automaton
        {"category": "golden", "kind": "regex", "regex": "(?=1)"},
        {"category": "golden", "kind": "regex", "regex": "["},
        {"category": "bronze", "kind": "trailingZeros", "length": 3},
        {"category": "silver", "kind": "ascendingRun", "length": 11},
    ],
)
def test_category_rules_that_cannot_work_are_refused(rule: dict[str, object]) -> None:
    with pytest.raises(InvalidCategoryRule):
        domain.parse_rules([rule])


def test_patterns_accept_digits_question_marks_and_stars_only() -> None:
    assert glob_part("*777*").regex == ".*777.*"
    assert glob_part("+4420*").international
    with pytest.raises(InvalidPattern):
        glob_part("*7a7*")


def _national(number: int) -> str:
    return "0" + str(number)[2:]


@settings(max_examples=200, deadline=None)
@given(
    pattern=st.text(alphabet="0123456789?*", min_size=1, max_size=8),
    start=st.integers(min_value=0, max_value=9_000),
    width=st.integers(min_value=0, max_value=999),
)
def test_next_match_and_count_agree_with_brute_force(pattern: str, start: int, width: int) -> None:
    first = 442079460000 + start
    interval = Interval(first, min(first + width, 442079469999))
    matcher = LONDON.matcher([glob_part(pattern)])
    assert matcher is not None
    brute = [n for n in range(interval.first, interval.last + 1) if fnmatch.fnmatchcase(_national(n), pattern)]
    assert list(domain.matches_in(matcher, interval, 5)) == brute[:5]
    assert matcher.count_in(interval) == len(brute)


@settings(max_examples=100, deadline=None)
@given(number=st.integers(min_value=442079460000, max_value=442079469999))
def test_category_search_agrees_with_classification(number: int) -> None:
    found = [
        category
        for category in domain.CATEGORIES
        if LONDON.matcher(domain.category_parts(DEFAULT_RULES, category)).matches(number)  # type: ignore[union-attr]
    ]
    assert found == [domain.classify(number, LONDON, DEFAULT_RULES)]
    rule_regex = "|".join(f"(?:{r.as_regex()})" for r in DEFAULT_RULES)
    assert (found[0] != "standard") == bool(re.fullmatch(rule_regex, _national(number)))
