"""Issue 16 "Throughput design", on PostgreSQL: holds of "any number" from one pool do not queue behind one
row lock, and a hold that finds every free chunk taken by others waits for them instead of answering
POOL_EXHAUSTED.

Deterministic without threads racing for timing: each open transaction below is a client in the middle of
its hold; ``lock_timeout`` turns "this would have waited" into an immediate error.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from common import clock
from common.uow import UnitOfWork
from oss.number_pool import service
from oss.number_pool.domain import Criteria
from server.db import make_session_factory

pytestmark = [pytest.mark.pg, pytest.mark.integration]

CLIENTS = 16


@pytest.fixture
def sessions(clean_db: Engine) -> Iterator[list[Session]]:
    opened: list[Session] = []
    yield opened
    for session in opened:
        session.close()  # rolls back what is still open


def pool_with_block(engine: Engine, first: str, last: str) -> str:
    factory = make_session_factory(engine)
    pool = service.create_pool(UnitOfWork(factory), {"name": f"pool {first}", "agingDays": 30})
    service.create_block(UnitOfWork(factory), {"poolId": pool.id, "first": first, "last": last})
    return pool.id


def hold_one(session: Session, pool_id: str) -> str:
    until = clock.now() + timedelta(minutes=5)
    return service.hold_numbers(session, pool_id, Criteria(quantity=1), service.Holder(actor="test"), until)[0].value


def test_16_holds_of_any_number_from_one_pool_proceed_side_by_side(clean_db: Engine, sessions: list[Session]) -> None:
    """20 free chunks: 16 transactions each hold a number while all the others are still open, and none of
    them waits on another's lock (lock_timeout 0.5 s would fail it)."""
    pool_id = pool_with_block(clean_db, "+442079460000", "+442079461999")
    factory = make_session_factory(clean_db)
    held = []
    for _ in range(CLIENTS):
        session = factory()
        session.begin()
        sessions.append(session)
        session.execute(text("SET LOCAL lock_timeout = '500ms'"))
        held.append(hold_one(session, pool_id))
    assert len(set(held)) == CLIENTS


def test_a_hold_that_finds_every_chunk_locked_waits_and_is_served_not_refused(
    clean_db: Engine, sessions: list[Session]
) -> None:
    """One chunk (100 numbers): while a first hold has it locked, a second waits on it (SKIP LOCKED alone
    would have seen an empty pool and answered POOL_EXHAUSTED), then takes the next number."""
    pool_id = pool_with_block(clean_db, "+442079462000", "+442079462099")
    factory = make_session_factory(clean_db)
    first = factory()
    first.begin()
    sessions.append(first)
    first_number = hold_one(first, pool_id)
    second: list[str] = []
    errors: list[BaseException] = []

    def hold_in_another_transaction() -> None:
        with factory() as session:
            try:
                with session.begin():
                    second.append(hold_one(session, pool_id))
            except BaseException as error:  # the assertion below reports it
                errors.append(error)

    waiter = threading.Thread(target=hold_in_another_transaction)
    waiter.start()
    waiter.join(timeout=1.0)
    assert waiter.is_alive(), f"the second hold did not wait for the locked chunk: {second or errors}"
    first.commit()
    waiter.join(timeout=30)
    assert not errors and len(second) == 1
    assert second[0] != first_number
