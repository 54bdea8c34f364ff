"""PROVISIO_REQUIRE_IF_MATCH from the environment (issue 14 item 14)."""

from __future__ import annotations

import pytest

from server.settings import Settings


@pytest.mark.parametrize(
    ("value", "expected"), [("", False), ("false", False), ("0", False), ("TRUE", True), ("on", True)]
)
def test_require_if_match_reads_booleans(monkeypatch: pytest.MonkeyPatch, value: str, expected: bool) -> None:
    monkeypatch.setenv("PROVISIO_REQUIRE_IF_MATCH", value)
    assert Settings.from_env().require_if_match is expected


def test_require_if_match_refuses_anything_else(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROVISIO_REQUIRE_IF_MATCH", "maybe")
    with pytest.raises(ValueError, match="PROVISIO_REQUIRE_IF_MATCH"):
        Settings.from_env()


def test_require_if_match_is_off_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PROVISIO_REQUIRE_IF_MATCH", raising=False)
    assert Settings.from_env().require_if_match is False
