"""Hub delivery end to end: the real server (uvicorn, in-process dispatcher) on 127.0.0.1, real listeners
over HTTP, TMF639 changes through the API, and a listener that goes down and comes back on the same port."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import httpx
import pytest

from server import deps
from server.settings import Settings
from tests.conftest import LiveServer
from tests.support.recording_listener import RecordingListener

pytestmark = pytest.mark.e2e

T = TypeVar("T")

RI = "/tmf-api/resourceInventoryManagement/v4"
OPS = "/provisio/audit/v1"
MERGE_PATCH = {"content-type": "application/merge-patch+json", "X-User": "noc"}


@pytest.fixture(scope="session")
def settings(settings: Settings) -> Settings:
    """Retries every 50-200 ms, so a listener that comes back is served again within a blink."""
    return dataclasses.replace(settings, delivery_retry_base=0.05, delivery_retry_max=0.2, delivery_max_attempts=10_000)


@pytest.fixture
def api(live_server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_server.url, timeout=10) as client:
        yield client


@pytest.fixture
def listeners() -> Iterator[list[RecordingListener]]:
    started: list[RecordingListener] = []
    yield started
    for listener in started:
        listener.stop()


def listen(listeners: list[RecordingListener]) -> RecordingListener:
    listener = RecordingListener().start()
    listeners.append(listener)
    return listener


def register(api: httpx.Client, listener: RecordingListener, query: str | None = None) -> str:
    body = {"callback": listener.url, **({"query": query} if query else {})}
    response = api.post(f"{RI}/hub", json=body)
    assert response.status_code == 201, response.text
    listener.trust(response.json()["secret"])  # it verifies every delivery's signature with it
    return str(response.json()["id"])


def create(api: httpx.Client, **resource: Any) -> str:
    response = api.post(f"{RI}/resource", json=resource, headers={"X-User": "noc"})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def patch(api: httpx.Client, resource_id: str, **changes: Any) -> None:
    response = api.patch(f"{RI}/resource/{resource_id}", json=changes, headers=MERGE_PATCH)
    assert response.status_code == 200, response.text


def types(events: list[dict[str, Any]]) -> list[str]:
    return [event["eventType"] for event in events]


def expected_event_ids(api: httpx.Client, subscription_id: str) -> list[str]:
    """What the server owes this listener, in outbox order (the ops API lists newest first)."""
    response = api.get(f"{OPS}/eventDelivery", params={"subscriptionId": subscription_id, "limit": 1000})
    assert response.status_code == 200
    return [delivery["eventId"] for delivery in reversed(response.json())]


def wait_until(fetch: Callable[[], T], done: Callable[[T], bool], timeout: float = 10.0) -> T:
    """Poll ``fetch`` until ``done`` holds (a deadline, not a fixed sleep)."""
    deadline = time.monotonic() + timeout
    while True:
        value = fetch()
        if done(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not reached in {timeout}s: {value}")
        time.sleep(0.02)


def test_listeners_get_the_tmf639_events_their_query_selects(
    api: httpx.Client, listeners: list[RecordingListener]
) -> None:
    everything, changes, available = listen(listeners), listen(listeners), listen(listeners)
    register(api, everything)
    register(api, changes, "eventType=ResourceStateChangeEvent,ResourceDeleteEvent")
    register(api, available, "eventType=ResourceCreateEvent&event.resource.resourceStatus=available")

    port = create(api, name="ge-0/0/1", resourceStatus="available")
    create(api, name="ge-0/0/2", resourceStatus="reserved")
    patch(api, port, description="uplink to PE1")
    patch(api, port, resourceStatus="reserved")
    assert api.delete(f"{RI}/resource/{port}", headers={"X-User": "noc"}).status_code == 204

    all_events = everything.wait_for_count(5)
    assert types(all_events) == [
        "ResourceCreateEvent",
        "ResourceCreateEvent",
        "ResourceAttributeValueChangeEvent",
        "ResourceStateChangeEvent",
        "ResourceDeleteEvent",
    ]
    attribute_change = all_events[2]
    assert attribute_change["event"]["resource"]["description"] == "uplink to PE1"
    assert all(event["event"]["resource"]["id"] for event in all_events)
    assert len({event["eventId"] for event in all_events}) == 5

    assert types(changes.wait_for_count(2)) == ["ResourceStateChangeEvent", "ResourceDeleteEvent"]
    assert changes.events()[0]["event"]["resource"]["resourceStatus"] == "reserved"
    [created] = available.wait_for_count(1)
    assert created["event"]["resource"]["name"] == "ge-0/0/1"

    # Everything owed has been delivered by now: no event leaked to a listener whose query excludes it.
    assert len(changes.events()) == 2 and len(available.events()) == 1


def test_listener_that_goes_down_gets_every_missed_event_once_back(
    api: httpx.Client, listeners: list[RecordingListener]
) -> None:
    assert deps.container().settings.delivery_retry_base == 0.05  # the live server retries fast (fixture above)
    listener = listen(listeners)
    subscription = register(api, listener)
    first = create(api, name="before-outage")
    listener.wait_for_count(1)

    listener.stop()  # port closed: connection refused
    during = [create(api, name=f"during-outage-{index}") for index in range(3)]
    patch(api, during[0], resourceStatus="reserved")
    patch(api, first, description="changed while the listener was down")
    assert api.delete(f"{RI}/resource/{during[1]}", headers={"X-User": "noc"}).status_code == 204
    owed = expected_event_ids(api, subscription)
    assert len(owed) == 7

    listener.start()  # back, on the same port
    listener.wait_for(lambda received: {event["eventId"] for event in received} >= set(owed), timeout=20)

    received_ids = [event["eventId"] for event in listener.events()]
    assert set(received_ids) == set(owed)  # nothing lost, nothing foreign
    first_seen = list(dict.fromkeys(received_ids))
    assert first_seen == owed  # and in the order the changes were made
    # At-least-once: a repeat is only ever a repeat of an eventId (same payload), which listeners drop.
    by_id: dict[str, dict[str, Any]] = {}
    for event in listener.events():
        assert by_id.setdefault(event["eventId"], event) == event
    assert types([by_id[event_id] for event_id in owed]) == [
        "ResourceCreateEvent",
        "ResourceCreateEvent",
        "ResourceCreateEvent",
        "ResourceCreateEvent",
        "ResourceStateChangeEvent",
        "ResourceAttributeValueChangeEvent",
        "ResourceDeleteEvent",
    ]

    # The listener has the events; the dispatcher records each outcome just after the listener answers.
    deliveries = wait_until(
        lambda: api.get(f"{OPS}/eventDelivery", params={"subscriptionId": subscription}).json(),
        lambda found: {delivery["state"] for delivery in found} == {"delivered"},
    )
    assert max(delivery["attempts"] for delivery in deliveries) > 1  # the outage was really retried


def test_unregistered_listener_gets_nothing_more(api: httpx.Client, listeners: list[RecordingListener]) -> None:
    leaving, staying = listen(listeners), listen(listeners)
    subscription = register(api, leaving)
    register(api, staying)
    create(api, name="one")
    leaving.wait_for_count(1)
    assert api.delete(f"{RI}/hub/{subscription}").status_code == 204

    create(api, name="two")
    staying.wait_for_count(2)
    assert len(leaving.events()) == 1


def test_every_delivery_is_signed_for_its_own_listener_and_verifies(
    api: httpx.Client, listeners: list[RecordingListener]
) -> None:
    mine, impostor = listen(listeners), listen(listeners)
    register(api, mine)
    response = api.post(f"{RI}/hub", json={"callback": impostor.url})
    assert response.status_code == 201
    impostor.trust(api.post(f"{RI}/hub", json={"callback": "http://127.0.0.1:9/x"}).json()["secret"])
    resource = create(api, name="signed")
    patch(api, resource, description="signed again")

    received = mine.wait_for_count(2)
    assert all(attempt.verified for attempt in mine.attempts)
    assert [attempt.event_id for attempt in mine.attempts] == [event["eventId"] for event in received]
    # Signed with the impostor's subscription secret, not with the one it trusts: refused, never recorded.
    wait_until(lambda: list(impostor.attempts), lambda attempts: len(attempts) >= 1)
    assert impostor.events() == [] and not any(attempt.verified for attempt in impostor.attempts)
