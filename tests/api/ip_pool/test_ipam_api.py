"""The IPAM API (issue 17): hierarchy, next-available addresses and prefixes, the rules (duplicate prefix 409,
address outside every prefix 400, delete with allocations 409 unless cascade, pool shrink 409), VRFs that
allow or refuse overlapping space, and the TMF639 rows written with every address and prefix."""

from __future__ import annotations

from starlette.testclient import TestClient

from tests.api.ip_pool.helpers_ip import BASE, MERGE, RI, allocate, new_prefix, prefix


def test_next_available_addresses_skip_network_and_broadcast_in_order(client: TestClient) -> None:
    p = new_prefix(client, "192.0.2.0/29")
    first = allocate(client, p["id"], quantity=3)
    assert first.status_code == 201, first.text
    assert [a["address"] for a in first.json()] == ["192.0.2.1/29", "192.0.2.2/29", "192.0.2.3/29"]
    rest = allocate(client, p["id"], quantity=3)
    assert [a["address"] for a in rest.json()] == ["192.0.2.4/29", "192.0.2.5/29", "192.0.2.6/29"]
    exhausted = allocate(client, p["id"])
    assert exhausted.status_code == 409
    assert exhausted.json()["code"] == "POOL_EXHAUSTED"
    assert prefix(client, p["id"])["addressCount"] == 6


def test_next_available_all_or_nothing_when_fewer_are_free(client: TestClient) -> None:
    p = new_prefix(client, "192.0.2.0/30")  # .1 and .2
    too_many = allocate(client, p["id"], quantity=3)
    assert too_many.status_code == 409
    assert client.get(f"{BASE}/ipAddress").json() == []
    assert client.get(f"{RI}/resource?@type=IpAddress").json() == []


def test_slash_31_and_32_hand_out_every_address(client: TestClient) -> None:
    p31 = new_prefix(client, "198.51.100.0/31")
    got = allocate(client, p31["id"], quantity=2)
    assert [a["address"] for a in got.json()] == ["198.51.100.0/31", "198.51.100.1/31"]
    p32 = new_prefix(client, "198.51.100.9/32")
    assert allocate(client, p32["id"]).json()[0]["address"] == "198.51.100.9/32"


def test_freed_address_is_handed_out_again_first(client: TestClient) -> None:
    p = new_prefix(client, "192.0.2.0/24")
    taken = allocate(client, p["id"], quantity=4).json()
    assert client.delete(f"{BASE}/ipAddress/{taken[1]['id']}").status_code == 204
    assert client.get(f"{RI}/resource/{taken[1]['id']}").status_code == 404
    again = allocate(client, p["id"]).json()[0]
    assert again["address"] == "192.0.2.2/24"
    # All freed: the free space merges back into the whole /24 (one block).
    for address in client.get(f"{BASE}/ipAddress").json():
        assert client.delete(f"{BASE}/ipAddress/{address['id']}").status_code == 204
    assert prefix(client, p["id"])["used"] == "0"
    preview = client.get(f"{BASE}/prefix/{p['id']}/availableIp?limit=2").json()
    assert preview == [{"address": "192.0.2.1/24"}, {"address": "192.0.2.2/24"}]


def test_every_address_and_prefix_is_a_tmf639_resource_owned_here(client: TestClient) -> None:
    p = new_prefix(client, "192.0.2.0/24")
    address = allocate(client, p["id"], dnsName="gw.example.net", interfaceId="if-1").json()[0]
    resource = client.get(f"{RI}/resource/{address['id']}").json()
    assert resource["@type"] == "IpAddress"
    assert resource["value"] == "192.0.2.1/24"
    assert {"name": "interfaceId", "value": "if-1", "valueType": "string"} in resource["resourceCharacteristic"]
    assert client.get(f"{RI}/resource/{p['id']}").json()["@type"] == "IpPrefix"
    refused = client.patch(f"{RI}/resource/{address['id']}", json={"name": "x"}, headers=MERGE)
    assert refused.status_code == 409
    assert refused.json()["code"] == "OWNED_BY_IP_POOL"
    patched = client.patch(f"{BASE}/ipAddress/{address['id']}", json={"status": "deprecated"}, headers=MERGE)
    assert patched.status_code == 200, patched.text
    assert client.get(f"{RI}/resource/{address['id']}").json()["resourceStatus"] == "suspended"


