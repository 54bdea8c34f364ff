"""Issue 17 "Correctness under concurrency": 64 clients ask for next-available addresses and prefixes at once,
over real sockets to the real server, on the suite's database (PostgreSQL in CI: ``-m pg`` selects these).

Every allocation locks the prefix it carves with a blocking row lock, so the requests on one /24 queue on
that lock instead of failing: exactly as many 201s as there is space, each address or prefix handed out
once, the rest a clean 409 ``POOL_EXHAUSTED``, zero 5xx. Afterwards the free blocks and what was allocated
tile the parent exactly (``assert_tiled``).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import netaddr
import pytest
from sqlalchemy import Engine, select

from oss.ip_pool.domain import unkey
from oss.ip_pool.models import IpAddressRow, IpFreeBlockRow, IpPrefixRow
from tests.conftest import LiveServer

pytestmark = [pytest.mark.e2e, pytest.mark.pg]

IPAM = "/provisio/ipam/v1"
CLIENTS = 64
TIMEOUT_S = 60.0


@pytest.fixture
def api(live_server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_server.url, timeout=TIMEOUT_S, headers=live_server.headers) as client:
        yield client


def new_prefix(api: httpx.Client, prefix: str) -> str:
    response = api.post(f"{IPAM}/prefix", json={"prefix": prefix})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def run_clients(
    live_server: LiveServer, rounds: int, request: Callable[[httpx.Client], httpx.Response]
) -> list[tuple[int, Any]]:
    """``CLIENTS`` threads, each with its own connection, ``rounds`` requests each; a barrier starts every
    round together so the requests really overlap."""
    barrier = threading.Barrier(CLIENTS, timeout=TIMEOUT_S)

    def loop(_slot: int) -> list[tuple[int, Any]]:
        answers = []
        with httpx.Client(base_url=live_server.url, timeout=TIMEOUT_S, headers=live_server.headers) as client:
            for _ in range(rounds):
                barrier.wait()
                response = request(client)
                answers.append((response.status_code, response.json() if response.content else None))
        return answers

    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        futures = [pool.submit(loop, slot) for slot in range(CLIENTS)]
        return [answer for future in futures for answer in future.result()]


def split(answers: list[tuple[int, Any]]) -> tuple[list[Any], int]:
    statuses = Counter(status for status, _ in answers)
    assert set(statuses) <= {201, 409}, (
        f"statuses {dict(statuses)}: {[b for s, b in answers if s not in (201, 409)][:2]}"
    )
    for status, body in answers:
        if status == 409:
            assert body["code"] == "POOL_EXHAUSTED", body
    return [body for status, body in answers if status == 201], statuses[409]


def assert_tiled(engine: Engine, prefix_id: str) -> None:
    """The prefix's free blocks, its child prefixes and its addresses are disjoint and cover it exactly."""
    with engine.connect() as connection:
        prefix = connection.execute(select(IpPrefixRow.prefix).where(IpPrefixRow.id == prefix_id)).scalar_one()
        whole = netaddr.IPNetwork(prefix)
        pieces = [
            netaddr.IPNetwork((unkey(start), length), version=whole.version)
            for start, length in connection.execute(
                select(IpFreeBlockRow.start_key, IpFreeBlockRow.length).where(IpFreeBlockRow.prefix_id == prefix_id)
            )
        ]
        pieces += [
            netaddr.IPNetwork(child)
            for (child,) in connection.execute(select(IpPrefixRow.prefix).where(IpPrefixRow.parent_id == prefix_id))
        ]
        pieces += [
            netaddr.IPNetwork((unkey(value), (32 if whole.version == 4 else 128)), version=whole.version)
            for (value,) in connection.execute(
                select(IpAddressRow.value_key).where(IpAddressRow.prefix_id == prefix_id)
            )
        ]
    covered = netaddr.IPSet(pieces)
    assert covered.size == sum(piece.size for piece in pieces), "two pieces overlap"
    assert covered == netaddr.IPSet([whole]), "the pieces do not cover the prefix"


def test_64_clients_on_one_slash_24_get_254_distinct_addresses_and_clean_409s(
    api: httpx.Client, live_server: LiveServer, clean_db: Engine
) -> None:
    prefix_id = new_prefix(api, "192.0.2.0/24")
    answers = run_clients(live_server, 5, lambda c: c.post(f"{IPAM}/prefix/{prefix_id}/availableIp", json={}))
    allocated, refused = split(answers)
    addresses = [body[0]["address"] for body in allocated]
    assert len(addresses) == 254
    assert len(set(addresses)) == 254
    assert set(addresses) == {f"192.0.2.{n}/24" for n in range(1, 255)}
    assert refused == CLIENTS * 5 - 254
    resources = api.get("/tmf-api/resourceInventoryManagement/v4/resource?@type=IpAddress&limit=1")
    assert resources.headers["X-Total-Count"] == "254"
    assert_tiled(clean_db, prefix_id)


def test_parallel_slash_30s_from_a_slash_16_never_overlap(
    api: httpx.Client, live_server: LiveServer, clean_db: Engine
) -> None:
    parent = new_prefix(api, "198.18.0.0/16")
    body = {"prefixLength": 30}
    answers = run_clients(live_server, 4, lambda c: c.post(f"{IPAM}/prefix/{parent}/availablePrefix", json=body))
    allocated, refused = split(answers)
    assert refused == 0
    got = [netaddr.IPNetwork(prefix["prefix"]) for prefix in allocated]
    assert len(got) == CLIENTS * 4
    assert netaddr.IPSet(got).size == 4 * len(got)  # disjoint
    assert netaddr.IPSet(got) == netaddr.IPSet([netaddr.IPNetwork("198.18.0.0/22")])  # first fit: packed from the start
    assert_tiled(clean_db, parent)


def test_parallel_slash_30s_until_a_slash_24_is_exhausted(
    api: httpx.Client, live_server: LiveServer, clean_db: Engine
) -> None:
    parent = new_prefix(api, "203.0.113.0/24")
    body = {"prefixLength": 30}
    answers = run_clients(live_server, 2, lambda c: c.post(f"{IPAM}/prefix/{parent}/availablePrefix", json=body))
    allocated, refused = split(answers)
    assert len({prefix["prefix"] for prefix in allocated}) == len(allocated) == 64
    assert refused == CLIENTS
    assert_tiled(clean_db, parent)


def test_parallel_ipv6_slash_64s_from_a_slash_56_then_exhausted_and_from_a_slash_48(
    api: httpx.Client, live_server: LiveServer, clean_db: Engine
) -> None:
    small = new_prefix(api, "2001:db8:0:100::/56")
    body = {"prefixLength": 64}
    answers = run_clients(live_server, 5, lambda c: c.post(f"{IPAM}/prefix/{small}/availablePrefix", json=body))
    allocated, refused = split(answers)
    assert len({prefix["prefix"] for prefix in allocated}) == len(allocated) == 256
    assert refused == CLIENTS * 5 - 256
    assert_tiled(clean_db, small)
    big = new_prefix(api, "2001:db8:1::/48")
    answers = run_clients(live_server, 2, lambda c: c.post(f"{IPAM}/prefix/{big}/availablePrefix", json=body))
    allocated, refused = split(answers)
    got = [netaddr.IPNetwork(prefix["prefix"]) for prefix in allocated]
    assert refused == 0
    assert len(set(got)) == CLIENTS * 2
    assert all(net in netaddr.IPNetwork("2001:db8:1::/48") for net in got)
    assert_tiled(clean_db, big)
