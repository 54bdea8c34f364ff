"""server.validation.FORMAT_CHECKER: a rule for every format the served documents declare (issue 14 item 20)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from server.validation import FORMAT_CHECKER

OPENAPI = Path(__file__).resolve().parents[3] / "openapi"


def _declared_formats(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {node["format"]} if isinstance(node.get("format"), str) else set()
        return found.union(*(_declared_formats(value) for value in node.values()))
    if isinstance(node, list):
        return set().union(*(_declared_formats(item) for item in node))
    return set()


def test_every_format_a_served_document_declares_has_a_rule() -> None:
    documents = [*OPENAPI.glob("*.yaml"), *OPENAPI.glob("common/*.yaml")]
    declared = set().union(*(_declared_formats(yaml.safe_load(path.read_text())) for path in documents))
    assert {"uri", "date-time"} <= declared
    assert declared <= set(FORMAT_CHECKER.checkers), declared - set(FORMAT_CHECKER.checkers)


@pytest.mark.parametrize(
    ("format_name", "good", "bad"),
    [
        (
            "uri",
            ["https://example.com/a?b=c#d", "urn:isbn:0451450523", "mailto:noc@example.com"],
            ["AAA", "not a uri", "/relative", "http://a b"],
        ),
        ("uri-reference", ["/relative", "AAA", "https://example.com"], ["a b", "http://[::1"]),
        ("date-time", ["2026-12-03T10:00:00Z", "2026-12-03T10:00:00.123+02:00"], ["2026-12-03", "yesterday"]),
        ("base64", ["", "aGVsbG8=", "aGk="], ["not base64!", "aGVsbG8", "a===", "é"]),
    ],
)
def test_format_rule_accepts_the_good_and_refuses_the_bad(format_name: str, good: list[str], bad: list[str]) -> None:
    for value in good:
        assert FORMAT_CHECKER.conforms(value, format_name), value
    for value in bad:
        assert not FORMAT_CHECKER.conforms(value, format_name), value


def test_a_non_string_is_left_to_the_type_check() -> None:
    for format_name in ("uri", "uri-reference", "date-time", "base64"):
        assert FORMAT_CHECKER.conforms(42, format_name)