def test_specific_address_taken_is_409_and_outside_every_prefix_400(client: TestClient) -> None:
    new_prefix(client, "192.0.2.0/24")
    first = client.post(f"{BASE}/ipAddress", json={"address": "192.0.2.7/24", "role": "gateway"})
    assert first.status_code == 201, first.text
    again = client.post(f"{BASE}/ipAddress", json={"address": "192.0.2.7/24"})
    assert again.status_code == 409
    assert again.json()["code"] == "IP_ADDRESS_TAKEN"
    outside = client.post(f"{BASE}/ipAddress", json={"address": "203.0.113.5"})
    assert outside.status_code == 400
    assert outside.json()["code"] == "ADDRESS_OUTSIDE_PREFIX"
    bad = client.post(f"{BASE}/ipAddress", json={"address": "192.0.2.300"})
    assert bad.status_code == 400


def test_duplicate_prefix_409_in_global_table_and_unique_vrf_but_allowed_in_overlap_vrf(client: TestClient) -> None:
    new_prefix(client, "192.0.2.0/24")
    duplicate = client.post(f"{BASE}/prefix", json={"prefix": "192.0.2.0/24"})
    assert duplicate.status_code == 409
    assert duplicate.json()["code"] == "DUPLICATE_PREFIX"
    strict = client.post(f"{BASE}/vrf", json={"name": "cust-a", "rd": "64496:1"}).json()
    loose = client.post(f"{BASE}/vrf", json={"name": "lab", "enforceUnique": False}).json()
    new_prefix(client, "192.0.2.0/24", vrfId=strict["id"])  # another VRF: its own space
    assert client.post(f"{BASE}/prefix", json={"prefix": "192.0.2.0/24", "vrfId": strict["id"]}).status_code == 409
    new_prefix(client, "192.0.2.0/24", vrfId=loose["id"])
    assert client.post(f"{BASE}/prefix", json={"prefix": "192.0.2.0/24", "vrfId": loose["id"]}).status_code == 201


def test_host_bits_set_is_400(client: TestClient) -> None:
    response = client.post(f"{BASE}/prefix", json={"prefix": "192.0.2.1/24"})
    assert response.status_code == 400
    assert response.json()["code"] == "INVALID_IP"


def test_hierarchy_is_computed_top_down_and_bottom_up(client: TestClient) -> None:
    small = new_prefix(client, "192.0.2.0/26")
    address = client.post(f"{BASE}/ipAddress", json={"address": "192.0.2.130/24"})
    assert address.status_code == 400  # nothing holds .130 yet
    big = new_prefix(client, "192.0.2.0/24")
    assert prefix(client, small["id"])["parentId"] == big["id"]
    assert prefix(client, small["id"])["depth"] == 1
    middle = new_prefix(client, "192.0.2.0/25")
    assert prefix(client, middle["id"])["parentId"] == big["id"]
    assert prefix(client, small["id"])["parentId"] == middle["id"]
    assert prefix(client, small["id"])["depth"] == 2
    a = client.post(f"{BASE}/ipAddress", json={"address": "192.0.2.70/24"}).json()
    assert a["prefixId"] == middle["id"]
    # A new prefix around an existing address takes it over.
    holder = new_prefix(client, "192.0.2.64/27")
    assert client.get(f"{BASE}/ipAddress/{a['id']}").json()["prefixId"] == holder["id"]
    assert prefix(client, holder["id"])["addressCount"] == 1
    # The space the /27 holds is no longer free in the /25.
    assert allocate(client, holder["id"]).json()[0]["address"] == "192.0.2.65/27"
    assert client.post(f"{BASE}/ipAddress", json={"address": "192.0.2.70/24"}).status_code == 409


