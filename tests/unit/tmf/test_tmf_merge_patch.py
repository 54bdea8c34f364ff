"""RFC 7396 JSON merge-patch, including the examples of its Appendix A."""

from __future__ import annotations

from typing import Any

import pytest

from common.tmf import changed_members, merge_patch

RFC7396_APPENDIX_A = [
    ({"a": "b"}, {"a": "c"}, {"a": "c"}),
    ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
    ({"a": "b"}, {"a": None}, {}),
    ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
    ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
    ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
    ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
    ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
    (["a", "b"], ["c", "d"], ["c", "d"]),
    ({"a": "b"}, ["c"], ["c"]),
    ({"a": "foo"}, None, None),
    ({"a": "foo"}, "bar", "bar"),
    ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
    ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
    ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
]


@pytest.mark.parametrize(("target", "patch", "expected"), RFC7396_APPENDIX_A)
def test_merge_patch_matches_rfc7396_appendix_a(target: Any, patch: Any, expected: Any) -> None:
    assert merge_patch(target, patch) == expected


def test_merge_patch_leaves_its_arguments_untouched() -> None:
    target = {"a": {"b": [1]}}
    patch = {"a": {"c": 2}}
    merge_patch(target, patch)["a"]["b"].append(3)
    assert target == {"a": {"b": [1]}} and patch == {"a": {"c": 2}}


def test_changed_members_lists_added_removed_and_changed_members_in_order() -> None:
    before = {"a": 1, "b": 2, "c": {"x": 1}}
    after = {"a": 1, "c": {"x": 2}, "d": 4}
    assert changed_members(before, after) == ["b", "c", "d"]
