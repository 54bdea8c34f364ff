"""Port holds at quote time through TMF685 (issue 18): PortReservationItem, a pool per device, hold, commit,
release, each port's TMF639 row in the same transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine
from starlette.testclient import TestClient

from tests.api.site.helpers_site import DCIM, MERGE, RI, new_device, new_site, ports_of, switch_type

RP = "/tmf-api/resourcePoolManagement/v1"


def port_item(device_id: str, quantity: int = 1, **criteria: Any) -> dict[str, Any]:
    pool = {"resourcePool": {"id": device_id}}
    return {"@type": "PortReservationItem", "quantity": quantity, "resourceCapacity": pool, **criteria}


def reserve(client: TestClient, *items: dict[str, Any]) -> Any:
    return client.post(
        f"{RP}/reservation", json={"reservationItem": list(items), "relatedParty": [{"id": "c1", "role": "customer"}]}
    )


def test_hold_commit_and_release_ports_of_a_device(client: TestClient, clean_db: Engine) -> None:
    device = new_device(client, switch_type(client, ports=3)["id"], "acc1", siteId=new_site(client)["id"])
    pool = client.get(f"{RP}/resourcePool/{device['id']}")
    assert pool.status_code == 200, pool.text
    first = reserve(client, port_item(device["id"], 2))
    assert first.status_code == 201, first.text
    ports = ports_of(client, device["id"])
    assert [ports[name]["holdState"] for name in sorted(ports)] == ["reserved", "reserved", "available"]
    held_id = ports["ge-0/0/0"]["id"]
    assert client.get(f"{RI}/resource/{held_id}").json()["resourceStatus"] == "reserved"
    too_many = reserve(client, port_item(device["id"], 2))
    assert too_many.status_code == 409 and too_many.json()["code"] == "RESOURCE_UNAVAILABLE"
    assert ports_of(client, device["id"])["ge-0/0/2"]["holdState"] == "available"  # the failed hold held nothing
    committed = client.patch(
        f"{RP}/reservation/{first.json()['id']}", json={"reservationState": "committed"}, headers=MERGE
    )
    assert committed.status_code == 200, committed.text
    assert ports_of(client, device["id"])["ge-0/0/0"]["holdState"] == "assigned"
    assert client.get(f"{RI}/resource/{held_id}").json()["usageState"] == "busy"
    by_name = reserve(client, port_item(device["id"], portName="ge-0/0/2"))
    assert by_name.status_code == 201
    released = client.patch(
        f"{RP}/reservation/{by_name.json()['id']}", json={"reservationState": "released"}, headers=MERGE
    )
    assert released.status_code == 200
    assert ports_of(client, device["id"])["ge-0/0/2"]["holdState"] == "available"
    assert client.get(f"{DCIM}/port?holdState=assigned").headers["X-Total-Count"] == "2"


def test_unknown_criterion_is_a_400(client: TestClient, clean_db: Engine) -> None:
    device = new_device(client, switch_type(client)["id"], "acc1", siteId=new_site(client)["id"])
    response = reserve(client, port_item(device["id"], vlan=7))
    assert response.status_code == 400, response.text
