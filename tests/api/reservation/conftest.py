"""The reservation API's tests run against two fake providers (tests.support.fake_providers): numbers
(pools fake-numbers-a of 20, fake-numbers-b of 5) and addresses (fake-addresses of 4)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from common import clock
from tests.support.fake_providers import FakeProvider, install


@pytest.fixture
def providers(clean_db: Engine) -> tuple[FakeProvider, FakeProvider]:
    return install(clean_db)


@pytest.fixture
def fixed_clock() -> Iterator[clock.FixedClock]:
    from datetime import UTC, datetime

    fixed = clock.FixedClock(datetime(2026, 12, 1, 12, 0, tzinfo=UTC))
    previous = clock.set_clock(fixed)
    yield fixed
    clock.set_clock(previous)
