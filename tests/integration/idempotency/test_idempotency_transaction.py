"""The before-commit hook (``common.uow``) writes the key, the fingerprint and the effect in the use case's
own transaction: they commit together or not at all, so an effect is never recorded without its key."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from common import clock
from common.uow import UnitOfWork, watch_transactions
from oss.resource_inventory import service
from server.db import make_session_factory
from server.idempotency import IdempotencyRecord, store
from server.idempotency.claim import Claim, KeyAlreadyRecorded
from tests.api.idempotency.helpers_idempotency import RESOURCES, events, keys, resources

pytestmark = pytest.mark.integration

BODY = {"@type": "LogicalResource", "name": "line-1"}


@pytest.fixture
def factory(clean_db: Engine) -> sessionmaker[Session]:
    return make_session_factory(clean_db)


def _claim(kind: type[Claim] = Claim) -> Claim:
    return kind(store.Slot("test-user", "k"), "f" * 64, "req-1", RESOURCES, clock.now, timedelta(hours=24))


def test_the_key_records_the_resource_the_use_case_created(factory: sessionmaker[Session], clean_db: Engine) -> None:
    claim = _claim()
    with watch_transactions(claim):
        created = service.create_resource(UnitOfWork(factory), BODY)
    assert claim.recorded
    with clean_db.connect() as connection:
        record = connection.execute(select(IdempotencyRecord)).one()
    assert (record.effect_type, record.effect_id) == ("resource", created.id)
    assert record.effect_path == f"{RESOURCES}/{created.id}"
    assert record.status is None  # the answer is the second write, after the commit


def test_key_and_effect_roll_back_together(factory: sessionmaker[Session], clean_db: Engine) -> None:
    class FailingAfterTheKey(Claim):
        def before_commit(self, session: Session) -> None:
            super().before_commit(session)
            raise RuntimeError("the commit fails after the key was written")

    with watch_transactions(_claim(FailingAfterTheKey)), pytest.raises(RuntimeError):
        service.create_resource(UnitOfWork(factory), BODY)
    assert (keys(clean_db), resources(clean_db), events(clean_db)) == (0, 0, 0)


def test_an_effect_is_never_committed_without_its_key(
    factory: sessionmaker[Session], clean_db: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: object) -> bool:
        raise OSError("the database went away while the key was written")

    monkeypatch.setattr(store, "insert_key", broken)
    with watch_transactions(_claim()), pytest.raises(OSError):
        service.create_resource(UnitOfWork(factory), BODY)
    assert (keys(clean_db), resources(clean_db)) == (0, 0)


def test_a_second_transaction_with_a_recorded_key_rolls_its_effect_back(
    factory: sessionmaker[Session], clean_db: Engine
) -> None:
    with watch_transactions(_claim()):
        service.create_resource(UnitOfWork(factory), BODY)
    with watch_transactions(_claim()), pytest.raises(KeyAlreadyRecorded):
        service.create_resource(UnitOfWork(factory), BODY)
    assert (keys(clean_db), resources(clean_db), events(clean_db)) == (1, 1, 1)


def test_only_the_first_commit_of_a_request_writes_the_key(factory: sessionmaker[Session], clean_db: Engine) -> None:
    claim = _claim()
    with watch_transactions(claim):
        first = service.create_resource(UnitOfWork(factory), BODY)
        service.create_resource(UnitOfWork(factory), {**BODY, "name": "line-2"})
    assert (keys(clean_db), resources(clean_db)) == (1, 2)
    assert claim.effect is not None and claim.effect.id == first.id


def test_without_a_hook_a_unit_of_work_writes_no_key(factory: sessionmaker[Session], clean_db: Engine) -> None:
    service.create_resource(UnitOfWork(factory), BODY)
    assert (keys(clean_db), resources(clean_db)) == (0, 1)
