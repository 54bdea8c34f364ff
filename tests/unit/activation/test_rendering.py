"""Unit tests of the activation renderer: one group per template, plus the rules every render keeps."""

from __future__ import annotations

import dataclasses

import pytest
from lxml import etree

from oss.activation.rendering import (
    DeviceInput,
    NetconfPayload,
    PayloadInvalid,
    PortInput,
    RenderError,
    ServiceInput,
    ServicePort,
    SnmpPayload,
    SnmpSet,
    UnsupportedService,
    VlanInput,
    platforms,
    render,
    validate_netconf_payload,
)

IF = "{urn:ietf:params:xml:ns:yang:ietf-interfaces}"
IP = "{urn:ietf:params:xml:ns:yang:ietf-ip}"
VL = "{urn:provisio:params:xml:ns:yang:provisio-vlan}"
PE = DeviceInput("pe1", "pe-router", tuple(PortInput(n, i + 1) for i, n in enumerate(
    ("ge-0/0/0", "ge-0/0/1", "ge-0/0/2", "ge-0/0/3", "xe-0/1/0", "xe-0/1/1"))))  # fmt: skip
CPE = DeviceInput("cpe1", "cpe", tuple(PortInput(n, i + 1) for i, n in enumerate(("wan0", "lan0", "lan1"))))
NETCONFD = DeviceInput("netconfd", "netconfd", (PortInput("eth9"),))
SW = DeviceInput("sw1", "legacy-switch", tuple(PortInput(f"Gi1/0/{n}", n) for n in range(1, 9)))


def l3(port: str = "ge-0/0/1", *addresses: str, description: str | None = "cust A") -> ServiceInput:
    return ServiceInput("svc-1", "l3-access", ports=(ServicePort(port, description, addresses or ("192.0.2.1/30",)),))


def addresses(interface: etree._Element, family: str) -> list[tuple[str | None, str | None]]:
    found = interface.iterfind(f"{IP}{family}/{IP}address")
    return [(a.findtext(f"{IP}ip"), a.findtext(f"{IP}prefix-length")) for a in found]


def xml(payload: object) -> etree._Element:
    assert isinstance(payload, NetconfPayload)
    return etree.fromstring(payload.config_xml.encode())


# ---- l3-access (NETCONF: ietf-interfaces + ietf-ip) -------------------------------------------------------


@pytest.mark.parametrize("device, port", [(PE, "ge-0/0/1"), (CPE, "wan0"), (NETCONFD, "eth9")])
def test_l3_access_renders_the_interface_with_its_addresses_and_description(device: DeviceInput, port: str) -> None:
    payload = render(device, l3(port, "192.0.2.1/30", "2001:db8:0:1::1/64", description="cust <A> & B"))
    root = xml(payload)
    interface = root.find(f"{IF}interfaces/{IF}interface")
    assert interface is not None
    assert interface.findtext(f"{IF}name") == port
    assert interface.findtext(f"{IF}description") == "cust <A> & B"  # escaped in the XML, intact in the data
    assert interface.findtext(f"{IF}enabled") == "true"
    assert addresses(interface, "ipv4") == [("192.0.2.1", "30")]
    assert addresses(interface, "ipv6") == [("2001:db8:0:1::1", "64")]
    assert payload.platform == device.platform and payload.service_type == "l3-access"


def test_l3_access_without_ipv6_has_no_ipv6_container() -> None:
    root = xml(render(PE, l3("ge-0/0/1", "198.51.100.9/31")))
    assert root.find(f"{IF}interfaces/{IF}interface/{IP}ipv6") is None
    assert root.find(f"{IF}interfaces/{IF}interface/{IP}ipv4") is not None


def test_l3_access_refuses_a_service_without_an_address() -> None:
    service = ServiceInput("svc", "l3-access", ports=(ServicePort("ge-0/0/1", "x"),))
    with pytest.raises(RenderError, match="at least one address"):
        render(PE, service)


def test_l3_access_refuses_two_ports() -> None:
    service = ServiceInput("svc", "l3-access", ports=(ServicePort("ge-0/0/1", None, ("192.0.2.1/30",)),
                                                      ServicePort("ge-0/0/2", None, ("192.0.2.5/30",))))  # fmt: skip
    with pytest.raises(RenderError, match="exactly one port"):
        render(PE, service)


@pytest.mark.parametrize("address", ["192.0.2.1", "192.0.2.1/40", "not-an-ip/24", "2001:db8::1/129"])
def test_l3_access_refuses_an_address_that_is_not_ip_slash_length(address: str) -> None:
    with pytest.raises(RenderError):
        render(PE, l3("ge-0/0/1", address))


