"""Idempotency-Key on every POST (issue 16; draft-ietf-httpapi-idempotency-key-header), through the API:
TMF639 creates and hub registrations, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, select
from starlette.testclient import TestClient

from common import clock
from common.events import EventSubscription
from oss.resource_inventory import service
from server.db import make_session_factory
from server.event_purge import PurgeSchedule
from server.idempotency import IdempotencyRecord
from tests.api.idempotency.helpers_idempotency import (
    HUB,
    RESOURCES,
    answer,
    audit_records,
    count,
    events,
    keys,
    lose_answers,
    resources,
)
from tests.support.auth import token_headers

BODY: dict[str, Any] = {"@type": "LogicalResource", "name": "line-1", "resourceStatus": "available"}


def _post(client: TestClient, key: str | None, body: Any = BODY, path: str = RESOURCES, **headers: str) -> Any:
    if key is not None:
        headers["Idempotency-Key"] = key
    return client.post(path, json=body, headers=headers)


def test_retry_with_the_same_key_and_body_gets_the_first_answer_and_changes_nothing(
    client: TestClient, clean_db: Engine
) -> None:
    first = _post(client, "create-line-1")
    assert first.status_code == 201
    changes = (resources(clean_db), events(clean_db), audit_records(clean_db))
    retry = _post(client, "create-line-1")
    assert answer(retry) == answer(first)  # status, Location, ETag, Content-Type, body
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert (resources(clean_db), events(clean_db), audit_records(clean_db)) == changes == (1, 1, 1)


def test_retry_counts_the_json_value_not_its_spelling(client: TestClient, clean_db: Engine) -> None:
    first = client.post(RESOURCES, content=b'{"name": "line-1", "@type": "LogicalResource"}',
                        headers={"Idempotency-Key": "k", "Content-Type": "application/json"})  # fmt: skip
    retry = client.post(RESOURCES, content=b'{"@type":"LogicalResource","name":"line-1"}',
                        headers={"Idempotency-Key": "k", "Content-Type": "application/json"})  # fmt: skip
    assert answer(retry) == answer(first)
    assert resources(clean_db) == 1


def test_a_quoted_key_and_the_same_bare_key_are_one_key(client: TestClient, clean_db: Engine) -> None:
    first = _post(client, '"8e03978e-40d5-43e8-bc93-6894a57f9324"')  # the draft's Structured Field String
    retry = _post(client, "8e03978e-40d5-43e8-bc93-6894a57f9324")
    assert answer(retry) == answer(first)
    assert resources(clean_db) == 1


def test_same_key_with_another_body_is_422_and_changes_nothing(client: TestClient, clean_db: Engine) -> None:
    _post(client, "k")
    other = _post(client, "k", {**BODY, "name": "line-2"})
    assert other.status_code == 422
    assert other.json()["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert other.json()["@type"] == "Error"
    assert resources(clean_db) == 1


def test_same_key_on_another_operation_is_422(client: TestClient, clean_db: Engine) -> None:
    _post(client, "k")
    other = _post(client, "k", {"callback": "http://127.0.0.1:9/listener"}, path=HUB)
    assert other.status_code == 422
    assert count(clean_db, EventSubscription) == 0


def test_without_the_header_every_post_creates(client: TestClient, clean_db: Engine) -> None:
    assert _post(client, None).status_code == 201
    assert _post(client, None).status_code == 201
    assert resources(clean_db) == 2
    assert keys(clean_db) == 0


def test_a_key_belongs_to_its_user(client: TestClient, clean_db: Engine, make_token) -> None:  # type: ignore[no-untyped-def]
    _token, other_key = make_token(user="someone-else")
    mine = _post(client, "shared-key")
    theirs = _post(client, "shared-key", **token_headers(other_key))
    assert mine.status_code == theirs.status_code == 201
    assert mine.json()["id"] != theirs.json()["id"]
    assert resources(clean_db) == 2
    with clean_db.connect() as connection:
        actors = set(connection.execute(select(IdempotencyRecord.actor)).scalars())
    assert actors == {"test-user", "someone-else"}


def test_a_refused_request_leaves_the_key_free_for_the_corrected_one(client: TestClient, clean_db: Engine) -> None:
    refused = _post(client, "k", {"@type": "LogicalResource", "name": 42})  # schema: name is a string
    assert refused.status_code == 400
    assert keys(clean_db) == 0
    corrected = _post(client, "k")
    assert corrected.status_code == 201
    assert resources(clean_db) == 1


def test_a_use_case_refusal_records_nothing(client: TestClient, clean_db: Engine) -> None:
    refused = _post(client, "k", {"@type": "NoSuchType", "name": "x"})
    assert 400 <= refused.status_code < 500
    assert keys(clean_db) == 0
    assert _post(client, "k").status_code == 201


@pytest.mark.parametrize(
    "key",
    ["", '""', "x" * 256, "caf\u00e9", "tab\there", 'quote"inside', "back\\slash", '"unbalanced'],
    ids=["empty", "empty-string", "too-long", "non-ascii", "control", "quote", "backslash", "unbalanced"],
)
def test_a_malformed_key_is_400_and_changes_nothing(client: TestClient, clean_db: Engine, key: str) -> None:
    response = client.post(RESOURCES, json=BODY, headers=[(b"Idempotency-Key", key.encode())])
    assert response.status_code == 400
    assert response.json()["code"] == "INVALID_IDEMPOTENCY_KEY"
    assert resources(clean_db) == 0


def test_two_keys_in_one_request_are_400(client: TestClient, clean_db: Engine) -> None:
    response = client.post(RESOURCES, json=BODY, headers=[("Idempotency-Key", "a"), ("Idempotency-Key", "b")])
    assert response.status_code == 400
    assert resources(clean_db) == 0


def test_hub_registration_retry_gets_the_first_answer_with_its_secret(client: TestClient, clean_db: Engine) -> None:
    body = {"callback": "http://127.0.0.1:9/listener"}
    first = _post(client, "hub-1", body, path=HUB)
    assert first.status_code == 201
    assert first.json()["secret"]
    retry = _post(client, "hub-1", body, path=HUB)
    assert answer(retry) == answer(first)
    assert count(clean_db, EventSubscription) == 1


def test_lost_answer_of_a_create_is_rendered_again_from_the_resource(client: TestClient, clean_db: Engine) -> None:
    first = _post(client, "k")
    lose_answers(clean_db)
    retry = _post(client, "k")
    status, headers, body = answer(retry)
    assert (status, body) == (201, first.content)
    assert headers["location"] == first.headers["Location"]
    assert headers["etag"] == first.headers["ETag"]
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert resources(clean_db) == 1
    assert answer(_post(client, "k")) == answer(retry)  # the re-rendered answer was kept


def test_lost_answer_of_a_hub_registration_is_rendered_again_with_its_secret(
    client: TestClient, clean_db: Engine
) -> None:
    body = {"callback": "http://127.0.0.1:9/listener"}
    first = _post(client, "hub-1", body, path=HUB)
    lose_answers(clean_db)
    retry = _post(client, "hub-1", body, path=HUB)
    assert retry.status_code == 201
    assert retry.json() == first.json()
    assert retry.headers["Location"] == first.headers["Location"]
    assert count(clean_db, EventSubscription) == 1


def test_lost_answer_of_a_deleted_resource_is_a_409_that_says_so(client: TestClient, clean_db: Engine) -> None:
    first = _post(client, "k")
    assert client.delete(first.headers["Location"]).status_code == 204
    lose_answers(clean_db)
    retry = _post(client, "k")
    assert retry.status_code == 409
    assert retry.json()["code"] == "IDEMPOTENT_ANSWER_LOST"
    assert first.json()["id"] in retry.json()["message"]
    assert resources(clean_db) == 0


def test_api_token_create_keeps_no_key_in_the_idempotency_table(client: TestClient, clean_db: Engine) -> None:
    body = {"user": "robot", "scope": ["resourceInventory:read"]}
    first = _post(client, "token-1", body, path="/provisio/auth/v1/token")
    assert first.status_code == 201
    with clean_db.connect() as connection:
        kept = connection.execute(select(IdempotencyRecord.body)).scalar_one()
    assert kept is None
    retry = _post(client, "token-1", body, path="/provisio/auth/v1/token")
    assert retry.status_code == 201
    assert retry.json()["id"] == first.json()["id"]
    assert "key" not in retry.json()  # shown once, ever


@pytest.fixture
def fixed_clock() -> Iterator[clock.FixedClock]:
    fixed = clock.FixedClock(datetime(2026, 11, 2, 9, 0, tzinfo=UTC))
    previous = clock.set_clock(fixed)
    yield fixed
    clock.set_clock(previous)


def test_a_key_expires_after_its_ttl(client: TestClient, clean_db: Engine, fixed_clock: clock.FixedClock) -> None:
    _post(client, "k")
    fixed_clock.advance(timedelta(hours=23, minutes=59))
    assert _post(client, "k").headers.get("Idempotent-Replayed") == "true"
    fixed_clock.advance(timedelta(minutes=2))
    again = _post(client, "k")
    assert again.status_code == 201
    assert "Idempotent-Replayed" not in again.headers
    assert resources(clean_db) == 2


def test_expired_keys_are_purged_with_the_events(
    client: TestClient, clean_db: Engine, fixed_clock: clock.FixedClock
) -> None:
    _post(client, "old")
    fixed_clock.advance(timedelta(hours=12))
    _post(client, "young")
    fixed_clock.advance(timedelta(hours=12, seconds=1))
    purged = PurgeSchedule(
        make_session_factory(clean_db), retention=None
    ).run_now()  # events kept forever: keys still go
    assert purged == 1
    with clean_db.connect() as connection:
        assert list(connection.execute(select(IdempotencyRecord.key)).scalars()) == ["young"]


def test_a_duplicate_while_the_first_is_in_flight_is_409(live_server, clean_db: Engine, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    entered, release = threading.Event(), threading.Event()
    original = service.create_resource

    def slow_create(*args: Any, **kwargs: Any) -> Any:
        entered.set()
        assert release.wait(10)
        return original(*args, **kwargs)

    monkeypatch.setattr(service, "create_resource", slow_create)
    headers = {**live_server.headers, "Idempotency-Key": "slow"}
    results: list[httpx.Response] = []
    with httpx.Client(base_url=live_server.url, headers=headers, timeout=20) as http:
        first = threading.Thread(target=lambda: results.append(http.post(RESOURCES, json=BODY)))
        first.start()
        assert entered.wait(10)
        duplicate = http.post(RESOURCES, json=BODY)
        release.set()
        first.join(20)
        retry = http.post(RESOURCES, json=BODY)
    assert duplicate.status_code == 409
    assert duplicate.json()["code"] == "IDEMPOTENCY_KEY_IN_FLIGHT"
    assert results[0].status_code == 201
    assert retry.status_code == 201
    assert retry.json() == results[0].json()
    assert resources(clean_db) == 1
