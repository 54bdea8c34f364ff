"""TMF685 reservations of IP space (the IPAM provider registered from the ip_pool facade): addresses and
prefixes held from a pool, all or nothing; commit makes them active; release gives the space back."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from tests.api.ip_pool.helpers_ip import BASE, MERGE, RI, new_prefix, prefix

RP = "/tmf-api/resourcePoolManagement/v1"


def item(pool: str, item_type: str = "IpAddressReservationItem", quantity: int = 1, **criteria: Any) -> dict[str, Any]:
    return {"@type": item_type, "quantity": quantity, "resourceCapacity": {"resourcePool": {"id": pool}}, **criteria}


def reserve(client: TestClient, *items: dict[str, Any]) -> Any:
    return client.post(f"{RP}/reservation", json={"reservationItem": list(items)})


def values(body: dict[str, Any]) -> list[str]:
    return [r["value"] for i in body["reservationItem"] for r in i["appliedCapacityAmount"]["resource"]]


def new_pool(client: TestClient, cidr: str, **extra: Any) -> tuple[str, str]:
    p = new_prefix(client, cidr)
    pool = client.post(f"{BASE}/pool", json={"name": f"pool {cidr}", "prefixId": p["id"], **extra})
    assert pool.status_code == 201, pool.text
    return p["id"], pool.json()["id"]


def test_a_reservation_holds_addresses_and_commit_makes_them_active(client: TestClient) -> None:
    prefix_id, pool = new_pool(client, "192.0.2.0/29", reservedHead=1)
    view = client.get(f"{RP}/resourcePool/{pool}").json()
    assert view["capacity"] == {"capacityAmount": 5, "availableCapacityAmount": 5}  # .2 .. .6
    created = reserve(client, item(pool, quantity=2, dnsName="cpe.example.net"))
    assert created.status_code == 201, created.text
    assert values(created.json()) == ["192.0.2.2/29", "192.0.2.3/29"]
    assert client.get(f"{RP}/resourcePool/{pool}").json()["capacity"]["availableCapacityAmount"] == 3
    addresses = client.get(f"{BASE}/ipAddress?prefixId={prefix_id}").json()
    assert [a["status"] for a in addresses] == ["reserved", "reserved"]
    assert addresses[0]["reservationId"] == created.json()["id"]
    assert client.get(f"{RI}/resource/{addresses[0]['id']}").json()["resourceStatus"] == "reserved"
    committed = client.patch(created.json()["href"], json={"reservationState": "committed"}, headers=MERGE)
    assert committed.status_code == 200, committed.text
    assert {a["status"] for a in client.get(f"{BASE}/ipAddress?prefixId={prefix_id}").json()} == {"active"}


def test_too_many_is_a_409_holding_nothing_and_release_gives_space_back(client: TestClient) -> None:
    prefix_id, pool = new_pool(client, "198.51.100.0/29")  # .1 .. .6
    refused = reserve(client, item(pool, quantity=7))
    assert refused.status_code == 409, refused.text
    assert prefix(client, prefix_id)["used"] == "0"
    held = reserve(client, item(pool, quantity=6))
    assert held.status_code == 201, held.text
    assert reserve(client, item(pool)).status_code == 409
    released = client.patch(held.json()["href"], json={"reservationState": "released"}, headers=MERGE)
    assert released.status_code == 200, released.text
    assert prefix(client, prefix_id)["used"] == "0"
    assert client.get(f"{RI}/resource?@type=IpAddress").json() == []


def test_a_prefix_item_holds_the_next_free_child_prefix(client: TestClient) -> None:
    prefix_id, pool = new_pool(client, "203.0.113.0/24")
    created = reserve(client, item(pool, "IpPrefixReservationItem", quantity=2, prefixLength=30))
    assert created.status_code == 201, created.text
    assert values(created.json()) == ["203.0.113.0/30", "203.0.113.4/30"]
    children = client.get(f"{BASE}/prefix?parentId={prefix_id}").json()
    assert [c["status"] for c in children] == ["reserved", "reserved"]
    released = client.patch(created.json()["href"], json={"reservationState": "released"}, headers=MERGE)
    assert released.status_code == 200, released.text
    assert client.get(f"{BASE}/prefix?parentId={prefix_id}").json() == []
    assert prefix(client, prefix_id)["used"] == "0"


def test_an_ipv6_pool_counts_as_int64_in_tmf685(client: TestClient) -> None:
    _prefix_id, pool = new_pool(client, "2001:db8:0:1::/64")
    view = client.get(f"{RP}/resourcePool/{pool}")
    assert view.status_code == 200, view.text
    assert view.json()["capacity"]["capacityAmount"] == 2**63 - 1
    created = reserve(client, item(pool, quantity=1))
    assert values(created.json()) == ["2001:db8:0:1::/64"]
