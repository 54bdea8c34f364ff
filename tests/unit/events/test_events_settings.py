"""The event settings read from the environment: retention, purge interval, and whether the API delivers."""

from __future__ import annotations

import pytest

from server.settings import Settings


def test_event_settings_default_to_a_week_of_retention_hourly_purge_and_api_dispatch(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("PROVISIO_EVENT_RETENTION", "PROVISIO_PURGE_INTERVAL", "PROVISIO_API_DISPATCH"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings.from_env()
    assert (settings.event_retention, settings.purge_interval, settings.api_dispatch) == (604800.0, 3600.0, True)


@pytest.mark.parametrize(("text", "expected"), [("0", False), ("false", False), ("off", False), ("1", True)])
def test_api_dispatch_is_turned_off_by_zero_false_or_off(
    monkeypatch: pytest.MonkeyPatch, text: str, expected: bool
) -> None:
    monkeypatch.setenv("PROVISIO_API_DISPATCH", text)
    monkeypatch.setenv("PROVISIO_EVENT_RETENTION", "60")
    monkeypatch.setenv("PROVISIO_PURGE_INTERVAL", "5")
    settings = Settings.from_env()
    assert settings.api_dispatch is expected
    assert (settings.event_retention, settings.purge_interval) == (60.0, 5.0)
