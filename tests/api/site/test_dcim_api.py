"""Racks, device types with port templates, devices on unit spans, ports, cables and their trace (issue 18
"Racks, devices, ports, cables"), each also a TMF639 PhysicalResource written in the same transaction."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from starlette.testclient import TestClient

from oss.resource_inventory.models import ResourceRow
from oss.site.models import DeviceRow, PortRow, RackUnitRow
from tests.api.site.helpers_site import (
    DCIM,
    MERGE,
    RI,
    cable,
    event_types,
    new_device,
    new_rack,
    new_site,
    panel_type,
    ports_of,
    switch_type,
)


def count(engine: Engine, model: type) -> int:
    with engine.connect() as connection:
        return int(connection.scalar(select(func.count()).select_from(model)) or 0)


@pytest.fixture
def rack(client: TestClient) -> dict[str, Any]:
    return new_rack(client, new_site(client)["id"])


def relations(resource: dict[str, Any]) -> list[tuple[str, str, str]]:
    return sorted((r["relationshipType"], r["resource"]["@referredType"], r["resource"]["id"])
                  for r in resource.get("resourceRelationship", []))  # fmt: skip


def test_creating_a_device_creates_its_ports_and_their_tmf639_rows(client: TestClient, rack: dict[str, Any]) -> None:
    kind = switch_type(client, ports=4)
    device = new_device(client, kind["id"], "sw1", rackId=rack["id"], face="front", position=10, serialNumber="SN1",
                        assetTag="A-1", role="access", platform="pe-router", managementAddress="192.0.2.10",
                        managementPort=830)  # fmt: skip
    assert device["siteId"] == rack["siteId"] and device["status"] == "planned" and device["platform"] == "pe-router"
    ports = ports_of(client, device["id"])
    assert sorted(ports) == [f"ge-0/0/{index}" for index in range(4)]
    resource = client.get(f"{RI}/resource/{device['id']}").json()
    assert resource["@type"] == "Device" and resource["@baseType"] == "PhysicalResource"
    assert resource["serialNumber"] == "SN1" and resource["place"]["id"] == rack["siteId"]
    assert relations(resource) == sorted(
        [("isContainedIn", "Rack", rack["id"])] + [("contains", "Port", port["id"]) for port in ports.values()]
    )
    port_resource = client.get(f"{RI}/resource/{ports['ge-0/0/0']['id']}").json()
    assert port_resource["@type"] == "Port" and relations(port_resource) == [("isContainedIn", "Device", device["id"])]
    rack_resource = client.get(f"{RI}/resource/{rack['id']}").json()
    assert rack_resource["@type"] == "Rack" and relations(rack_resource) == [("contains", "Device", device["id"])]
    listed = client.get(f"{RI}/resource?@type=Port").json()
    assert len(listed) == 4


def test_tmf639_writes_to_physical_resources_are_409_owned(client: TestClient, rack: dict[str, Any]) -> None:
    device = new_device(client, switch_type(client)["id"], "sw1", rackId=rack["id"], face="front", position=1)
    response = client.patch(f"{RI}/resource/{device['id']}", json={"description": "x"}, headers=MERGE)
    assert response.status_code == 409 and response.json()["code"] == "OWNED_BY_PHYSICAL_INVENTORY"
    created = client.post(f"{RI}/resource", json={"name": "fake", "@type": "Rack", "@baseType": "PhysicalResource"})
    assert created.status_code == 409 and created.json()["code"] == "OWNED_BY_PHYSICAL_INVENTORY"


def test_overlapping_placement_is_a_409_and_leaves_nothing(
    client: TestClient, clean_db: Engine, rack: dict[str, Any]
) -> None:
    two_u = switch_type(client, ports=2, height=2, model="SW-2U")
    first = new_device(client, two_u["id"], "sw1", rackId=rack["id"], face="front", position=10)  # units 10-11
    before = (count(clean_db, DeviceRow), count(clean_db, PortRow), count(clean_db, ResourceRow))
    clash = client.post(f"{DCIM}/device", json={"name": "sw2", "deviceTypeId": two_u["id"], "rackId": rack["id"],
                                               "face": "front", "position": 11})  # fmt: skip
    assert clash.status_code == 409, clash.text
    assert clash.json()["code"] == "RACK_UNITS_TAKEN" and first["id"] in clash.json()["message"]
    assert (count(clean_db, DeviceRow), count(clean_db, PortRow), count(clean_db, ResourceRow)) == before
    below = new_device(client, two_u["id"], "sw3", rackId=rack["id"], face="front", position=8)  # units 8-9
    rear = new_device(client, two_u["id"], "sw4", rackId=rack["id"], face="rear", position=10)
    assert below["position"] == 8 and rear["face"] == "rear"
    assert count(clean_db, RackUnitRow) == 6


@pytest.mark.parametrize(
    "placement, code",
    [({"face": "front", "position": 42}, "INVALID_RACK_PLACEMENT"),  # a 2U device at 42 of 42 sticks out
     ({"face": "front"}, "INVALID_RACK_PLACEMENT"),
     ({"position": 3}, "INVALID_RACK_PLACEMENT")],
)  # fmt: skip
def test_invalid_placements_are_400(
    client: TestClient, rack: dict[str, Any], placement: dict[str, Any], code: str
) -> None:
    two_u = switch_type(client, ports=1, height=2)
    response = client.post(
        f"{DCIM}/device", json={"name": "x", "deviceTypeId": two_u["id"], "rackId": rack["id"], **placement}
    )
    assert response.status_code == 400 and response.json()["code"] == code, response.text


def test_unknown_platform_is_a_400_naming_the_known_ones(client: TestClient, rack: dict[str, Any]) -> None:
    response = client.post(f"{DCIM}/device", json={"name": "x", "deviceTypeId": switch_type(client)["id"],
                                                  "siteId": rack["siteId"], "platform": "ios-xr-9000"})  # fmt: skip
    assert response.status_code == 400 and response.json()["code"] == "UNKNOWN_PLATFORM"
    assert "pe-router" in response.json()["message"]


def test_a_port_takes_one_cable(client: TestClient, clean_db: Engine, rack: dict[str, Any]) -> None:
    kind = switch_type(client, ports=2)
    a = ports_of(client, new_device(client, kind["id"], "a", siteId=rack["siteId"])["id"])
    b = ports_of(client, new_device(client, kind["id"], "b", siteId=rack["siteId"])["id"])
    first = cable(client, a["ge-0/0/0"]["id"], b["ge-0/0/0"]["id"], label="C1")
    assert first.status_code == 201, first.text
    second = cable(client, b["ge-0/0/1"]["id"], a["ge-0/0/0"]["id"])
    assert second.status_code == 409 and second.json()["code"] == "PORT_ALREADY_CABLED"
    assert first.json()["id"] in second.json()["message"]
    assert cable(client, a["ge-0/0/1"]["id"], a["ge-0/0/1"]["id"]).status_code == 400
    assert client.get(f"{DCIM}/port/{a['ge-0/0/0']['id']}").json()["cableId"] == first.json()["id"]
    port_resource = client.get(f"{RI}/resource/{a['ge-0/0/0']['id']}").json()
    assert ("connectedTo", "Port", b["ge-0/0/0"]["id"]) in relations(port_resource)
    assert port_resource["usageState"] == "active"
    cable_resource = client.get(f"{RI}/resource/{first.json()['id']}").json()
    assert cable_resource["@type"] == "Cable" and relations(cable_resource) == sorted(
        [("connectedTo", "Port", a["ge-0/0/0"]["id"]), ("connectedTo", "Port", b["ge-0/0/0"]["id"])])  # fmt: skip
    assert client.delete(f"{DCIM}/cable/{first.json()['id']}").status_code == 204
    assert client.get(f"{RI}/resource/{first.json()['id']}").status_code == 404
    assert "cableId" not in client.get(f"{DCIM}/port/{a['ge-0/0/0']['id']}").json()
    assert cable(client, b["ge-0/0/1"]["id"], a["ge-0/0/0"]["id"]).status_code == 201
    assert event_types(clean_db, "dcim").count("CableCreateEvent") == 2


def test_trace_follows_the_path_through_two_patch_panels(client: TestClient, rack: dict[str, Any]) -> None:
    """router ge-0/0/0 -> panel1 front0 | rear0 -> trunk -> panel2 rear0 | front0 -> switch ge-0/0/0"""
    site = rack["siteId"]
    router = ports_of(client, new_device(client, switch_type(client, model="R")["id"], "router", siteId=site)["id"])
    switch = ports_of(client, new_device(client, switch_type(client, model="S")["id"], "switch", siteId=site)["id"])
    panel = panel_type(client)
    p1 = ports_of(client, new_device(client, panel["id"], "panel1", siteId=site)["id"])
    p2 = ports_of(client, new_device(client, panel["id"], "panel2", siteId=site)["id"])
    for a, b in ((router["ge-0/0/0"], p1["front0"]), (p1["rear0"], p2["rear0"]), (p2["front0"], switch["ge-0/0/0"])):
        assert cable(client, a["id"], b["id"]).status_code == 201
    traced = client.get(f"{DCIM}/port/{router['ge-0/0/0']['id']}/trace")
    assert traced.status_code == 200, traced.text
    body = traced.json()
    assert [(hop["near"]["name"], hop["far"]["name"]) for hop in body["hop"]] == [
        ("ge-0/0/0", "front0"), ("rear0", "rear0"), ("front0", "ge-0/0/0")]  # fmt: skip
    assert body["end"]["id"] == switch["ge-0/0/0"]["id"] and body["complete"] is True and body["loop"] is False
    backwards = client.get(f"{DCIM}/port/{switch['ge-0/0/0']['id']}/trace").json()
    assert backwards["end"]["id"] == router["ge-0/0/0"]["id"] and len(backwards["hop"]) == 3
    unplugged = client.get(f"{DCIM}/port/{router['ge-0/0/1']['id']}/trace").json()
    assert unplugged["hop"] == [] and unplugged["complete"] is False
    assert client.get(f"{DCIM}/port/nope/trace").status_code == 404


def test_patch_device_and_port_update_their_tmf639_rows(client: TestClient, rack: dict[str, Any]) -> None:
    device = new_device(client, switch_type(client)["id"], "sw1", siteId=rack["siteId"])
    changed = client.patch(
        f"{DCIM}/device/{device['id']}", json={"status": "active", "serialNumber": "SN9"}, headers=MERGE
    )
    assert changed.status_code == 200 and changed.json()["serialNumber"] == "SN9"
    resource = client.get(f"{RI}/resource/{device['id']}").json()
    assert resource["serialNumber"] == "SN9" and resource["usageState"] == "active"
    port = ports_of(client, device["id"])["ge-0/0/0"]
    down = client.patch(f"{DCIM}/port/{port['id']}", json={"adminState": "down"}, headers=MERGE)
    assert down.status_code == 200 and down.json()["adminState"] == "down"
    assert client.get(f"{RI}/resource/{port['id']}").json()["administrativeState"] == "locked"
    bad = client.patch(f"{DCIM}/device/{device['id']}", json={"platform": "nope"}, headers=MERGE)
    assert bad.status_code == 400


def test_port_templates_are_checked(client: TestClient, clean_db: Engine) -> None:
    dangling = client.post(f"{DCIM}/deviceType", json={"manufacturer": "A", "model": "P", "portTemplate": [
        {"name": "f0", "portClass": "front", "rearPort": "r9"}]})  # fmt: skip
    assert dangling.status_code == 400 and dangling.json()["code"] == "INVALID_PORT_TEMPLATE"
    twice = client.post(f"{DCIM}/deviceType", json={"manufacturer": "A", "model": "P", "portTemplate": [
        {"name": "x"}, {"name": "x"}]})  # fmt: skip
    assert twice.status_code == 400
    switch_type(client)
    again = client.post(f"{DCIM}/deviceType", json={"manufacturer": "Acme", "model": "SW-4"})
    assert again.status_code == 409
