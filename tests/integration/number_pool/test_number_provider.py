"""The reservation provider of numbers, called directly inside a unit of work (the reservation API of
oss/reservation is another branch's): criteria, policies, all-or-nothing, golden flag, commit, release."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, func, select

from common import clock
from common.errors import Conflict
from oss.number_pool import NUMBER_PROVIDER, NumberProvider
from oss.number_pool.errors import GoldenNumberRefused
from oss.number_pool.models import NumberHistoryRow
from oss.reservation import HoldOwner, ItemRequest, Unavailable
from oss.resource_inventory.models import ResourceRow
from tests.integration.number_pool.helpers_pool import free_numbers, pool_with_block, states, uow_factory

pytestmark = pytest.mark.integration
ITEM = "TelephoneNumberReservationItem"
OWNER = HoldOwner(
    "res-1", "item-1", ({"id": "poi-1", "@referredType": "ProductOrderItem"}, {"id": "c-1", "role": "customer"})
)


def hold(
    engine: Engine, pool_id: str | None, provider: NumberProvider = NUMBER_PROVIDER, **criteria: object
) -> list[str]:
    with uow_factory(engine)() as tx:
        held = provider.hold(
            tx.session, ItemRequest(ITEM, pool_id, 1, criteria), OWNER, clock.now() + timedelta(minutes=5)
        )
        tx.commit()
    return [h.value for h in held]


def test_lowest_first_holds_the_lowest_non_golden_numbers(clean_db: Engine) -> None:
    pool = pool_with_block(clean_db)
    # +442079460000 is golden (four trailing zeros): not without allowGolden.
    assert hold(clean_db, pool, quantity=3, policy="lowestFirst") == ["+442079460001", "+442079460002", "+442079460003"]
    assert free_numbers(clean_db, pool) == 997


def test_a_pattern_and_a_prefix_select_matching_numbers(clean_db: Engine) -> None:
    pool = pool_with_block(clean_db)
    assert hold(clean_db, pool, quantity=2, pattern="*77*", policy="lowestFirst") == ["+442079460077", "+442079460177"]
    assert hold(clean_db, pool, prefix="020794609", policy="lowestFirst") == ["+442079460900"]


def test_a_contiguous_run_spans_chunks_and_skips_golden_numbers(clean_db: Engine) -> None:
    pool = pool_with_block(clean_db, last="+442079469999")  # 10,000 numbers in chunks of 157
    run = hold(clean_db, pool, quantity=300, contiguous=True)
    digits = [int(v[1:]) for v in run]
    assert digits == list(range(digits[0], digits[0] + 300))
    assert digits[0] == 442079460001  # 0000 is golden
    assert states(clean_db, pool) == {"reserved": 300}


def test_a_specific_golden_number_needs_allow_golden(clean_db: Engine) -> None:
    pool = pool_with_block(clean_db)
    with pytest.raises(GoldenNumberRefused):
        hold(clean_db, pool, number="+442079460000")
    assert hold(clean_db, pool, number="+442079460000", allowGolden=True) == ["+442079460000"]


def test_random_policy_is_seeded_and_injectable(clean_db: Engine) -> None:
    pool = pool_with_block(clean_db)
    first = hold(clean_db, pool, quantity=3, policy="random", seed=7)
    assert len(set(first)) == 3
    injected = NumberProvider(choose=lambda n: n - 1)  # always the last candidate
    assert hold(clean_db, pool, injected, policy="random") == ["+442079460999"]


def test_an_exhausted_pool_holds_nothing_and_says_what_is_available(clean_db: Engine) -> None:
    pool = pool_with_block(clean_db, last="+442079460009")  # 10 numbers, one of them golden
    with pytest.raises(Unavailable) as raised:
        hold(clean_db, pool, quantity=10)
    assert raised.value.code == "POOL_EXHAUSTED" and raised.value.availability.available == 9
    assert free_numbers(clean_db, pool) == 10 and states(clean_db, pool) == {}


def test_commit_assigns_and_release_goes_through_aging(clean_db: Engine) -> None:
    pool = pool_with_block(clean_db)
    new = uow_factory(clean_db)
    with new() as tx:
        held = NUMBER_PROVIDER.hold(
            tx.session, ItemRequest(ITEM, pool, 2, {}), OWNER, clock.now() + timedelta(minutes=5)
        )
        tx.commit()
    with new() as tx:
        NUMBER_PROVIDER.commit(tx.session, held, OWNER)
        tx.commit()
    assert states(clean_db, pool) == {"assigned": 2}
    with new() as tx:
        NUMBER_PROVIDER.release(tx.session, held, OWNER, reason="released")
        tx.commit()
    assert states(clean_db, pool) == {"aging": 2}
    with clean_db.connect() as connection:
        history = connection.scalar(select(func.count()).select_from(NumberHistoryRow))
        resources = connection.execute(select(ResourceRow.resource_status, ResourceRow.usage_state)).all()
    assert history == 6 and set(resources) == {("suspended", "idle")}


def test_a_released_hold_of_a_never_assigned_number_is_available_again(clean_db: Engine) -> None:
    pool = pool_with_block(clean_db)
    new = uow_factory(clean_db)
    with new() as tx:
        held = NUMBER_PROVIDER.hold(tx.session, ItemRequest(ITEM, pool, 1, {}), OWNER, clock.now())
        tx.commit()
    with new() as tx:
        NUMBER_PROVIDER.release(tx.session, held, OWNER, reason="expired")
        tx.commit()
    assert states(clean_db, pool) == {"available": 1} and free_numbers(clean_db, pool) == 1000


def test_a_rolled_back_reservation_leaves_the_pool_as_it_was(clean_db: Engine) -> None:
    pool = pool_with_block(clean_db)
    with uow_factory(clean_db)() as tx:
        NUMBER_PROVIDER.hold(tx.session, ItemRequest(ITEM, pool, 5, {}), OWNER, clock.now())
        # no commit: another item of the same reservation failed
    assert free_numbers(clean_db, pool) == 1000 and states(clean_db, pool) == {}


def test_check_counts_without_holding_and_pools_show_capacity(clean_db: Engine) -> None:
    pool = pool_with_block(clean_db)
    with uow_factory(clean_db)() as tx:
        availability = NUMBER_PROVIDER.check(tx.session, ItemRequest(ITEM, pool, 1, {"pattern": "*00"}))
        views = NUMBER_PROVIDER.pools(tx.session)
    assert availability.available == 9  # 100..900; 000 is golden
    assert views[0].capacity == 1000 and views[0].available == 1000 and views[0].resource_type == "TelephoneNumber"


def test_least_recently_released_prefers_numbers_never_used(clean_db: Engine) -> None:
    pool = pool_with_block(clean_db, last="+442079460009")
    new = uow_factory(clean_db)
    with new() as tx:
        held = NUMBER_PROVIDER.hold(
            tx.session, ItemRequest(ITEM, pool, 1, {"policy": "lowestFirst"}), OWNER, clock.now()
        )
        tx.commit()
    with new() as tx:
        NUMBER_PROVIDER.release(tx.session, held, OWNER, reason="released")
        tx.commit()
    assert hold(clean_db, pool, policy="leastRecentlyReleased") == ["+442079460002"]


def test_unknown_criteria_are_refused(clean_db: Engine) -> None:
    pool = pool_with_block(clean_db)
    with pytest.raises(Exception) as raised:
        hold(clean_db, pool, colour="blue")
    assert getattr(raised.value, "code", "") == "INVALID_CRITERIA"
    assert not isinstance(raised.value, Conflict)
