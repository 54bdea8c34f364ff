"""Issue 18 "CPE" under concurrency: orders racing for the last units of a model through TMF685
``POST /reservation`` and ``POST /cpePick``, over real sockets to the real server, on the suite's database.

On PostgreSQL the holds queue on the model's stock row at the warehouse (``SELECT ... FOR UPDATE``; a stock
row created by the first hold is inserted with ``ON CONFLICT DO NOTHING`` so twins wait instead of failing);
on SQLite the writers queue on the write lock. Either way exactly as many holds succeed as there are units,
every other one is a 409 naming the model and its stock, nothing is a 5xx, and the counters add up.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, func, select

from oss.cpe.models import CpeHoldRow, CpeStockRow, CpeUnitRow
from tests.conftest import LiveServer

pytestmark = pytest.mark.e2e

BASE = "/provisio/cpe/v1"
RP = "/tmf-api/resourcePoolManagement/v1"
CLIENTS = 12
TIMEOUT_S = 30.0


@pytest.fixture
def api(live_server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_server.url, timeout=TIMEOUT_S, headers=live_server.headers) as client:
        yield client


def _model(api: httpx.Client, model: str) -> str:
    created = api.post(f"{BASE}/cpeModel", json={"manufacturer": "Race", "model": model})
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


def _units(api: httpx.Client, model_id: str, count: int, warehouse: str, first: int = 1) -> None:
    for n in range(first, first + count):
        mac = f"02:aa:00:00:{n // 256:02x}:{n % 256:02x}"
        body = {"modelId": model_id, "serialNumber": f"RACE{n:05d}", "macAddress": mac, "warehouseId": warehouse}
        created = api.post(f"{BASE}/cpeUnit", json=body)
        assert created.status_code == 201, created.text


def _race(
    live_server: LiveServer, request: Callable[[httpx.Client, int], httpx.Response]
) -> list[tuple[int, dict[str, Any]]]:
    barrier = threading.Barrier(CLIENTS, timeout=TIMEOUT_S)

    def one(slot: int) -> tuple[int, dict[str, Any]]:
        with httpx.Client(base_url=live_server.url, timeout=TIMEOUT_S, headers=live_server.headers) as client:
            client.get(f"{BASE}/cpeModel?limit=0")  # the connection is open before the start
            barrier.wait()
            response = request(client, slot)
            return response.status_code, response.json() if response.content else {}

    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        return list(pool.map(one, range(CLIENTS)))


def _hold(model_id: str, warehouse: str) -> Callable[[httpx.Client, int], httpx.Response]:
    item = {"@type": "CpeReservationItem", "quantity": 1, "modelId": model_id, "warehouseId": warehouse}
    return lambda client, slot: client.post(
        f"{RP}/reservation",
        json={
            "reservationItem": [item],
            "relatedEntity": [{"id": f"order-{slot}", "@referredType": "ProductOrderItem", "role": "orderItem"}],
        },
    )


def _stock(engine: Engine, model_id: str, warehouse: str) -> tuple[int, int, int, int]:
    """(in_stock, held) of the counters, and the same counted from the units and the holds."""
    with engine.connect() as connection:
        row = connection.execute(
            select(CpeStockRow.id, CpeStockRow.in_stock, CpeStockRow.held).where(
                CpeStockRow.model_id == model_id, CpeStockRow.warehouse_id == warehouse
            )
        ).one()
        counted_stock = connection.scalar(
            select(func.count()).where(
                CpeUnitRow.model_id == model_id, CpeUnitRow.warehouse_id == warehouse, CpeUnitRow.state == "inStock"
            )
        )
        holds = connection.execute(
            select(CpeHoldRow.quantity, CpeHoldRow.picked).where(
                CpeHoldRow.stock_id == row.id, CpeHoldRow.state != "released"
            )
        ).all()
    return row.in_stock, row.held, int(counted_stock or 0), sum(q - p for q, p in holds)


def test_orders_racing_for_the_last_unit_one_gets_it_the_others_a_409_naming_model_and_stock(
    live_server: LiveServer, api: httpx.Client, clean_db: Engine
) -> None:
    model_id = _model(api, "LAST-1")
    _units(api, model_id, 1, "wh-race")
    answers = _race(live_server, _hold(model_id, "wh-race"))
    statuses = Counter(status for status, _ in answers)
    assert statuses == {201: 1, 409: CLIENTS - 1}, answers
    for status, body in answers:
        if status == 409:
            assert body["code"] == "CPE_OUT_OF_STOCK", body
            assert "Race LAST-1" in body["message"] and "wh-race" in body["message"], body
            assert "0 available (1 in stock, 1 held)" in body["message"], body
    assert _stock(clean_db, model_id, "wh-race") == (1, 1, 1, 1)


def test_as_many_holds_succeed_as_there_are_units_and_picks_of_one_serial_race_to_one(
    live_server: LiveServer, api: httpx.Client, clean_db: Engine
) -> None:
    model_id = _model(api, "FEW-5")
    _units(api, model_id, 5, "wh-few")
    answers = _race(live_server, _hold(model_id, "wh-few"))
    assert Counter(status for status, _ in answers) == {201: 5, 409: CLIENTS - 5}, answers
    assert _stock(clean_db, model_id, "wh-few") == (5, 5, 5, 5)
    items = [body["reservationItem"][0]["id"] for status, body in answers if status == 201]

    # Every order picks the same serial at once: one binds it, the others find it reserved already.
    picks = _race(
        live_server,
        lambda client, slot: client.post(
            f"{BASE}/cpePick", json={"serialNumber": "RACE00001", "reservationItemId": items[slot % len(items)]}
        ),
    )
    assert Counter(status for status, _ in picks) == {201: 1, 409: CLIENTS - 1}, picks
    # The losers find the unit reserved already, or (sharing the winner's hold) the hold fully picked.
    codes = {body["code"] for status, body in picks if status == 409}
    assert codes <= {"INVALID_CPE_TRANSITION", "CPE_HOLD_EXHAUSTED"}, picks
    assert _stock(clean_db, model_id, "wh-few") == (4, 4, 4, 4)


def test_first_holds_on_a_warehouse_without_stock_create_its_stock_row_once(
    live_server: LiveServer, api: httpx.Client, clean_db: Engine
) -> None:
    model_id = _model(api, "NONE-0")
    answers = _race(live_server, _hold(model_id, "wh-empty"))
    assert Counter(status for status, _ in answers) == {409: CLIENTS}, answers
    levels = api.get(f"{BASE}/stockLevel?modelId={model_id}").json()
    assert len(levels) <= 1  # created once, or by none (every creating transaction rolled back)
