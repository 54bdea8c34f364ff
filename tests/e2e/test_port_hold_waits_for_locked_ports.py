"""A port hold near exhaustion waits for a port that another transaction holds only for a moment, instead of
answering that the device has too few free ports (issue 16 "Throughput design": SKIP LOCKED alone is wrong
near exhaustion; issue 18 port holds). PostgreSQL: real row locks, the API served over a real socket."""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, text

from tests.conftest import LiveServer

pytestmark = [pytest.mark.e2e, pytest.mark.pg]

DCIM = "/provisio/dcim/v1"
SITES = "/tmf-api/geographicSiteManagement/v4"
RP = "/tmf-api/resourcePoolManagement/v1"
WAIT_S = 30.0


def _device_with_ports(api: httpx.Client, ports: int) -> str:
    site = api.post(f"{SITES}/geographicSite", json={"name": "lock-test"}).json()["id"]
    templates = [{"name": f"ge-0/0/{n}"} for n in range(ports)]
    kind = api.post(f"{DCIM}/deviceType", json={"manufacturer": "Acme", "model": "S", "portTemplate": templates})
    assert kind.status_code == 201, kind.text
    device = api.post(f"{DCIM}/device", json={"name": "acc1", "deviceTypeId": kind.json()["id"], "siteId": site})
    assert device.status_code == 201, device.text
    return str(device.json()["id"])


def _wait_until_a_backend_waits_on_a_lock(engine: Engine) -> None:
    deadline = time.monotonic() + WAIT_S
    query = text(
        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
    )
    while time.monotonic() < deadline:
        with engine.connect() as connection:
            if connection.execute(query).scalar_one() > 0:
                return
        time.sleep(0.02)  # polling the database's own view of lock waits: there is no event to await
    pytest.fail("the hold never waited on the locked port")


def test_a_hold_of_every_free_port_waits_for_a_briefly_locked_one(live_server: LiveServer, clean_db: Engine) -> None:
    with httpx.Client(base_url=live_server.url, headers=live_server.headers, timeout=60) as api:
        device = _device_with_ports(api, 2)
        item = {"@type": "PortReservationItem", "quantity": 2, "resourceCapacity": {"resourcePool": {"id": device}}}
        answer: dict[str, Any] = {}
        with clean_db.connect() as locker:
            transaction = locker.begin()
            locker.execute(  # as a PATCH of the port or a cable being laid would, for a moment
                text("SELECT id FROM port WHERE device_id = :d ORDER BY name LIMIT 1 FOR UPDATE"), {"d": device}
            )

            def hold() -> None:
                answer["response"] = api.post(f"{RP}/reservation", json={"reservationItem": [item]})

            worker = threading.Thread(target=hold)
            worker.start()
            _wait_until_a_backend_waits_on_a_lock(clean_db)
            transaction.rollback()  # the other transaction ends without taking the port
        worker.join(WAIT_S)
        response = answer["response"]
        assert response.status_code == 201, response.text
        ports = api.get(f"{DCIM}/port", params={"deviceId": device}).json()
        assert sorted(port["holdState"] for port in ports) == ["reserved", "reserved"]