def test_a_port_the_device_does_not_have_is_refused() -> None:
    with pytest.raises(RenderError, match="not a port of pe1"):
        render(PE, l3("ge-9/9/9"))


def test_a_disabled_port_renders_enabled_false() -> None:
    service = ServiceInput("svc", "l3-access", ports=(ServicePort("wan0", None, ("192.0.2.1/30",), enabled=False),))
    assert xml(render(CPE, service)).findtext(f"{IF}interfaces/{IF}interface/{IF}enabled") == "false"


# ---- l2-vlan (NETCONF: provisio-vlan) -----------------------------------------------------------------------


def l2(*ports: ServicePort, vlans: tuple[VlanInput, ...] = (VlanInput(100, "cust-100"),)) -> ServiceInput:
    return ServiceInput("svc-2", "l2-vlan", ports=ports, vlans=vlans)


def test_l2_vlan_renders_the_vlan_with_its_access_and_trunk_ports_as_members() -> None:
    service = l2(ServicePort("ge-0/0/0", "acc", mode="access"), ServicePort("xe-0/1/0", "uplink", mode="trunk"))
    root = xml(render(PE, service))
    vlan = root.find(f"{VL}vlans/{VL}vlan")
    assert vlan is not None
    assert vlan.findtext(f"{VL}id") == "100" and vlan.findtext(f"{VL}name") == "cust-100"
    assert [m.text for m in vlan.iterfind(f"{VL}member")] == ["ge-0/0/0", "xe-0/1/0"]
    names = [i.findtext(f"{IF}name") for i in root.iterfind(f"{IF}interfaces/{IF}interface")]
    assert names == ["ge-0/0/0", "xe-0/1/0"]  # merged too: member is a leafref (the payload validates alone)


def test_l2_vlan_trunk_carries_several_vlans_and_access_only_its_own() -> None:
    service = l2(ServicePort("lan0", mode="access", vlans=(10,)), ServicePort("wan0", mode="trunk", vlans=(10, 20)),
                 vlans=(VlanInput(10, "a"), VlanInput(20)))  # fmt: skip
    root = xml(render(CPE, service))
    vlans = root.iterfind(f"{VL}vlans/{VL}vlan")
    members = {v.findtext(f"{VL}id"): [m.text for m in v.iterfind(f"{VL}member")] for v in vlans}
    assert members == {"10": ["lan0", "wan0"], "20": ["wan0"]}


def test_l2_vlan_refuses_an_access_port_with_two_vlans() -> None:
    service = l2(ServicePort("lan0", mode="access", vlans=(10, 20)), vlans=(VlanInput(10), VlanInput(20)))
    with pytest.raises(RenderError, match="exactly one VLAN"):
        render(CPE, service)


def test_l2_vlan_refuses_a_port_without_a_mode() -> None:
    with pytest.raises(RenderError, match="mode must be access or trunk"):
        render(CPE, l2(ServicePort("lan0")))


def test_l2_vlan_refuses_a_vlan_the_service_does_not_have() -> None:
    with pytest.raises(RenderError, match="VLAN 30"):
        render(CPE, l2(ServicePort("lan0", mode="trunk", vlans=(30,))))


@pytest.mark.parametrize("vlan_id", [0, 4095])
def test_l2_vlan_refuses_an_id_outside_802_1q(vlan_id: int) -> None:
    with pytest.raises(RenderError, match=r"1\.\.4094"):
        render(PE, l2(ServicePort("ge-0/0/0", mode="access"), vlans=(VlanInput(vlan_id),)))


def test_a_payload_the_yang_modules_refuse_is_payload_invalid_with_the_error_path() -> None:
    service = l2(ServicePort("ge-0/0/0", mode="access"), vlans=(VlanInput(100, "n" * 33),))  # name is 1..32
    with pytest.raises(PayloadInvalid) as caught:
        render(PE, service)
    assert caught.value.details["error_tag"] == "invalid-value"
    assert "pvlan:vlan" in (caught.value.details["error_path"] or "")


def test_l2_vlan_is_not_offered_where_the_vlan_model_is_not_served() -> None:
    with pytest.raises(UnsupportedService, match="netconfd"):
        render(NETCONFD, l2(ServicePort("eth9", mode="access")))


# ---- l2-vlan (SNMP: Q-BRIDGE-MIB + IF-MIB) --------------------------------------------------------------