def test_next_available_prefix_first_and_best_fit(client: TestClient) -> None:
    parent = new_prefix(client, "198.51.100.0/24")
    first = client.post(f"{BASE}/prefix/{parent['id']}/availablePrefix", json={"prefixLength": 30})
    assert first.status_code == 201, first.text
    assert first.json()["prefix"] == "198.51.100.0/30"
    assert first.json()["parentId"] == parent["id"]
    hole = client.post(f"{BASE}/prefix/{parent['id']}/availablePrefix", json={"prefixLength": 26}).json()
    assert hole["prefix"] == "198.51.100.64/26"
    # Free now: .4/30 .8/29 .16/28 .32/27 and .128/25. First fit of a /28 takes the lowest, best fit too here.
    assert (
        client.post(f"{BASE}/prefix/{parent['id']}/availablePrefix", json={"prefixLength": 27}).json()["prefix"]
        == "198.51.100.32/27"
    )
    best = client.post(
        f"{BASE}/prefix/{parent['id']}/availablePrefix", json={"prefixLength": 29, "policy": "bestFit"}
    ).json()
    assert best["prefix"] == "198.51.100.8/29"
    preview = client.get(f"{BASE}/prefix/{parent['id']}/availablePrefix?prefixLength=28&limit=3").json()
    assert preview == [{"prefix": "198.51.100.16/28"}, {"prefix": "198.51.100.128/28"}, {"prefix": "198.51.100.144/28"}]
    too_big = client.post(f"{BASE}/prefix/{parent['id']}/availablePrefix", json={"prefixLength": 24})
    assert too_big.status_code == 400
    whole = client.post(f"{BASE}/prefix/{parent['id']}/availablePrefix", json={"prefixLength": 25}).json()
    assert whole["prefix"] == "198.51.100.128/25"
    none = client.post(f"{BASE}/prefix/{parent['id']}/availablePrefix", json={"prefixLength": 25})
    assert none.status_code == 409
    assert none.json()["code"] == "POOL_EXHAUSTED"


def test_ipv6_next_available_prefix_and_address(client: TestClient) -> None:
    parent = new_prefix(client, "2001:db8::/48")
    assert parent["size"] == str(2**80)
    got = [
        client.post(f"{BASE}/prefix/{parent['id']}/availablePrefix", json={"prefixLength": 64}).json()["prefix"]
        for _ in range(3)
    ]
    assert got == ["2001:db8::/64", "2001:db8:0:1::/64", "2001:db8:0:2::/64"]
    lan = client.get(f"{BASE}/prefix?prefix=2001:db8:0:1::/64").json()[0]
    addresses = allocate(client, lan["id"], quantity=2).json()
    assert [a["address"] for a in addresses] == ["2001:db8:0:1::/64", "2001:db8:0:1::1/64"]
    assert client.post(f"{BASE}/ipAddress", json={"address": "2001:db8:0:2::53/64"}).json()["prefixId"] != lan["id"]


def test_delete_prefix_with_allocations_409_unless_cascade(client: TestClient) -> None:
    parent = new_prefix(client, "192.0.2.0/24")
    child = client.post(f"{BASE}/prefix/{parent['id']}/availablePrefix", json={"prefixLength": 28}).json()
    address = allocate(client, child["id"]).json()[0]
    refused = client.delete(f"{BASE}/prefix/{parent['id']}")
    assert refused.status_code == 409
    assert refused.json()["code"] == "PREFIX_IN_USE"
    assert client.delete(f"{BASE}/prefix/{child['id']}").status_code == 409
    assert client.delete(f"{BASE}/prefix/{child['id']}?cascade=true").status_code == 204
    assert client.get(f"{BASE}/ipAddress/{address['id']}").status_code == 404
    assert client.get(f"{RI}/resource/{address['id']}").status_code == 404
    assert client.get(f"{RI}/resource/{child['id']}").status_code == 404
    # The /28 is back in the parent, merged: the whole /24 is free again.
    assert prefix(client, parent["id"])["used"] == "0"
    assert client.delete(f"{BASE}/prefix/{parent['id']}").status_code == 204


def test_pool_reserved_head_and_tail_and_shrink_409(client: TestClient) -> None:
    p = new_prefix(client, "203.0.113.0/29")  # .1 .. .6
    pool = client.post(f"{BASE}/pool", json={"name": "mgmt", "prefixId": p["id"], "reservedHead": 1, "reservedTail": 1})
    assert pool.status_code == 201, pool.text
    assert pool.json()["capacity"] == "4"
    got = allocate(client, p["id"], quantity=4).json()
    assert [a["address"] for a in got] == [f"203.0.113.{n}/29" for n in (2, 3, 4, 5)]
    assert allocate(client, p["id"]).status_code == 409
    assert client.get(f"{BASE}/pool/{pool.json()['id']}").json()["available"] == "0"
    shrink = client.patch(f"{BASE}/pool/{pool.json()['id']}", json={"reservedHead": 2}, headers=MERGE)
    assert shrink.status_code == 409
    assert shrink.json()["code"] == "POOL_BELOW_ALLOCATED"
    grow = client.patch(f"{BASE}/pool/{pool.json()['id']}", json={"reservedHead": 0}, headers=MERGE)
    assert grow.status_code == 200
    assert allocate(client, p["id"]).json()[0]["address"] == "203.0.113.1/29"


