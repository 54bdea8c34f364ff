"""One clock for the whole process, injectable so that tests control time.

Use ``clock.now()`` everywhere instead of ``datetime.now()``; tests call ``clock.set(FixedClock(...))``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that moves only when told to, for deterministic tests."""

    def __init__(self, start: datetime) -> None:
        self._now = start

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> None:
        self._now += delta


_current: Clock = SystemClock()


def now() -> datetime:
    """The current time, timezone-aware UTC."""
    return _current.now()


def set_clock(new_clock: Clock) -> Clock:
    """Install ``new_clock``; returns the previous one so a test can put it back."""
    global _current
    previous, _current = _current, new_clock
    return previous


def isoformat(moment: datetime) -> str:
    """TMF date-time: ISO 8601 in UTC with milliseconds and a ``Z``."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_utc(text: str) -> datetime:
    """An ISO 8601 date-time (``Z`` or an offset; none means UTC) or a bare date (midnight UTC), as an
    aware UTC datetime. ``ValueError`` when the text is neither, or when the instant falls outside years
    1-9999 once moved to UTC (``0001-01-01T00:00:00+05:00``), which no database column can hold."""
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return datetime(day.year, day.month, day.day, tzinfo=UTC)
        moment = datetime.fromisoformat(text)
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"{text!r} is outside the years 1-9999 in UTC") from None
