"""Issue 16 "Correctness under concurrency": many clients hold numbers through TMF685 ``POST /reservation`` at
once, over real sockets to the real server (uvicorn, background workers on), on the suite's database.

On PostgreSQL the holds race for free chunks (``FOR UPDATE SKIP LOCKED``, with blocking locks in one order
near exhaustion and for contiguous runs); on SQLite the writers queue on the write lock (``BEGIN
IMMEDIATE`` behind the process's writer lock), and no client ever sees "database is locked".

Every test asserts exact outcomes: which numbers were handed out (each once), how many requests were
answered 201 and 409 (a 409 only when the pool truly had nothing left), zero 5xx, and afterwards the
bookkeeping: the pool's state counts add up to the block size, and the free chunks, the touched numbers
and the block agree number by number (``assert_pool_consistent``).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, select

from oss.number_pool.models import NumberBlockRow, NumberChunkRow, TelephoneNumberRow
from tests.conftest import LiveServer

pytestmark = pytest.mark.e2e

NI = "/provisio/numberInventory/v1"
RP = "/tmf-api/resourcePoolManagement/v1"
MERGE_PATCH = {"Content-Type": "application/merge-patch+json"}
ITEM_TYPE = "TelephoneNumberReservationItem"
CLIENTS = 32
TIMEOUT_S = 30.0  # per request: a hung lock fails the test instead of hanging the suite
COUNTED_STATES = ("available", "reserved", "assigned", "aging")


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]

    @property
    def values(self) -> list[str]:
        """The numbers a 201 holds, item by item, in order."""
        return [
            resource["value"]
            for item in self.body.get("reservationItem", [])
            for resource in (item.get("appliedCapacityAmount") or {}).get("resource", [])
        ]


@pytest.fixture
def api(live_server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_server.url, timeout=TIMEOUT_S, headers=live_server.headers) as client:
        yield client


def new_pool_with_block(api: httpx.Client, name: str, first: str, last: str) -> str:
    pool = api.post(f"{NI}/numberPool", json={"name": name, "region": "GB", "agingDays": 30})
    assert pool.status_code == 201, pool.text
    pool_id = str(pool.json()["id"])
    block = api.post(f"{NI}/numberBlock", json={"poolId": pool_id, "first": first, "last": last})
    assert block.status_code == 201, block.text
    return pool_id


def number_item(pool_id: str, quantity: int = 1, **criteria: Any) -> dict[str, Any]:
    return {
        "@type": ITEM_TYPE,
        "quantity": quantity,
        "resourceCapacity": {"resourcePool": {"id": pool_id}},
        **criteria,
    }


def reservation(*items: dict[str, Any]) -> dict[str, Any]:
    return {"reservationItem": list(items), "relatedParty": [{"id": "cust-1", "role": "customer"}]}


def run_clients(
    live_server: LiveServer, rounds: int, request: Callable[[httpx.Client, int, int], httpx.Response]
) -> list[Answer]:
    """``CLIENTS`` threads, each with its own keep-alive connection, send ``request(client, slot, round)``
    ``rounds`` times; a barrier starts every round together so the requests really overlap."""
    barrier = threading.Barrier(CLIENTS, timeout=TIMEOUT_S)

    def client_loop(slot: int) -> list[Answer]:
        answers = []
        with httpx.Client(base_url=live_server.url, timeout=TIMEOUT_S, headers=live_server.headers) as client:
            for round_number in range(rounds):
                barrier.wait()
                response = request(client, slot, round_number)
                answers.append(Answer(response.status_code, response.json() if response.content else {}))
        return answers

    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        futures = [pool.submit(client_loop, slot) for slot in range(CLIENTS)]
        return [answer for future in futures for answer in future.result()]


def assert_no_server_error(answers: Sequence[Answer], allowed: set[int]) -> None:
    statuses = Counter(answer.status for answer in answers)
    unexpected = [answer for answer in answers if answer.status not in allowed]
    assert not unexpected, f"statuses {dict(statuses)}; first unexpected: {unexpected[0].body}"
    assert not any("locked" in str(answer.body).lower() for answer in answers)


def state_counts(api: httpx.Client, pool_id: str) -> dict[str, int]:
    response = api.get(f"{NI}/numberPool/{pool_id}")
    assert response.status_code == 200, response.text
    counts = response.json().get("stateCount") or {}
    return {state: int(counts.get(state, 0)) for state in COUNTED_STATES}


def assert_pool_consistent(engine: Engine, pool_id: str) -> dict[str, int]:
    """Free chunks are disjoint, inside their block, and hold exactly the numbers that are available; every
    other number of the block has a row in a counted state. Returns the states counted number by number."""
    with engine.connect() as connection:
        blocks = connection.execute(select(NumberBlockRow).where(NumberBlockRow.pool_id == pool_id)).all()
        chunks = connection.execute(
            select(NumberChunkRow.first_digits, NumberChunkRow.last_digits, NumberChunkRow.block_id).where(
                NumberChunkRow.pool_id == pool_id
            )
        ).all()
        numbers = dict(
            connection.execute(
                select(TelephoneNumberRow.digits, TelephoneNumberRow.state).where(TelephoneNumberRow.pool_id == pool_id)
            ).all()
        )
    free: set[int] = set()
    for first, last, block_id in chunks:
        block = next(block for block in blocks if block.id == block_id)
        assert block.first_digits <= first <= last <= block.last_digits, (first, last)
        span = set(range(first, last + 1))
        assert not span & free, f"chunks overlap at {min(span & free)}"
        free |= span
    counted: Counter[str] = Counter()
    for block in blocks:
        for digits in range(block.first_digits, block.last_digits + 1):
            state = numbers.get(digits, "available")
            if digits in free:
                assert state == "available", f"+{digits} is {state} but lies in a free chunk"
            else:
                assert state != "available", f"+{digits} is available but in no free chunk"
            counted[state] += 1
    assert sum(counted.values()) == sum(block.size for block in blocks)
    return {state: counted.get(state, 0) for state in COUNTED_STATES}


def patch_state(client: httpx.Client, reservation_id: str, state: str) -> httpx.Response:
    return client.patch(f"{RP}/reservation/{reservation_id}", json={"reservationState": state}, headers=MERGE_PATCH)


# -------------------------------------------------------------------------------------------- the tests


def test_32_clients_holding_single_numbers_get_each_number_once_and_the_pool_adds_up(
    api: httpx.Client, live_server: LiveServer, clean_db: Engine
) -> None:
    """2,000 numbers (20 chunks, fewer than the clients: some holds find every chunk locked and wait)."""
    size, rounds = 2_000, 3
    pool_id = new_pool_with_block(api, "London 020 concurrency", "+442079460000", "+442079461999")

    answers = run_clients(
        live_server, rounds, lambda client, *_: client.post(f"{RP}/reservation", json=reservation(number_item(pool_id)))
    )

    assert_no_server_error(answers, {201})
    held = [value for answer in answers for value in answer.values]
    assert len(held) == CLIENTS * rounds == len(set(held)), "a number was handed out twice"
    assert all("+442079460000" <= value <= "+442079461999" for value in held)
    expected = {"available": size - len(held), "reserved": len(held), "assigned": 0, "aging": 0}
    assert state_counts(api, pool_id) == expected
    assert assert_pool_consistent(clean_db, pool_id) == expected

    # Commits and releases race too (releases give numbers back into the chunks the holds carve).
    ids = [str(answer.body["id"]) for answer in answers]
    settled = run_clients(
        live_server,
        rounds,
        lambda client, slot, round_number: patch_state(
            client, ids[slot * rounds + round_number], "committed" if (slot + round_number) % 2 else "released"
        ),
    )
    assert_no_server_error(settled, {200})
    committed = len(ids) // 2
    expected = {"available": size - committed, "reserved": 0, "assigned": committed, "aging": 0}
    assert state_counts(api, pool_id) == expected
    assert assert_pool_consistent(clean_db, pool_id) == expected


def test_contiguous_runs_competing_for_one_range_are_disjoint_and_fill_it(
    api: httpx.Client, live_server: LiveServer, clean_db: Engine
) -> None:
    """Runs of 7 from 210 numbers (2 chunks of 105: a run crosses the chunk boundary): exactly 30 fit,
    lowest first, so exactly 30 of the 64 requests are answered 201 and the rest 409 POOL_EXHAUSTED."""
    size, length, rounds = 210, 7, 2
    pool_id = new_pool_with_block(api, "PBX ranges", "+442079462000", "+442079462209")
    body = reservation(number_item(pool_id, length, contiguous=True, allowGolden=True))

    answers = run_clients(live_server, rounds, lambda client, *_: client.post(f"{RP}/reservation", json=body))

    assert_no_server_error(answers, {201, 409})
    won = [answer for answer in answers if answer.status == 201]
    assert len(won) == size // length
    assert {answer.body.get("code") for answer in answers if answer.status == 409} == {"POOL_EXHAUSTED"}
    runs = sorted(sorted(int(value) for value in answer.values) for answer in won)
    for run in runs:
        assert run == list(range(run[0], run[0] + length)), f"not contiguous: {run}"
    held = [digits for run in runs for digits in run]
    assert len(held) == len(set(held)) == length * (size // length)
    assert held == list(range(442079462000, 442079462000 + len(held))), "runs are not packed lowest first"
    expected = {"available": size % length, "reserved": len(held), "assigned": 0, "aging": 0}
    assert state_counts(api, pool_id) == expected
    assert assert_pool_consistent(clean_db, pool_id) == expected


def test_reservations_spanning_two_pools_are_all_or_nothing_until_the_smaller_pool_is_exhausted(
    api: httpx.Client, live_server: LiveServer, clean_db: Engine
) -> None:
    """One number of each pool per reservation, the items in either order (so the chunk locks of the two
    pools are taken in both orders); pool B has 40 numbers for 64 requests: exactly 40 are held, the 24
    others hold nothing in either pool."""
    rounds, small = 2, 40
    pool_a = new_pool_with_block(api, "Pool A", "+442079463000", "+442079463999")
    pool_b = new_pool_with_block(api, "Pool B", "+442079464000", "+442079464039")

    def hold_both(client: httpx.Client, slot: int, round_number: int) -> httpx.Response:
        items = [number_item(pool_a), number_item(pool_b)]
        return client.post(f"{RP}/reservation", json=reservation(*(items if slot % 2 else items[::-1])))

    answers = run_clients(live_server, rounds, hold_both)

    assert_no_server_error(answers, {201, 409})
    won = [answer for answer in answers if answer.status == 201]
    assert len(won) == small and len(answers) - len(won) == CLIENTS * rounds - small
    for answer in won:
        assert sorted(value[:10] for value in answer.values) == ["+442079463", "+442079464"]
    held = [value for answer in won for value in answer.values]
    assert len(held) == len(set(held)) == 2 * small
    assert state_counts(api, pool_a) == {"available": 1_000 - small, "reserved": small, "assigned": 0, "aging": 0}
    assert state_counts(api, pool_b) == {"available": 0, "reserved": small, "assigned": 0, "aging": 0}
    assert assert_pool_consistent(clean_db, pool_a)["reserved"] == small
    assert assert_pool_consistent(clean_db, pool_b)["reserved"] == small
