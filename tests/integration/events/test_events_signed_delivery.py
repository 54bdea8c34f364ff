"""Signed hub deliveries (issue 15, "Signed callbacks") over real sockets: the secret answered once by
``POST /hub`` signs every attempt (a fresh timestamp and signature per attempt, the same eventId), the
tests' listener refuses what does not verify, and the secret shows up nowhere else (responses, log
lines, the audit trail)."""

from __future__ import annotations

import io
import json
import logging
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, select
from starlette.testclient import TestClient

from common import clock
from common.audit import AuditRecord
from common.events import DELIVERED, PENDING, EventDelivery, EventSubscription
from common.events.signing import SIGNATURE_HEADER, signature_header
from server.db import make_session_factory
from server.dispatcher import Dispatcher, RetryPolicy
from server.logs import make_handler
from tests.support.recording_listener import RecordingListener

pytestmark = pytest.mark.integration

RI = "/tmf-api/resourceInventoryManagement/v4"
OPS = "/provisio/audit/v1"
SECRET = "whsec_listener-test"
BODY = b'{"eventId":"e-1","eventType":"ResourceCreateEvent"}'


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    """Every log line of the test, down to DEBUG (httpx and httpcore included), as the server writes them."""
    stream = io.StringIO()
    handler = make_handler(stream)
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)


def register(client: TestClient, listener: RecordingListener) -> dict[str, Any]:
    response = client.post(f"{RI}/hub", json={"callback": listener.url}, headers={"X-User": "crm"})
    assert response.status_code == 201, response.text
    return dict(response.json())


def post_to(listener: RecordingListener, body: bytes, signature: str | None) -> int:
    headers = {"Content-Type": "application/json", **({SIGNATURE_HEADER: signature} if signature else {})}
    return httpx.post(listener.url, content=body, headers=headers, timeout=5).status_code


def test_the_listener_refuses_a_forged_body_a_stale_timestamp_and_an_unknown_key(
    listener: RecordingListener,
) -> None:
    listener.trust(SECRET)
    now = int(time.time())
    genuine = signature_header(SECRET, BODY, now)
    forged = BODY.replace(b"e-1", b"e-2")

    assert post_to(listener, forged, genuine) == 401  # a body the signature does not cover
    assert post_to(listener, BODY, signature_header(SECRET, BODY, now - 301)) == 401  # stale: a replay
    assert post_to(listener, BODY, signature_header("whsec_someone-else", BODY, now)) == 401
    assert post_to(listener, BODY, None) == 401
    assert listener.received == []
    assert post_to(listener, BODY, genuine) == 201
    assert listener.received == [json.loads(BODY)]
    assert [attempt.verified for attempt in listener.attempts] == [False, False, False, False, True]


def test_a_delivery_is_signed_with_the_secret_answered_at_registration(
    client: TestClient, clean_db: Engine, listener: RecordingListener
) -> None:
    created = register(client, listener)
    listener.trust(created["secret"])
    resource = client.post(f"{RI}/resource", json={"name": "signed"}).json()
    sent_at = time.time()

    worker = Dispatcher(make_session_factory(clean_db), wall_clock=lambda: sent_at)
    try:
        assert worker.run_once() == 1
    finally:
        worker.close()

    [event] = listener.events()
    assert event["event"]["resource"]["id"] == resource["id"]
    [attempt] = listener.attempts
    assert attempt.verified and attempt.event_id == event["eventId"]
    assert attempt.signature is not None and attempt.signature.startswith(f"t={int(sent_at)},v1=")


def test_a_listener_holding_another_subscriptions_secret_refuses_and_the_delivery_is_retried(
    client: TestClient, clean_db: Engine, listener: RecordingListener
) -> None:
    register(client, listener)
    other = client.post(f"{RI}/hub", json={"callback": "http://127.0.0.1:9/other"}).json()
    listener.trust(other["secret"])  # secrets are per subscription
    client.post(f"{RI}/resource", json={"name": "x"})

    factory = make_session_factory(clean_db)
    worker = Dispatcher(factory)
    try:
        worker.run_once()
    finally:
        worker.close()

    assert listener.received == [] and listener.attempts[0].verified is False
    with factory() as session, session.begin():
        mine = session.scalars(select(EventDelivery).where(EventDelivery.subscription_id != other["id"])).one()
        assert (mine.state, mine.last_status) == (PENDING, 401)


