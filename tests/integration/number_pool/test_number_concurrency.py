"""Holds from one pool in parallel (issue 16, "Correctness under concurrency" and "Throughput design"):
every number handed out once, no error but clean 409s, and the pool's numbers all accounted for.
On PostgreSQL the parallel holds meet real row locks (SKIP LOCKED chunks, blocking scans); on SQLite the
same code runs with queued writers."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import Engine

from common import clock
from oss.number_pool import service
from oss.number_pool.domain import Criteria
from oss.number_pool.errors import BlockOverlap, PoolExhausted
from oss.number_pool.service import Holder
from tests.integration.number_pool.helpers_pool import free_numbers, pool_with_block, states, uow_factory

pytestmark = pytest.mark.integration
CLIENTS = 16
ROUNDS = 6


def _hold_loop(engine: Engine, pool_id: str, criteria: Criteria) -> Callable[[int], list[str]]:
    new = uow_factory(engine)

    def run(_client: int) -> list[str]:
        taken: list[str] = []
        for _ in range(ROUNDS):
            try:
                with new() as tx:
                    numbers = service.hold_numbers(
                        tx.session, pool_id, criteria, Holder(reason="load"), clock.now() + timedelta(minutes=5)
                    )
                    tx.commit()
                taken.extend(n.value for n in numbers)
            except PoolExhausted:
                pass
        return taken

    return run


@pytest.mark.parametrize("policy", ["any", "lowestFirst", "random"])
def test_parallel_single_holds_hand_out_every_number_once(clean_db: Engine, policy: str) -> None:
    pool = pool_with_block(clean_db, last="+442079460999")
    run = _hold_loop(clean_db, pool, Criteria(policy=policy))
    with ThreadPoolExecutor(max_workers=CLIENTS) as executor:
        results = [value for taken in executor.map(run, range(CLIENTS)) for value in taken]
    assert len(results) == CLIENTS * ROUNDS and len(set(results)) == len(results)
    assert states(clean_db, pool) == {"reserved": len(results)}
    assert free_numbers(clean_db, pool) + len(results) == 1000


def test_parallel_contiguous_runs_never_overlap(clean_db: Engine) -> None:
    pool = pool_with_block(clean_db, last="+442079461999")
    run = _hold_loop(clean_db, pool, Criteria(quantity=50, contiguous=True))
    with ThreadPoolExecutor(max_workers=8) as executor:
        runs = [taken for taken in executor.map(run, range(8))]
    numbers = [value for taken in runs for value in taken]
    assert len(numbers) == len(set(numbers))
    assert free_numbers(clean_db, pool) + len(numbers) == 2000
    assert len(numbers) >= 1500  # near exhaustion the blocking scan still finds what is left


def test_near_exhaustion_the_last_numbers_are_found_not_skipped(clean_db: Engine) -> None:
    """With every chunk held by someone, SKIP LOCKED alone would see nothing: the requests wait instead, and
    POOL_EXHAUSTED comes only when the pool is truly empty."""
    pool = pool_with_block(clean_db, last="+442079460019")  # 20 numbers; 0000 golden
    run = _hold_loop(clean_db, pool, Criteria())
    with ThreadPoolExecutor(max_workers=CLIENTS) as executor:
        numbers = [value for taken in executor.map(run, range(CLIENTS)) for value in taken]
    assert sorted(numbers) == [f"+4420794600{n:02d}" for n in range(1, 20)]


@pytest.mark.pg  # SQLite serialises writers: the check under its write lock cannot be raced past
def test_the_database_refuses_overlapping_blocks_even_past_the_check(
    clean_db: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    pool = pool_with_block(clean_db)
    monkeypatch.setattr(service, "_refuse_overlap", lambda *_args: None)  # as if two creates raced past it
    with pytest.raises(BlockOverlap) as raised:
        service.create_block(
            uow_factory(clean_db)(), {"poolId": pool, "first": "+442079460500", "last": "+442079461500"}
        )
    assert "442079460000" in raised.value.message or "existing key" in raised.value.message


def test_two_racing_block_creates_give_one_block_and_one_409(clean_db: Engine) -> None:
    pool = pool_with_block(clean_db, first="+442079470000", last="+442079470009")
    barrier = threading.Barrier(2)

    def create(first: str) -> str:
        barrier.wait()
        try:
            service.create_block(uow_factory(clean_db)(), {"poolId": pool, "first": first, "last": "+442079489999"})
            return "created"
        except BlockOverlap:
            return "overlap"

    with ThreadPoolExecutor(max_workers=2) as executor:
        outcomes = sorted(executor.map(create, ["+442079480000", "+442079481000"]))
    assert outcomes == ["created", "overlap"]
