"""Two open port requests can never name one number, also when their creates race: the partial unique index
on the numbers of open requests is the last line of defence behind the check (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from common import clock
from common.uow import UnitOfWork
from oss.number_pool import porting, service
from oss.number_pool.porting_models import OPEN_NUMBER_CONSTRAINT, PortRequestNumberRow, PortRequestRow
from server.db import make_session_factory

pytestmark = pytest.mark.integration


@pytest.fixture
def factory(clean_db: Engine) -> sessionmaker[Session]:
    return make_session_factory(clean_db)


def _document(pool_id: str) -> dict[str, Any]:
    return {
        "donorOperator": "Donor",
        "number": ["+442079470001"],
        "authorisationReference": "LOA",
        "requestedPortDate": clock.isoformat(clock.now() + timedelta(days=2)),
        "poolId": pool_id,
    }


def test_the_database_refuses_a_second_open_request_for_a_number(factory: sessionmaker[Session]) -> None:
    pool = service.create_pool(UnitOfWork(factory), {"name": "p"})
    first = porting.create_port_in(UnitOfWork(factory), _document(pool.id))
    refused = f"{OPEN_NUMBER_CONSTRAINT}|number_port_request_number.digits"  # PostgreSQL | SQLite
    with pytest.raises(IntegrityError, match=refused), factory() as session, session.begin():
        session.add(PortRequestNumberRow(request_id=first.id, digits=442079470001, value="+442079470001", open=True))
        session.flush()
    # A closed request's numbers do not count.
    porting.patch_port_request(UnitOfWork(factory), porting.IN, first.id, {"state": "cancelled"})
    assert porting.create_port_in(UnitOfWork(factory), _document(pool.id)).state == "requested"


def test_racing_creates_for_one_number_give_one_request(factory: sessionmaker[Session]) -> None:
    pool = service.create_pool(UnitOfWork(factory), {"name": "p"})
    barrier = threading.Barrier(4)
    outcomes: list[str] = []

    def create() -> None:
        barrier.wait()
        try:
            porting.create_port_in(UnitOfWork(factory), _document(pool.id))
            outcomes.append("created")
        except porting.NumberInOpenPortRequest:
            outcomes.append("refused by the check")
        except IntegrityError as error:
            assert OPEN_NUMBER_CONSTRAINT in str(error.orig)  # PostgreSQL: both checks passed, one commit won
            outcomes.append("refused by the index")

    threads = [threading.Thread(target=create) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert len(outcomes) == 4 and outcomes.count("created") == 1, outcomes
    with factory() as session, session.begin():
        assert session.scalar(select(func.count()).select_from(PortRequestRow)) == 1
