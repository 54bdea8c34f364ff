"""Entity tags and preconditions (RFC 9110 §8.8.3, §13.1.1, §13.1.2), without HTTP."""

from __future__ import annotations

import pytest

from common.tmf.etag import (
    ANY,
    EntityTag,
    EntityTagMismatch,
    IfMatchRequired,
    InvalidEntityTag,
    Preconditions,
    entity_tag,
    parse_tag_list,
)


@pytest.mark.parametrize(
    ("value", "parsed"),
    [
        ('"1"', (EntityTag("1"),)),
        ('W/"1"', (EntityTag("1", weak=True),)),
        ('"1", W/"2",,"3"', (EntityTag("1"), EntityTag("2", weak=True), EntityTag("3"))),
        (' , "a,b" ,', (EntityTag("a,b"),)),  # a comma is legal inside an opaque tag
        ('""', (EntityTag(""),)),
        ("*", ANY),
    ],
)
def test_parse_tag_list_reads_rfc9110_lists(value: str, parsed: object) -> None:
    assert parse_tag_list(value, "If-Match") == parsed


@pytest.mark.parametrize("value", ["1", '"1', 'w/"1"', '"1" "2"', '"1";"2"', '"a"b"', "", " , ", "**", '"1", *'])
def test_parse_tag_list_refuses_what_is_not_a_list_of_tags(value: str) -> None:
    with pytest.raises(InvalidEntityTag, match="If-None-Match"):
        parse_tag_list(value, "If-None-Match")


def test_strong_and_weak_comparison_follow_rfc9110_table() -> None:
    # RFC 9110 §8.8.3.2's example table.
    weak1, weak2, strong1 = EntityTag("1", weak=True), EntityTag("2", weak=True), EntityTag("1")
    assert not weak1.strong_match(weak1) and weak1.weak_match(weak1)
    assert not weak1.strong_match(weak2) and not weak1.weak_match(weak2)
    assert not weak1.strong_match(strong1) and weak1.weak_match(strong1)
    assert strong1.strong_match(strong1) and strong1.weak_match(strong1)


def test_entity_tag_of_a_projection_differs_from_the_full_representation_and_is_stable() -> None:
    assert str(entity_tag(3)) == '"3"'
    projection = entity_tag(3, {"name": None})
    assert projection != entity_tag(3) and projection == entity_tag(3, {"name": None})
    assert projection != entity_tag(3, {"category": None}) and projection != entity_tag(4, {"name": None})


def test_preconditions_check_if_match_then_if_none_match() -> None:
    current = EntityTag("2")
    Preconditions.parse('"2"', None).check(current)
    Preconditions.parse("*", None).check(current)
    Preconditions.parse(None, '"1"').check(current)
    for if_match, if_none_match in (('"1"', None), ('W/"2"', None), (None, "*"), (None, 'W/"2"'), ('"2"', '"2"')):
        with pytest.raises(EntityTagMismatch):
            Preconditions.parse(if_match, if_none_match).check(current)


def test_not_modified_compares_weakly() -> None:
    assert Preconditions.parse(None, 'W/"2"').not_modified(EntityTag("2"))
    assert not Preconditions.parse(None, '"1"').not_modified(EntityTag("2"))
    assert not Preconditions().not_modified(EntityTag("2"))


def test_require_if_match_is_a_428_only_without_if_match() -> None:
    with pytest.raises(IfMatchRequired):
        Preconditions.parse(None, '"1"').require_if_match()
    Preconditions.parse('"1"', None).require_if_match()