def test_vrf_in_use_and_lists(client: TestClient) -> None:
    vrf = client.post(f"{BASE}/vrf", json={"name": "cust-b", "rd": "64497:7", "importTargets": ["64497:7"]}).json()
    new_prefix(client, "192.0.2.0/24", vrfId=vrf["id"])
    assert client.delete(f"{BASE}/vrf/{vrf['id']}").status_code == 409
    listed = client.get(f"{BASE}/prefix?vrfId={vrf['id']}&fields=prefix")
    assert listed.status_code == 200
    assert listed.headers["X-Total-Count"] == "1"
    assert set(listed.json()[0]) == {"id", "href", "@type", "prefix"}
    assert client.get(f"{BASE}/vrf/{vrf['id']}").json()["prefixCount"] == 1
    assert client.post(f"{BASE}/vrf", json={"name": "cust-b"}).status_code == 409


def test_failed_allocation_leaves_nothing_behind(client: TestClient) -> None:
    p = new_prefix(client, "192.0.2.0/30")
    before = client.get(f"{RI}/resource").json()
    assert allocate(client, p["id"], quantity=5).status_code == 409
    assert client.get(f"{RI}/resource").json() == before
    assert prefix(client, p["id"])["used"] == "0"


def test_idempotency_key_replays_the_allocation(client: TestClient) -> None:
    p = new_prefix(client, "192.0.2.0/24")
    headers = {"Idempotency-Key": "alloc-1"}
    first = client.post(f"{BASE}/prefix/{p['id']}/availableIp", json={"quantity": 1}, headers=headers)
    again = client.post(f"{BASE}/prefix/{p['id']}/availableIp", json={"quantity": 1}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert prefix(client, p["id"])["addressCount"] == 1


def test_hub_listener_gets_ip_events(client: TestClient) -> None:
    listener = client.post(f"{BASE}/hub", json={"callback": "http://127.0.0.1:9/ip"})
    assert listener.status_code == 201, listener.text
    assert client.get(f"{BASE}/hub/{listener.json()['id']}").status_code == 200


def test_vlans_unique_per_group_with_next_available(client: TestClient) -> None:
    group = client.post(f"{BASE}/vlanGroup", json={"name": "site-1", "minVid": 100, "maxVid": 103})
    assert group.status_code == 201, group.text
    gid = group.json()["id"]
    other = client.post(f"{BASE}/vlanGroup", json={"name": "site-2"}).json()
    specific = client.post(f"{BASE}/vlan", json={"groupId": gid, "vid": 101, "name": "voice"})
    assert specific.status_code == 201, specific.text
    assert client.post(f"{BASE}/vlan", json={"groupId": gid, "vid": 101}).json()["code"] == "VLAN_TAKEN"
    assert client.post(f"{BASE}/vlan", json={"groupId": other["id"], "vid": 101}).status_code == 201
    assert client.post(f"{BASE}/vlan", json={"groupId": gid, "vid": 200}).status_code == 400
    assert client.get(f"{BASE}/vlanGroup/{gid}/availableVlan").json() == [{"vid": 100}, {"vid": 102}, {"vid": 103}]
    got = [client.post(f"{BASE}/vlanGroup/{gid}/availableVlan", json={}).json()["vid"] for _ in range(3)]
    assert got == [100, 102, 103]
    exhausted = client.post(f"{BASE}/vlanGroup/{gid}/availableVlan", json={})
    assert exhausted.status_code == 409
    assert exhausted.json()["code"] == "POOL_EXHAUSTED"
    resource = client.get(f"{RI}/resource/{specific.json()['id']}").json()
    assert resource["@type"] == "Vlan"
    assert resource["value"] == "101"
    assert client.delete(f"{BASE}/vlanGroup/{gid}").status_code == 409
    assert client.delete(f"{BASE}/vlan/{specific.json()['id']}").status_code == 204
    assert client.get(f"{RI}/resource/{specific.json()['id']}").status_code == 404
    assert client.get(f"{BASE}/vlanGroup/{gid}").json()["vlanCount"] == 3
