"""A hub listener sees only the events its registering credential could read (issue 15): the credential is
recorded at ``POST /hub`` and checked again before each run of deliveries; a revoked or expired token, or
a listener registered without a credential, gets nothing more (its events go to the dead letters, with
the reason)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from helpers_events import deliveries, subscribe
from sqlalchemy import Engine, update
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from common import clock
from common.events import DEAD, DELIVERED, EventSubscription
from server.auth.hub_gate import CredentialGate
from server.auth.models import ApiToken
from server.dispatcher import Dispatcher
from tests.support.auth import token_headers
from tests.support.recording_listener import RecordingListener

pytestmark = pytest.mark.integration

RI = "/tmf-api/resourceInventoryManagement/v4"


@pytest.fixture
def dispatcher(session_factory: sessionmaker[Session]):
    running = Dispatcher(session_factory, gate=CredentialGate(session_factory).refusal)
    yield running
    running.close()


def register(client: TestClient, listener: RecordingListener, key: str) -> str:
    response = client.post(f"{RI}/hub", json={"callback": listener.url}, headers=token_headers(key))
    assert response.status_code == 201, response.text
    listener.trust(response.json()["secret"])  # a real listener keeps the secret of its 201
    return str(response.json()["id"])


def change(client: TestClient, name: str) -> None:
    assert client.post(f"{RI}/resource", json={"name": name}).status_code == 201


def test_the_registering_credential_is_recorded_on_the_subscription(
    client: TestClient, make_token: Any, session_factory: Any
) -> None:
    token_id, key = make_token(user="crm", scopes=["resourceInventory:read"])
    subscription_id = register(client, RecordingListener(), key)
    with session_factory() as session, session.begin():
        row = session.get(EventSubscription, subscription_id)
        assert (row.credential_kind, row.credential_subject, row.credential_token_id) == ("token", "crm", token_id)
        assert row.credential_scopes == ["resourceInventory:read"] and row.created_by == "crm"


def test_events_stop_once_the_registering_token_is_revoked(
    client: TestClient, make_token: Any, listener: RecordingListener, dispatcher: Dispatcher, session_factory: Any
) -> None:
    token_id, key = make_token(user="crm", scopes=["resourceInventory:read"])
    register(client, listener, key)
    change(client, "before")
    dispatcher.run_once()
    assert len(listener.wait_for_count(1)) == 1
    assert client.delete(f"/provisio/auth/v1/token/{token_id}").status_code == 204
    change(client, "after")
    dispatcher.run_once()
    states = [(delivery.state, delivery.last_error) for delivery, _ in deliveries(session_factory)]
    assert states[0] == (DELIVERED, None)
    assert states[1][0] == DEAD and "revoked" in str(states[1][1])
    assert len(listener.received) == 1


def test_events_stop_once_the_registering_token_has_expired(
    client: TestClient,
    make_token: Any,
    clean_db: Engine,
    listener: RecordingListener,
    dispatcher: Dispatcher,
    session_factory: Any,
) -> None:
    token_id, key = make_token(scopes=["resourceInventory:read"], expires_in=3600)
    register(client, listener, key)
    with clean_db.begin() as connection:
        connection.execute(
            update(ApiToken).where(ApiToken.id == token_id).values(expires_at=clock.now() - timedelta(seconds=1))
        )
    change(client, "late")
    dispatcher.run_once()
    [(delivery, _event)] = deliveries(session_factory)
    assert delivery.state == DEAD and "expired" in str(delivery.last_error)
    assert listener.received == []


def test_a_jwt_listener_keeps_the_scopes_of_its_jwt(
    client: TestClient, identity_provider: Any, listener: RecordingListener, dispatcher: Dispatcher
) -> None:
    jwt = identity_provider.token(scope="resourceInventory:read")
    response = client.post(f"{RI}/hub", json={"callback": listener.url}, headers={"Authorization": f"Bearer {jwt}"})
    assert response.status_code == 201
    listener.trust(response.json()["secret"])
    change(client, "seen")
    dispatcher.run_once()
    assert len(listener.wait_for_count(1)) == 1


def test_a_listener_without_a_credential_gets_nothing_with_authentication_on(
    client: TestClient, listener: RecordingListener, dispatcher: Dispatcher, session_factory: Any
) -> None:
    subscribe(session_factory, listener.url, credential=False)  # as registered while PROVISIO_AUTH was off
    change(client, "unseen")
    dispatcher.run_once()
    [(delivery, _event)] = deliveries(session_factory)
    assert delivery.state == DEAD and "without a credential" in str(delivery.last_error)


def test_a_credential_without_the_read_scope_gets_nothing(
    client: TestClient, make_token: Any, listener: RecordingListener, dispatcher: Dispatcher, session_factory: Any
) -> None:
    _, key = make_token(scopes=["resourceInventory:read"])
    subscription_id = register(client, listener, key)
    with session_factory() as session, session.begin():  # e.g. a JWT whose scopes were recorded narrower
        session.execute(
            update(EventSubscription)
            .where(EventSubscription.id == subscription_id)
            .values(credential_scopes=["audit:read"])
        )
    change(client, "unreadable")
    dispatcher.run_once()
    [(delivery, _event)] = deliveries(session_factory)
    assert delivery.state == DEAD and "resourceInventory:read" in str(delivery.last_error)
