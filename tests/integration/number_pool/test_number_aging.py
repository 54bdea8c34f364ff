"""Aging (issue 16, "Aging and expiry"): numbers released from service rest for the pool's aging days, then
``return_aged_numbers`` makes them available again; expired holds made through the number API go back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, select

from common import clock
from oss.number_pool import expire_holds, return_aged_numbers, service
from oss.number_pool.service import Holder
from oss.resource_inventory.models import ResourceRow
from tests.integration.number_pool.helpers_pool import free_numbers, pool_with_block, states, uow_factory

pytestmark = pytest.mark.integration
START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def frozen() -> clock.FixedClock:  # type: ignore[name-defined]
    fixed = clock.FixedClock(START)
    previous = clock.set_clock(fixed)
    yield fixed
    clock.set_clock(previous)


def test_aged_numbers_come_back_after_the_pools_aging_days(clean_db: Engine, frozen) -> None:  # type: ignore[no-untyped-def]
    pool = pool_with_block(clean_db)
    new = uow_factory(clean_db)
    for number in ("+442079460101", "+442079460102"):
        service.change_state(new(), number, "assigned", Holder(customer_id="c-1"))
        service.change_state(new(), number, "aging", Holder(reason="ceased"))
    assert return_aged_numbers(new, START + timedelta(days=29)) == 0
    assert return_aged_numbers(new, START + timedelta(days=30)) == 2
    assert states(clean_db, pool) == {"available": 2} and free_numbers(clean_db, pool) == 1000
    with clean_db.connect() as connection:
        assert set(connection.execute(select(ResourceRow.resource_status)).scalars()) == {"available"}
    assert return_aged_numbers(new, START + timedelta(days=31)) == 0  # nothing left to return


def test_expired_direct_holds_go_back_to_available(clean_db: Engine, frozen) -> None:  # type: ignore[no-untyped-def]
    pool = pool_with_block(clean_db)
    new = uow_factory(clean_db)
    service.change_state(new(), "+442079460201", "reserved", Holder(), hold_until=START + timedelta(minutes=10))
    assert expire_holds(new, START + timedelta(minutes=9)) == 0
    assert expire_holds(new, START + timedelta(minutes=10)) == 1
    assert states(clean_db, pool) == {"available": 1}
