"""Every POST of every served document declares the Idempotency-Key header (with the rule
``server.idempotency`` applies) and the 409 and 422 it can answer; nothing but POST does."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from common.errors import InvalidInput
from server.apis import APIS
from server.documents import served_document
from server.idempotency import KEY_PATTERN
from server.idempotency.claim import parse_key

OPERATIONS = [
    (f"{method.upper()} {api.base_path}{path}", method, operation)
    for api in APIS
    for path, item in served_document(api)["paths"].items()
    for method, operation in item.items()
    if method in ("get", "put", "post", "delete", "patch")
]


def _key_parameters(operation: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for p in operation.get("parameters", []) if p.get("in") == "header" and p["name"] == "Idempotency-Key"]


@pytest.mark.parametrize(("name", "method", "operation"), OPERATIONS, ids=[name for name, _, _ in OPERATIONS])
def test_every_post_and_only_post_declares_the_idempotency_key(
    name: str, method: str, operation: dict[str, Any]
) -> None:
    declared = _key_parameters(operation)
    if method != "post":
        assert declared == []
        return
    assert len(declared) == 1
    assert declared[0]["required"] is False
    assert declared[0]["schema"]["pattern"] == KEY_PATTERN
    assert {"409", "422"} <= set(operation["responses"])


def test_there_is_a_post_to_check() -> None:
    assert sum(method == "post" for _, method, _ in OPERATIONS) >= 4


@given(st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x7F), max_size=260))
def test_the_declared_pattern_accepts_exactly_the_keys_the_server_accepts(value: str) -> None:
    declared = re.fullmatch(KEY_PATTERN.removeprefix("^").removesuffix("$"), value) is not None
    try:
        parse_key(value)
        accepted = True
    except InvalidInput:
        accepted = False
    # The server strips the white space HTTP strips; a value with it at an end never reaches the validator.
    if value == value.strip(" \t"):
        assert accepted == declared
