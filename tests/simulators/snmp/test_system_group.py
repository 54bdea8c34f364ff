"""SNMPv2-MIB sysContact.0, sysName.0, sysLocation.0 are read-write (RFC 3418 §2) on every profile.

They are kept in running as ietf-system (RFC 7317) contact/hostname/location, so a SET survives a restart
with ``--state-dir`` exactly as an ifAlias (running ``description``) does, and NETCONF sees it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pysnmp.proto.rfc1902 import Integer32, ObjectIdentifier, OctetString

from simulators.device import Device
from simulators.profiles import PROFILES
from simulators.snmp import SnmpEndpoint, start_snmp_agent
from tests.simulators.snmp.client import SnmpClient, v2c
from tests.simulators.snmp.conftest import CREDENTIALS, LoopThread

RO, RW = v2c(CREDENTIALS.community_ro), v2c(CREDENTIALS.community_rw)
SYS_CONTACT, SYS_NAME, SYS_LOCATION = (f"1.3.6.1.2.1.1.{n}.0" for n in (4, 5, 6))
LEAF_OF = {SYS_CONTACT: "contact", SYS_NAME: "hostname", SYS_LOCATION: "location"}
VALUES = {SYS_CONTACT: "noc@example.net", SYS_NAME: "pe1.example.net", SYS_LOCATION: "rack 4, London"}


@pytest.fixture(params=["pe-router", "cpe"])
def profile_device(request: pytest.FixtureRequest, loop_thread: LoopThread) -> Device:
    return loop_thread.call(lambda: Device("dev1", PROFILES[request.param]))


@pytest.fixture
def endpoint(loop_thread: LoopThread, profile_device: Device) -> Iterator[SnmpEndpoint]:
    agent = loop_thread.run(start_snmp_agent(profile_device, host="127.0.0.1", port=0, credentials=CREDENTIALS))
    yield agent
    loop_thread.run(agent.close())


def _system(device: Device, loop: LoopThread) -> dict[str, str]:
    return dict(loop.call(lambda: device.get("running")).get("ietf-system:system", {}))


@pytest.mark.parametrize("oid", [SYS_CONTACT, SYS_NAME, SYS_LOCATION])
def test_set_of_a_system_scalar_with_the_rw_community_is_applied_and_read_back(
    loop_thread: LoopThread, client: SnmpClient, endpoint: SnmpEndpoint, profile_device: Device, oid: str
) -> None:
    answer = loop_thread.run(client.set(endpoint.port, RW, (oid, OctetString(VALUES[oid]))))

    assert (answer.error_status, answer.error_index) == ("noError", 0)
    assert str(loop_thread.run(client.get(endpoint.port, RO, oid)).values()[0]) == VALUES[oid]
    assert _system(profile_device, loop_thread)[LEAF_OF[oid]] == VALUES[oid]


@pytest.mark.parametrize("oid", [SYS_CONTACT, SYS_NAME, SYS_LOCATION])
@pytest.mark.parametrize("wrong", [Integer32(7), ObjectIdentifier("1.3.6.1")], ids=["Integer32", "OID"])
def test_set_of_a_system_scalar_with_the_wrong_type_answers_wrong_type(
    loop_thread: LoopThread, client: SnmpClient, endpoint: SnmpEndpoint, profile_device: Device, oid: str, wrong: object
) -> None:
    before = loop_thread.call(lambda: profile_device.get("running"))
    answer = loop_thread.run(client.set(endpoint.port, RW, (oid, wrong)))

    assert (answer.error_status, answer.error_index) == ("wrongType", 1)
    assert loop_thread.call(lambda: profile_device.get("running")) == before


def test_system_scalars_refuse_what_they_cannot_hold(
    loop_thread: LoopThread, client: SnmpClient, endpoint: SnmpEndpoint, profile_device: Device
) -> None:
    def status(oid: str, value: bytes) -> str:
        return loop_thread.run(client.set(endpoint.port, RW, (oid, OctetString(value)))).error_status

    assert status(SYS_LOCATION, b"x" * 256) == "wrongLength"  # DisplayString (SIZE (0..255))
    assert status(SYS_CONTACT, "Jürgen".encode()) == "wrongValue"  # DisplayString is NVT ASCII
    assert status(SYS_NAME, b"not a host name") == "wrongValue"  # ietf-system hostname: inet:domain-name
    assert status(SYS_NAME, b"") == "wrongValue"
    assert status(f"{SYS_NAME[:-2]}.1", b"pe1") == "noCreation"  # a scalar has only the instance .0
    assert _system(profile_device, loop_thread) == {}


def test_system_scalars_default_to_the_device_name_and_empty_and_an_empty_set_removes_the_leaf(
    loop_thread: LoopThread, client: SnmpClient, endpoint: SnmpEndpoint, profile_device: Device
) -> None:
    values = loop_thread.run(client.get(endpoint.port, RO, SYS_CONTACT, SYS_NAME, SYS_LOCATION)).values()
    assert [str(v) for v in values] == ["", "dev1", ""]
    loop_thread.run(client.set(endpoint.port, RW, (SYS_CONTACT, OctetString("noc")), (SYS_LOCATION, OctetString("x"))))
    loop_thread.run(client.set(endpoint.port, RW, (SYS_CONTACT, OctetString(""))))

    assert _system(profile_device, loop_thread) == {"location": "x"}


def test_read_only_community_set_of_a_system_scalar_answers_no_access(
    loop_thread: LoopThread, client: SnmpClient, endpoint: SnmpEndpoint, profile_device: Device
) -> None:
    answer = loop_thread.run(client.set(endpoint.port, RO, (SYS_LOCATION, OctetString("x"))))

    assert answer.error_status == "noAccess"
    assert _system(profile_device, loop_thread) == {}


def test_system_scalars_set_by_snmp_survive_a_restart_like_ifalias(
    loop_thread: LoopThread, client: SnmpClient, endpoint: SnmpEndpoint, profile_device: Device
) -> None:
    loop_thread.run(client.set(endpoint.port, RW, *((oid, OctetString(value)) for oid, value in VALUES.items())))
    saved = loop_thread.call(profile_device.to_json)

    restarted = loop_thread.call(lambda: Device.from_json(saved))
    agent = loop_thread.run(start_snmp_agent(restarted, host="127.0.0.1", port=0, credentials=CREDENTIALS))
    try:
        values = loop_thread.run(client.get(agent.port, RO, *VALUES)).values()
    finally:
        loop_thread.run(agent.close())
    assert [str(v) for v in values] == list(VALUES.values())
