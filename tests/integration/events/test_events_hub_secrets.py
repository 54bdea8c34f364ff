"""A callback's credentials (issue 14 items 16 and 17): delivery uses them, people never see them.

``GET /hub/{id}``, ``GET /eventSubscription[/{id}]`` and ``GET /eventDelivery[/{id}]`` answer the callback
masked, log lines too; the listener still gets the userinfo (as Basic auth) and the query token.
"""

from __future__ import annotations

import base64
import io
import logging
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, update
from starlette.testclient import TestClient

from common.events import EventDelivery
from server.db import make_session_factory
from server.dispatcher import Dispatcher
from server.logs import make_handler
from tests.support.recording_listener import RecordingListener

pytestmark = pytest.mark.integration

RI = "/tmf-api/resourceInventoryManagement/v4"
OPS = "/provisio/audit/v1"


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = make_handler(stream)
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)


def test_callback_credentials_are_masked_everywhere_but_delivery(
    client: TestClient, clean_db: Engine, listener: RecordingListener, log_stream: io.StringIO
) -> None:
    callback = f"http://crm:hunter2@127.0.0.1:{listener.port}/listener?access_token=s3cr3t&tenant=7"
    masked = f"http://***@127.0.0.1:{listener.port}/listener?access_token=***&tenant=7"
    registered = client.post(f"{RI}/hub", json={"callback": callback})
    assert registered.status_code == 201, registered.text
    subscription_id = registered.json()["id"]
    assert registered.json()["callback"] == masked
    listener.trust(registered.json()["secret"])
    client.post(f"{RI}/resource", json={"name": "x"})

    worker = Dispatcher(make_session_factory(clean_db))
    try:
        assert worker.run_once() == 1
    finally:
        worker.close()
    assert listener.paths == ["/listener?access_token=s3cr3t&tenant=7"]
    assert listener.authorizations == ["Basic " + base64.b64encode(b"crm:hunter2").decode()]

    [delivery] = client.get(f"{OPS}/eventDelivery").json()
    shown = [
        client.get(f"{RI}/hub/{subscription_id}").json()["callback"],
        client.get(f"{OPS}/eventSubscription").json()[0]["callback"],
        client.get(f"{OPS}/eventSubscription/{subscription_id}").json()["callback"],
        delivery["callback"],
        client.get(f"{OPS}/eventDelivery/{delivery['id']}").json()["callback"],
    ]
    assert shown == [masked] * 5
    assert "hunter2" not in log_stream.getvalue() and "s3cr3t" not in log_stream.getvalue()
    assert masked in log_stream.getvalue()


def test_invalid_callback_error_masks_its_credentials(client: TestClient) -> None:
    response = client.post(f"{RI}/hub", json={"callback": "ftp://crm:hunter2@127.0.0.1/x"})
    assert response.status_code == 400 and "hunter2" not in response.text


def test_get_hub_by_id_answers_the_listener_of_this_hub_only(client: TestClient) -> None:
    body = {"callback": "http://127.0.0.1:9/x", "query": "eventType=ResourceCreateEvent"}
    created = client.post(f"{RI}/hub", json=body)
    listener_id = created.json()["id"]
    fetched = client.get(f"{RI}/hub/{listener_id}")
    # The same listener, less its signing secret (answered once, at registration).
    shown_once = {key: value for key, value in created.json().items() if key != "secret"}
    assert fetched.status_code == 200 and fetched.json() == shown_once
    client.delete(f"{RI}/hub/{listener_id}")
    gone = client.get(f"{RI}/hub/{listener_id}")
    assert gone.status_code == 404 and gone.json()["code"] == "SUBSCRIPTION_NOT_FOUND"


@pytest.mark.parametrize("path", ["eventSubscription/no-such-id", "eventDelivery/999999", "eventDelivery/abc"])
def test_get_by_id_of_an_unknown_subscription_or_delivery_is_a_tmf_404(client: TestClient, path: str) -> None:
    response = client.get(f"{OPS}/{path}")
    assert response.status_code == 404 and response.json()["@type"] == "Error"


def test_a_delivery_error_quoting_the_callback_is_shown_masked(client: TestClient, clean_db: Engine) -> None:
    client.post(f"{RI}/hub", json={"callback": "http://crm:hunter2@127.0.0.1:9/x"})
    client.post(f"{RI}/resource", json={"name": "x"})
    with clean_db.begin() as connection:
        connection.execute(
            update(EventDelivery).values(last_error="ConnectError: http://crm:hunter2@127.0.0.1:9/x refused")
        )
    [delivery] = client.get(f"{OPS}/eventDelivery").json()
    assert delivery["lastError"] == "ConnectError: http://***@127.0.0.1:9/x refused"
    assert client.get(f"{OPS}/eventDelivery/{delivery['id']}").json()["lastError"] == delivery["lastError"]


def test_filter_and_sort_on_callback_see_only_the_masked_form(client: TestClient) -> None:
    """A filter or sort on the stored URL would confirm a guessed credential: both work on the masked form."""
    secret, guess = "http://127.0.0.1:9/cb?token=s3cr3t", "http://127.0.0.1:9/cb?token=wrong"
    assert client.post(f"{RI}/hub", json={"callback": secret}).status_code == 201
    assert client.post(f"{RI}/hub", json={"callback": "http://127.0.0.1:9/cb?token=zzz"}).status_code == 201

    def matches(callback: str) -> int:
        response = client.get(f"{OPS}/eventSubscription", params={"callback": callback})
        assert response.status_code == 200, response.text
        return len(response.json())

    assert matches(secret) == 0 and matches(guess) == 0
    assert matches("http://127.0.0.1:9/cb?token=***") == 2
    # Equal masked forms sort by id alone, so the order cannot tell which stored token sorts first.
    shown = client.get(f"{OPS}/eventSubscription", params={"sort": "callback"}).json()
    assert [row["id"] for row in shown] == sorted(row["id"] for row in shown)
