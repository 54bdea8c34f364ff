"""Clients racing for the same pool over a real socket (SQLite: queued writers; PostgreSQL: row locks and
SKIP LOCKED): every resource is held by exactly one reservation, the losers get clean 409s, nothing is 5xx,
and a reservation that spans two providers is never half held."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
from sqlalchemy import Engine

from tests.api.reservation.helpers import RP, address_item, held_values, number_item, reservation
from tests.support.fake_providers import FakeProvider, install

CLIENTS = 8


def test_racing_reservations_hold_each_resource_once_and_all_or_nothing(live_server: Any, clean_db: Engine) -> None:
    numbers, addresses = install(clean_db)
    body = reservation(number_item(2), address_item(1))  # the 4 addresses run out first

    def attempt(_: int) -> httpx.Response:
        with httpx.Client(base_url=live_server.url, headers=live_server.headers, timeout=30) as http:
            return http.post(f"{RP}/reservation", json=body)

    with ThreadPoolExecutor(CLIENTS) as pool:
        answers = list(pool.map(attempt, range(CLIENTS)))
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [201] * 4 + [409] * 4, [answer.text for answer in answers if answer.status_code >= 500]
    held = [value for answer in answers if answer.status_code == 201 for value in held_values(answer.json())]
    assert len(held) == len(set(held)) == 12
    assert _states(numbers, clean_db) == {"reserved": 8, "available": 17}
    assert _states(addresses, clean_db) == {"reserved": 4}
    for answer in answers:
        if answer.status_code == 409:
            assert answer.json()["code"] == "RESOURCE_UNAVAILABLE"


def _states(provider: FakeProvider, engine: Engine) -> dict[str, int]:
    return provider.states(engine)
