"""One clock for the whole process, injectable so that tests control time.

Use ``clock.now()`` everywhere instead of ``datetime.now()``; tests call ``clock.set(FixedClock(...))``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
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
