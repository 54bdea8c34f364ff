"""A port-in end to end: the real server (uvicorn, with its in-process step runner) on 127.0.0.1 runs the port
date by itself, and a hub listener of the number inventory API hears the request move, with nobody calling
anything after the confirmation."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from common import clock
from tests.conftest import LiveServer
from tests.support.recording_listener import RecordingListener

pytestmark = pytest.mark.e2e

BASE = "/provisio/numberInventory/v1"


@pytest.fixture
def api(live_server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_server.url, timeout=10, headers=live_server.headers) as client:
        yield client


@pytest.fixture
def listener() -> Iterator[RecordingListener]:
    started = RecordingListener().start()
    yield started
    started.stop()


def states(events: list[dict[str, Any]]) -> list[str]:
    return [
        event["event"]["portInRequest"]["state"] for event in events if event["eventType"].startswith("PortInRequest")
    ]


def test_the_server_ports_the_numbers_in_on_the_port_date_by_itself(
    api: httpx.Client, listener: RecordingListener
) -> None:
    subscribed = api.post(
        f"{BASE}/hub", json={"callback": listener.url, "query": "eventType=PortInRequestStateChangeEvent"}
    )
    assert subscribed.status_code == 201, subscribed.text
    listener.trust(subscribed.json()["secret"])
    pool = api.post(f"{BASE}/numberPool", json={"name": "Ported in"}).json()
    body = {
        "donorOperator": "Donor",
        "number": ["+442079470501"],
        "authorisationReference": "LOA-9",
        "requestedPortDate": clock.isoformat(clock.now() + timedelta(minutes=5)),
        "poolId": pool["id"],
        "customerId": "cust-live",
    }
    request = api.post(f"{BASE}/portInRequest", json=body).json()
    soon = clock.isoformat(clock.now() + timedelta(milliseconds=300))
    confirmed = api.patch(
        f"{BASE}/portInRequest/{request['id']}",
        json={"state": "confirmed", "portDate": soon},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert confirmed.status_code == 200, confirmed.text

    events = listener.wait_for(lambda received: "completed" in states(received), timeout=20)

    assert states(events) == ["confirmed", "ported", "completed"]
    number = api.get(f"{BASE}/telephoneNumber/+442079470501").json()
    assert number["state"] == "assigned" and number["customerId"] == "cust-live"