def test_l2_vlan_on_snmp_renders_one_pdu_creating_the_row_with_name_portlist_alias_and_admin_status() -> None:
    service = l2(ServicePort("Gi1/0/3", "acc", mode="access"), ServicePort("Gi1/0/8", mode="trunk"),
                 vlans=(VlanInput(100, "cust", members=("Gi1/0/1",)),))  # fmt: skip
    payload = render(SW, service)
    assert isinstance(payload, SnmpPayload)
    assert payload.sets == (
        SnmpSet("1.3.6.1.2.1.17.7.1.4.3.1.5.100", "Integer32", 4),  # dot1qVlanStaticRowStatus createAndGo
        SnmpSet("1.3.6.1.2.1.17.7.1.4.3.1.1.100", "OctetString", b"cust"),  # dot1qVlanStaticName
        SnmpSet("1.3.6.1.2.1.17.7.1.4.3.1.2.100", "OctetString", bytes([0b10100001])),  # ports 1, 3, 8
        SnmpSet("1.3.6.1.2.1.31.1.1.1.18.3", "OctetString", b"acc"),  # ifAlias.3
        SnmpSet("1.3.6.1.2.1.2.2.1.7.3", "Integer32", 1),  # ifAdminStatus.3 up
        SnmpSet("1.3.6.1.2.1.2.2.1.7.8", "Integer32", 1),
    )
    assert [vb.type for vb in payload.varbinds()][:2] == ["Integer32", "OctetString"]


def test_l2_vlan_on_snmp_does_not_create_a_row_that_is_present() -> None:
    payload = render(SW, l2(ServicePort("Gi1/0/2", mode="access"), vlans=(VlanInput(7, present=True),)))
    assert isinstance(payload, SnmpPayload)
    assert [s.oid for s in payload.sets] == ["1.3.6.1.2.1.17.7.1.4.3.1.2.7", "1.3.6.1.2.1.2.2.1.7.2"]
    assert payload.sets[0].value == bytes([0b01000000])


def test_the_portlist_spans_the_octets_of_the_highest_ifindex() -> None:
    device = dataclasses.replace(SW, ports=(*SW.ports, PortInput("Te1/1/1", 17)))
    payload = render(device, l2(ServicePort("Te1/1/1", mode="trunk")))
    assert isinstance(payload, SnmpPayload)
    portlist = next(s for s in payload.sets if s.oid.startswith("1.3.6.1.2.1.17.7.1.4.3.1.2."))
    assert portlist.value == bytes([0, 0, 0b10000000])


def test_l3_access_is_not_offered_on_an_snmp_only_switch() -> None:
    with pytest.raises(UnsupportedService, match="legacy-switch"):
        render(SW, l3("Gi1/0/1"))


# ---- every render -------------------------------------------------------------------------------------------


def test_render_is_pure_the_same_input_gives_the_same_payload() -> None:
    service = l2(ServicePort("ge-0/0/0", "acc", mode="access"))
    assert render(PE, service) == render(PE, service)
    assert render(SW, l2(ServicePort("Gi1/0/1", mode="access"))) == render(
        SW, l2(ServicePort("Gi1/0/1", mode="access"))
    )


def test_an_unknown_platform_or_service_type_is_refused() -> None:
    with pytest.raises(RenderError, match="unknown platform"):
        render(dataclasses.replace(PE, platform="ios-xr"), l3())
    with pytest.raises(UnsupportedService, match="l3-vpn"):
        render(PE, dataclasses.replace(l3(), service_type="l3-vpn"))


def test_every_platform_offers_a_template_for_each_of_its_service_types() -> None:
    from oss.activation.rendering.render import TEMPLATES

    for platform in platforms().values():
        suffix = "xml.j2" if platform.protocol == "netconf" else "yaml.j2"
        for service_type in platform.services:
            assert any((TEMPLATES / d / f"{service_type}.{suffix}").is_file() for d in platform.templates), (
                platform.name, service_type)  # fmt: skip


def test_the_payload_validator_refuses_a_leafref_to_an_interface_the_payload_lacks() -> None:
    config = etree.fromstring(
        b'<config xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"><vlans xmlns="urn:provisio:params:xml:ns:yang:'
        b'provisio-vlan"><vlan><id>5</id><member>nowhere</member></vlan></vlans></config>'
    )
    with pytest.raises(PayloadInvalid) as caught:
        validate_netconf_payload(config)
    assert caught.value.details["error_tag"] == "data-missing"
