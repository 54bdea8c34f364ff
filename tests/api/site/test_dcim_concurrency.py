"""Clients racing over a real socket (issue 18 "Tests": parallel placements into one rack, parallel cabling of
one port). SQLite queues the writers; on PostgreSQL the rack's row lock serialises placements and the primary
keys of rack_unit and cable_end refuse what a check might miss: exactly one wins, the others get a clean 409."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
from sqlalchemy import Engine, func, select

from oss.site.models import CableEndRow, DeviceRow, RackUnitRow
from tests.api.site.helpers_site import DCIM, SITES

CLIENTS = 8


def _post_all(live_server: Any, bodies: list[tuple[str, dict[str, Any]]]) -> list[httpx.Response]:
    barrier = threading.Barrier(len(bodies))

    def attempt(item: tuple[str, dict[str, Any]]) -> httpx.Response:
        path, body = item
        with httpx.Client(base_url=live_server.url, headers=live_server.headers, timeout=60) as http:
            barrier.wait()
            return http.post(path, json=body)

    with ThreadPoolExecutor(len(bodies)) as pool:
        return list(pool.map(attempt, bodies))


def _setup(live_server: Any) -> tuple[str, str]:
    with httpx.Client(base_url=live_server.url, headers=live_server.headers, timeout=60) as http:
        site = http.post(f"{SITES}/geographicSite", json={"name": "race"}).json()
        rack = http.post(f"{DCIM}/rack", json={"siteId": site["id"], "name": "R", "height": 42}).json()
        body = {"manufacturer": "A", "model": "2U", "height": 2, "portTemplate": [{"name": "p0"}, {"name": "p1"}]}
        kind = http.post(f"{DCIM}/deviceType", json=body).json()
        return rack["id"], kind["id"]


def _count(engine: Engine, model: type) -> int:
    with engine.connect() as connection:
        return int(connection.scalar(select(func.count()).select_from(model)) or 0)


def test_racing_placements_into_overlapping_spans_one_wins(live_server: Any, clean_db: Engine) -> None:
    rack_id, type_id = _setup(live_server)
    # every span overlaps every other: positions 20 and 21 of a 2U device
    bodies = [(f"{DCIM}/device", {"name": f"d{index}", "deviceTypeId": type_id, "rackId": rack_id, "face": "front",
                                  "position": 20 + index % 2}) for index in range(CLIENTS)]  # fmt: skip
    answers = _post_all(live_server, bodies)
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [201] + [409] * (CLIENTS - 1), [answer.text for answer in answers]
    assert {answer.json()["code"] for answer in answers if answer.status_code == 409} == {"RACK_UNITS_TAKEN"}
    assert _count(clean_db, DeviceRow) == 1 and _count(clean_db, RackUnitRow) == 2


def test_racing_cables_on_one_port_one_wins(live_server: Any, clean_db: Engine) -> None:
    rack_id, type_id = _setup(live_server)
    with httpx.Client(base_url=live_server.url, headers=live_server.headers, timeout=60) as http:
        ports = []
        for index in range(CLIENTS + 1):
            device = http.post(f"{DCIM}/device", json={"name": f"c{index}", "deviceTypeId": type_id, "rackId": rack_id,
                                                        "face": "rear", "position": 1 + 2 * index}).json()  # fmt: skip
            ports.append(http.get(f"{DCIM}/port?deviceId={device['id']}&name=p0").json()[0]["id"])
    shared, others = ports[0], ports[1:]
    answers = _post_all(live_server, [(f"{DCIM}/cable", {"aPortId": shared, "bPortId": other}) for other in others])
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [201] + [409] * (CLIENTS - 1), [answer.text for answer in answers]
    assert {answer.json()["code"] for answer in answers if answer.status_code == 409} == {"PORT_ALREADY_CABLED"}
    assert _count(clean_db, CableEndRow) == 2