def test_a_retry_is_signed_afresh_with_the_same_event_id(
    client: TestClient, clean_db: Engine, listener: RecordingListener, fixed_clock: clock.FixedClock
) -> None:
    listener.trust(register(client, listener)["secret"])
    client.post(f"{RI}/resource", json={"name": "x"})
    listener.script = [503]
    base = int(time.time())
    send_times = iter([base, base + 7])

    factory = make_session_factory(clean_db)
    policy = RetryPolicy(max_attempts=3, base_delay=10.0, jitter=0.0)
    worker = Dispatcher(factory, policy=policy, wall_clock=lambda: next(send_times))
    try:
        assert worker.run_once() == 1
        fixed_clock.advance(timedelta(seconds=10))
        assert worker.run_once() == 1
    finally:
        worker.close()

    first, retry = listener.attempts
    assert (first.status, retry.status) == (503, 201) and first.verified and retry.verified
    assert first.event_id == retry.event_id == listener.events()[0]["eventId"]
    assert first.signature is not None and first.signature.startswith(f"t={base},")
    assert retry.signature is not None and retry.signature.startswith(f"t={base + 7},")
    assert first.signature.split(",")[1] != retry.signature.split(",")[1]
    with factory() as session, session.begin():
        assert session.scalars(select(EventDelivery.state)).one() == DELIVERED


def test_the_secret_is_answered_once_and_never_shown_or_logged_again(
    client: TestClient, clean_db: Engine, listener: RecordingListener, log_stream: io.StringIO
) -> None:
    created = register(client, listener)
    secret = created["secret"]
    listener.trust(secret)
    resource = client.post(f"{RI}/resource", json={"name": "x"}, headers={"X-User": "crm"}).json()
    client.patch(
        f"{RI}/resource/{resource['id']}",
        json={"name": "y"},
        headers={"Content-Type": "application/merge-patch+json", "X-User": "crm"},
    )
    factory = make_session_factory(clean_db)
    worker = Dispatcher(factory)
    try:
        assert worker.run_once() == 2
    finally:
        worker.close()
    assert len(listener.events()) == 2

    # Stored, for signing, exactly as answered.
    with factory() as session, session.begin():
        assert session.scalars(select(EventSubscription.signing_secret)).one() == secret
        audit = [
            json.dumps([record.entity_type, record.entity_id, record.before, record.after], default=str)
            for record in session.scalars(select(AuditRecord))
        ]
    assert audit and not any(secret in line for line in audit)

    [delivery] = client.get(f"{OPS}/eventDelivery", params={"limit": 1}).json()
    shown = [
        client.get(f"{RI}/hub/{created['id']}"),
        client.get(f"{OPS}/eventSubscription"),
        client.get(f"{OPS}/eventSubscription/{created['id']}"),
        client.get(f"{OPS}/eventDelivery"),
        client.get(f"{OPS}/eventDelivery/{delivery['id']}"),
        client.get(f"{OPS}/auditRecord"),
    ]
    assert all(response.status_code == 200 for response in shown)
    assert "secret" not in shown[0].json()
    assert not any(secret in response.text for response in shown)
    # Not selectable and not filterable either (a filter would be an oracle for guessing it).
    for params in ({"fields": "secret"}, {"fields": "signingSecret"}, {"signingSecret": secret}, {"secret": secret}):
        probe = client.get(f"{OPS}/eventSubscription", params=params)
        assert probe.status_code == 400 and secret not in probe.text, (params, probe.text)
    assert "registered on resourceInventoryManagement hub" in log_stream.getvalue()
    assert secret not in log_stream.getvalue()
