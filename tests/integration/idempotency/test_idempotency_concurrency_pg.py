"""PostgreSQL: duplicates of one keyed POST at the same time give one effect; every other answer is the
first one replayed or a 409 (draft-ietf-httpapi-idempotency-key-header §2.6), never a second effect or a 5xx.
Through two API servers (two in-process in-flight sets, so the key row's primary key is what decides) and
directly at the before-commit hook."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from common import clock
from common.uow import UnitOfWork, watch_transactions
from oss.resource_inventory import service
from server.db import make_session_factory
from server.idempotency.claim import Claim, KeyAlreadyRecorded
from server.idempotency.store import Slot
from server.settings import Settings
from tests.api.idempotency.helpers_idempotency import RESOURCES, keys, resources
from tests.conftest import LiveServer
from tests.support.ports import free_port

pytestmark = [pytest.mark.pg, pytest.mark.integration]

BODY = {"@type": "LogicalResource", "name": "contended"}
CLIENTS = 16


@pytest.fixture
def second_server(live_server: LiveServer, settings: Settings) -> Iterator[LiveServer]:
    """Another API server on the same database (its own middleware, so its own in-flight set)."""
    from server.app import create_app

    server = LiveServer(create_app(settings, run_workers=False, configure_logs=False), free_port(), live_server.headers)
    server.start()
    yield server
    server.stop()


def _contend(servers: tuple[LiveServer, ...], key: str) -> list[httpx.Response]:
    """``CLIENTS`` POSTs with one key, released at once, spread over ``servers``."""
    barrier = threading.Barrier(CLIENTS)
    answers: list[httpx.Response] = []
    lock = threading.Lock()

    def post(server: LiveServer) -> None:
        with httpx.Client(base_url=server.url, headers={**server.headers, "Idempotency-Key": key}, timeout=30) as http:
            barrier.wait()
            response = http.post(RESOURCES, json=BODY)
        with lock:
            answers.append(response)

    threads = [threading.Thread(target=post, args=(servers[index % len(servers)],)) for index in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return answers


def test_concurrent_duplicates_through_two_servers_make_one_resource(
    live_server: LiveServer, second_server: LiveServer, clean_db: Engine
) -> None:
    for round_number in range(3):
        answers = _contend((live_server, second_server), f"contended-{round_number}")
        statuses = sorted(response.status_code for response in answers)
        assert len(answers) == CLIENTS
        assert set(statuses) <= {201, 409}, statuses
        created = [response for response in answers if response.status_code == 201]
        assert created, statuses
        assert len({response.json()["id"] for response in created}) == 1  # the first answer, replayed
        for response in answers:
            if response.status_code == 409:
                assert response.json()["code"] == "IDEMPOTENCY_KEY_IN_FLIGHT"
        assert resources(clean_db) == round_number + 1
    assert keys(clean_db) == 3


class _MeetingClaim(Claim):
    """Waits, with its use case done and its transaction open, until the other one is there too."""

    barrier: threading.Barrier

    def before_commit(self, session: Session) -> None:
        self.barrier.wait(timeout=10)
        super().before_commit(session)


def test_two_transactions_with_one_key_commit_one_effect(clean_db: Engine) -> None:
    factory: sessionmaker[Session] = make_session_factory(clean_db)
    barrier = threading.Barrier(2)
    outcomes: list[Any] = []

    def run() -> None:
        claim = _MeetingClaim(Slot("test-user", "k"), "f" * 64, "req", RESOURCES, clock.now, timedelta(hours=24))
        claim.barrier = barrier
        try:
            with watch_transactions(claim):
                outcomes.append(service.create_resource(UnitOfWork(factory), BODY))
        except KeyAlreadyRecorded as refused:
            outcomes.append(refused)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(type(outcome).__name__ for outcome in outcomes) == ["KeyAlreadyRecorded", "ResourceData"]
    assert resources(clean_db) == 1  # the refused one rolled its resource back with its key
    assert keys(clean_db) == 1
