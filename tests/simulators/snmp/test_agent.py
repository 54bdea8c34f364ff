"""The SNMP agent of a simulated device, driven by a pysnmp manager over real UDP on 127.0.0.1.

Reads come from running at request time; writes land in running (the data NETCONF sees); refusals are
those of RFC 3416 §4.2.5 and of a typically configured real agent (compare test_independent.py).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from pysnmp.proto.rfc1902 import Integer32, OctetString

from simulators.device import Device, ValidationFailed
from simulators.faults import Fault, FaultKind
from simulators.profiles import PROFILES
from simulators.snmp import SnmpEndpoint, start_snmp_agent
from tests.simulators.snmp.client import SnmpClient, v2c, v3
from tests.simulators.snmp.conftest import CREDENTIALS, LoopThread, pe_running

RO, RW = v2c(CREDENTIALS.community_ro), v2c(CREDENTIALS.community_rw)
SYS_DESCR, SYS_OBJECT_ID, SYS_UP_TIME, SYS_NAME = (f"1.3.6.1.2.1.1.{n}.0" for n in (1, 2, 3, 5))
IF_DESCR, IF_ADMIN, IF_OPER = "1.3.6.1.2.1.2.2.1.2", "1.3.6.1.2.1.2.2.1.7", "1.3.6.1.2.1.2.2.1.8"
IF_ALIAS = "1.3.6.1.2.1.31.1.1.1.18"
VLAN_NAME, VLAN_PORTS, VLAN_STATUS = (f"1.3.6.1.2.1.17.7.1.4.3.1.{n}" for n in (1, 2, 5))
IP_ADDRESS_IF_INDEX = "1.3.6.1.2.1.4.34.1.3"


def interface(device: Device, loop: LoopThread, name: str) -> dict[str, Any]:
    running = loop.call(lambda: device.get("running"))
    return next(i for i in running["ietf-interfaces:interfaces"]["interface"] if i["name"] == name)


def vlans(device: Device, loop: LoopThread) -> dict[int, dict[str, Any]]:
    running = loop.call(lambda: device.get("running"))
    return {v["id"]: v for v in running.get("provisio-vlan:vlans", {}).get("vlan", [])}


# --- reads -----------------------------------------------------------------------------------------


def test_get_system_group_answers_device_identity(
    loop_thread: LoopThread, client: SnmpClient, agent: SnmpEndpoint
) -> None:
    answer = loop_thread.run(client.get(agent.port, RO, SYS_DESCR, SYS_OBJECT_ID, SYS_UP_TIME, SYS_NAME))

    assert answer.error_indication is None and answer.error_status == "noError"
    descr, object_id, uptime, name = answer.values()
    assert "pe-router" in str(descr) and str(name) == "pe1"
    assert str(object_id).startswith("1.3.6.1.4.1.")
    assert uptime.__class__.__name__ == "TimeTicks"


def test_walk_ifdescr_lists_every_interface_in_ifindex_order(
    loop_thread: LoopThread, client: SnmpClient, agent: SnmpEndpoint, device: Device
) -> None:
    walked = loop_thread.run(client.walk(agent.port, RO, IF_DESCR))

    expected = [(f"{IF_DESCR}.{device.if_index(n)}", n) for n in PROFILES["pe-router"].interfaces]
    assert [(oid, str(value)) for oid, value in walked] == sorted(expected, key=lambda p: int(p[0].rsplit(".", 1)[1]))


def test_get_missing_instance_answers_no_such_instance_and_unknown_object_no_such_object(
    loop_thread: LoopThread, client: SnmpClient, agent: SnmpEndpoint
) -> None:
    answer = loop_thread.run(client.get(agent.port, RO, f"{IF_DESCR}.999", "1.3.6.1.2.1.1.9.0", "1.3.6.1.2.1.1.1"))

    assert [v.__class__.__name__ for v in answer.values()] == ["NoSuchInstance", "NoSuchObject", "NoSuchInstance"]


def test_getbulk_answers_max_repetitions_rows(loop_thread: LoopThread, client: SnmpClient, agent: SnmpEndpoint) -> None:
    answer = loop_thread.run(client.bulk(agent.port, RO, 1, 3, SYS_DESCR, IF_DESCR, IF_ADMIN))

    names = [name for name, _ in answer.varbinds]
    assert names[0] == SYS_OBJECT_ID  # the non-repeater: one GETNEXT
    assert names[1:] == [
        f"{IF_DESCR}.1",
        f"{IF_ADMIN}.1",
        f"{IF_DESCR}.2",
        f"{IF_ADMIN}.2",
        f"{IF_DESCR}.3",
        f"{IF_ADMIN}.3",
    ]


def test_ip_address_table_lists_ietf_ip_addresses(
    loop_thread: LoopThread, client: SnmpClient, agent: SnmpEndpoint, device: Device
) -> None:
    walked = loop_thread.run(client.walk(agent.port, RO, IP_ADDRESS_IF_INDEX))

    assert {(oid, int(value)) for oid, value in walked} == {
        (f"{IP_ADDRESS_IF_INDEX}.1.4.192.0.2.1", device.if_index("ge-0/0/0")),
        (f"{IP_ADDRESS_IF_INDEX}.1.4.198.51.100.9", device.if_index("ge-0/0/1")),
    }


def test_vlan_table_shows_running_vlans_with_egress_ports(
    loop_thread: LoopThread, client: SnmpClient, agent: SnmpEndpoint, device: Device
) -> None:
    answer = loop_thread.run(client.get(agent.port, RO, f"{VLAN_NAME}.10", f"{VLAN_PORTS}.10", f"{VLAN_STATUS}.10"))

    name, ports, status = answer.values()
    assert str(name) == "mgmt" and int(status) == 1
    port = device.if_index("ge-0/0/1")
    assert bytes(ports)[(port - 1) // 8] & (0x80 >> ((port - 1) % 8))


def test_change_made_out_of_band_is_seen_by_the_next_get(
    loop_thread: LoopThread, client: SnmpClient, agent: SnmpEndpoint, device: Device
) -> None:
    running = loop_thread.call(lambda: device.get("running"))
    running["ietf-interfaces:interfaces"]["interface"][0]["description"] = "changed by NETCONF"
    loop_thread.call(lambda: device.set_running_out_of_band(running, origin="test"))

    answer = loop_thread.run(client.get(agent.port, RO, f"{IF_ALIAS}.{device.if_index('ge-0/0/0')}"))

    assert str(answer.values()[0]) == "changed by NETCONF"


# --- writes ----------------------------------------------------------------------------------------


def test_set_ifalias_writes_the_running_description(
    loop_thread: LoopThread, client: SnmpClient, agent: SnmpEndpoint, device: Device
) -> None:
    index = device.if_index("ge-0/0/2")
    answer = loop_thread.run(client.set(agent.port, RW, (f"{IF_ALIAS}.{index}", OctetString("to customer 42"))))

    assert answer.error_status == "noError"
    assert interface(device, loop_thread, "ge-0/0/2")["description"] == "to customer 42"


def test_set_empty_ifalias_removes_the_description(
    loop_thread: LoopThread, client: SnmpClient, agent: SnmpEndpoint, device: Device
) -> None:
    index = device.if_index("ge-0/0/0")
    loop_thread.run(client.set(agent.port, RW, (f"{IF_ALIAS}.{index}", OctetString(""))))

    assert "description" not in interface(device, loop_thread, "ge-0/0/0")


def test_set_ifadminstatus_down_disables_the_interface(
    loop_thread: LoopThread, client: SnmpClient, agent: SnmpEndpoint, device: Device
) -> None:
    index = device.if_index("xe-0/1/0")
    answer = loop_thread.run(client.set(agent.port, RW, (f"{IF_ADMIN}.{index}", Integer32(2))))
    read_back = loop_thread.run(client.get(agent.port, RO, f"{IF_ADMIN}.{index}", f"{IF_OPER}.{index}"))

    assert answer.error_status == "noError"
    assert interface(device, loop_thread, "xe-0/1/0")["enabled"] is False
    assert [int(v) for v in read_back.values()] == [2, 2]


def test_rowstatus_create_and_go_creates_the_vlan_in_running(
    loop_thread: LoopThread, client: SnmpClient, agent: SnmpEndpoint, device: Device
) -> None:
    answer = loop_thread.run(
        client.set(agent.port, RW, (f"{VLAN_STATUS}.200", Integer32(4)), (f"{VLAN_NAME}.200", OctetString("cust-200")))
    )

    assert answer.error_status == "noError"
    assert vlans(device, loop_thread)[200] == {"id": 200, "name": "cust-200"}


def test_rowstatus_destroy_removes_the_vlan_from_running(
    loop_thread: LoopThread, client: SnmpClient, agent: SnmpEndpoint, device: Device
) -> None:
    answer = loop_thread.run(client.set(agent.port, RW, (f"{VLAN_STATUS}.10", Integer32(6))))

    assert answer.error_status == "noError"
    assert 10 not in vlans(device, loop_thread)


def test_rowstatus_create_and_wait_then_active_creates_the_vlan_only_when_active(
    loop_thread: LoopThread, client: SnmpClient, agent: SnmpEndpoint, device: Device
) -> None:
    created = loop_thread.run(client.set(agent.port, RW, (f"{VLAN_STATUS}.300", Integer32(5))))
    named = loop_thread.run(client.set(agent.port, RW, (f"{VLAN_NAME}.300", OctetString("waiting"))))
    status = loop_thread.run(client.get(agent.port, RO, f"{VLAN_STATUS}.300"))
    assert (created.error_status, named.error_status, int(status.values()[0])) == ("noError", "noError", 2)
    assert 300 not in vlans(device, loop_thread)

    activated = loop_thread.run(client.set(agent.port, RW, (f"{VLAN_STATUS}.300", Integer32(1))))

    assert activated.error_status == "noError"
    assert vlans(device, loop_thread)[300] == {"id": 300, "name": "waiting"}


def test_set_egress_ports_writes_vlan_members(
    loop_thread: LoopThread, client: SnmpClient, agent: SnmpEndpoint, device: Device
) -> None:
    ports = {device.if_index("ge-0/0/2"), device.if_index("ge-0/0/3")}
    bitmap = bytearray(1)
    for port in ports:
        bitmap[(port - 1) // 8] |= 0x80 >> ((port - 1) % 8)
    answer = loop_thread.run(client.set(agent.port, RW, (f"{VLAN_PORTS}.10", OctetString(bytes(bitmap)))))

    assert answer.error_status == "noError"
    assert vlans(device, loop_thread)[10]["member"] == ["ge-0/0/2", "ge-0/0/3"]


def test_v3_authpriv_reads_and_writes(
    loop_thread: LoopThread, client: SnmpClient, agent: SnmpEndpoint, device: Device
) -> None:
    auth = v3(CREDENTIALS)
    index = device.if_index("ge-0/0/1")
    written = loop_thread.run(client.set(agent.port, auth, (f"{IF_ALIAS}.{index}", OctetString("via v3"))))
    read = loop_thread.run(client.get(agent.port, auth, f"{IF_ALIAS}.{index}"))

    assert written.error_indication is None and written.error_status == "noError"
    assert str(read.values()[0]) == "via v3"
    assert interface(device, loop_thread, "ge-0/0/1")["description"] == "via v3"


# --- refusals --------------------------------------------------------------------------------------


def test_read_only_community_set_answers_no_access_and_changes_nothing(
    loop_thread: LoopThread, client: SnmpClient, agent: SnmpEndpoint, device: Device
) -> None:
    before = loop_thread.call(lambda: device.get("running"))
    answer = loop_thread.run(client.set(agent.port, RO, (f"{IF_ALIAS}.1", OctetString("nope"))))

    assert (answer.error_status, answer.error_index) == ("noAccess", 1)
    assert loop_thread.call(lambda: device.get("running")) == before


def test_set_with_wrong_type_answers_wrong_type(
    loop_thread: LoopThread, client: SnmpClient, agent: SnmpEndpoint
) -> None:
    answer = loop_thread.run(client.set(agent.port, RW, (f"{IF_ALIAS}.1", Integer32(5))))

    assert (answer.error_status, answer.error_index) == ("wrongType", 1)


def test_set_of_read_only_object_answers_not_writable(
    loop_thread: LoopThread, client: SnmpClient, agent: SnmpEndpoint
) -> None:
    answer = loop_thread.run(client.set(agent.port, RW, (SYS_DESCR, OctetString("x"))))

    assert (answer.error_status, answer.error_index) == ("notWritable", 1)


def test_set_of_missing_interface_answers_no_creation(
    loop_thread: LoopThread, client: SnmpClient, agent: SnmpEndpoint
) -> None:
    answer = loop_thread.run(client.set(agent.port, RW, (f"{IF_ALIAS}.999", OctetString("x"))))

    assert answer.error_status == "noCreation"


def test_set_ifalias_longer_than_64_octets_answers_wrong_length(
    loop_thread: LoopThread, client: SnmpClient, agent: SnmpEndpoint
) -> None:
    answer = loop_thread.run(client.set(agent.port, RW, (f"{IF_ALIAS}.1", OctetString("x" * 65))))

    assert answer.error_status == "wrongLength"


def test_set_ifadminstatus_testing_answers_wrong_value(
    loop_thread: LoopThread, client: SnmpClient, agent: SnmpEndpoint
) -> None:
    answer = loop_thread.run(client.set(agent.port, RW, (f"{IF_ADMIN}.1", Integer32(3))))

    assert answer.error_status == "wrongValue"


def test_create_and_go_on_existing_vlan_answers_inconsistent_value(
    loop_thread: LoopThread, client: SnmpClient, agent: SnmpEndpoint
) -> None:
    answer = loop_thread.run(client.set(agent.port, RW, (f"{VLAN_STATUS}.10", Integer32(4))))

    assert answer.error_status == "inconsistentValue"


def test_vlan_name_without_row_creation_answers_inconsistent_name(
    loop_thread: LoopThread, client: SnmpClient, agent: SnmpEndpoint, device: Device
) -> None:
    answer = loop_thread.run(client.set(agent.port, RW, (f"{VLAN_NAME}.77", OctetString("ghost"))))

    assert answer.error_status == "inconsistentName"
    assert 77 not in vlans(device, loop_thread)


def test_multi_varbind_set_with_one_bad_varbind_applies_nothing(
    loop_thread: LoopThread, client: SnmpClient, agent: SnmpEndpoint, device: Device
) -> None:
    before = loop_thread.call(lambda: device.get("running"))
    answer = loop_thread.run(
        client.set(
            agent.port,
            RW,
            (f"{IF_ALIAS}.1", OctetString("would change")),
            (f"{VLAN_STATUS}.400", Integer32(4)),
            (f"{IF_ADMIN}.2", Integer32(7)),  # not up(1)/down(2): wrongValue
        )
    )

    assert (answer.error_status, answer.error_index) == ("wrongValue", 3)
    assert loop_thread.call(lambda: device.get("running")) == before


class StricterDevice(Device):
    """A device whose YANG model is stricter than the MIB (as with a vendor ``must`` on description):
    the SNMP checks pass and the datastore validation refuses. The real modules accept every value the
    MIB allows, so this one branch needs a stricter device."""

    def set_running_out_of_band(self, new_running: dict[str, Any], origin: str) -> None:
        for item in new_running["ietf-interfaces:interfaces"]["interface"]:
            if "forbidden" in item.get("description", ""):
                path = f"/ietf-interfaces:interfaces/interface[name='{item['name']}']/description"
                raise ValidationFailed("invalid-value", "description not allowed", path)
        super().set_running_out_of_band(new_running, origin)


def test_set_refused_by_datastore_validation_answers_inconsistent_value_and_changes_nothing(
    loop_thread: LoopThread, client: SnmpClient
) -> None:
    device = loop_thread.call(lambda: StricterDevice("pe9", PROFILES["pe-router"], running=pe_running()))
    endpoint = loop_thread.run(start_snmp_agent(device, credentials=CREDENTIALS))
    before = loop_thread.call(lambda: device.get("running"))
    try:
        answer = loop_thread.run(
            client.set(
                endpoint.port,
                RW,
                (f"{IF_ALIAS}.1", OctetString("fine")),
                (f"{IF_ALIAS}.2", OctetString("forbidden text")),
            )
        )
    finally:
        loop_thread.run(endpoint.close())

    assert (answer.error_status, answer.error_index) == ("inconsistentValue", 2)
    assert loop_thread.call(lambda: device.get("running")) == before


def test_unknown_community_gets_no_answer(loop_thread: LoopThread, client: SnmpClient, agent: SnmpEndpoint) -> None:
    answer = loop_thread.run(client.get(agent.port, v2c("guess"), SYS_NAME))

    assert answer.timed_out


def test_v3_wrong_auth_key_is_refused(loop_thread: LoopThread, client: SnmpClient, agent: SnmpEndpoint) -> None:
    answer = loop_thread.run(client.get(agent.port, v3(CREDENTIALS, auth_key="not-the-key-1"), SYS_NAME))

    assert answer.error_indication is not None and not answer.varbinds


def test_v3_without_privacy_answers_authorization_error(
    loop_thread: LoopThread, client: SnmpClient, agent: SnmpEndpoint
) -> None:
    answer = loop_thread.run(client.get(agent.port, v3(CREDENTIALS, priv=False), SYS_NAME))

    assert answer.error_status == "authorizationError"


def test_snmp_timeout_fault_drops_requests_until_it_is_used_up(
    loop_thread: LoopThread, client: SnmpClient, agent: SnmpEndpoint, device: Device
) -> None:
    loop_thread.call(lambda: device.faults.set(Fault(FaultKind.SNMP_TIMEOUT, {"count": 1})))

    dropped = loop_thread.run(client.get(agent.port, RO, SYS_NAME))
    answered = loop_thread.run(client.get(agent.port, RO, SYS_NAME))

    assert dropped.timed_out
    assert answered.error_indication is None and str(answered.values()[0]) == "pe1"


def test_slow_reply_fault_delays_the_snmp_answer_then_clears(
    loop_thread: LoopThread, client: SnmpClient, agent: SnmpEndpoint, device: Device
) -> None:
    loop_thread.call(lambda: device.faults.set(Fault(FaultKind.SLOW_REPLY, {"delay_ms": 400, "count": 1})))

    started = time.monotonic()
    slow = loop_thread.run(client.get(agent.port, RO, SYS_NAME, timeout=5.0))
    slow_s = time.monotonic() - started
    started = time.monotonic()
    fast = loop_thread.run(client.get(agent.port, RO, SYS_NAME, timeout=5.0))
    fast_s = time.monotonic() - started

    assert slow.error_indication is None and str(slow.values()[0]) == "pe1"
    assert fast.error_indication is None and str(fast.values()[0]) == "pe1"
    assert slow_s >= 0.4
    # Cleared: the fault is gone and the next answer is not delayed again. Compared with the slow one, not
    # with a fixed 0.4 s: at load 10 on two cores a plain GET once took longer than that.
    assert loop_thread.call(device.faults.list) == []
    assert fast_s < slow_s


def test_slow_reply_fault_does_not_hold_up_other_requests(
    loop_thread: LoopThread, client: SnmpClient, agent: SnmpEndpoint, device: Device
) -> None:
    # A 1.5 s delay on the first answer only; a second manager asking meanwhile is answered at once,
    # because the agent schedules the late answer instead of sleeping.
    loop_thread.call(lambda: device.faults.set(Fault(FaultKind.SLOW_REPLY, {"delay_ms": 1500, "count": 1})))

    async def both() -> tuple[float, float]:
        started = time.monotonic()
        slow = asyncio.ensure_future(client.get(agent.port, RO, SYS_NAME, timeout=5.0))
        await asyncio.sleep(0)  # the slow request is sent first
        fast = await client.get(agent.port, RO, SYS_NAME, timeout=5.0)
        fast_s = time.monotonic() - started
        assert fast.error_indication is None
        assert (await slow).error_indication is None
        return fast_s, time.monotonic() - started

    fast_s, slow_s = loop_thread.run(both())

    assert fast_s < 1.5 <= slow_s


def test_booting_device_drops_snmp_requests_until_it_is_up(
    loop_thread: LoopThread, client: SnmpClient, agent: SnmpEndpoint, device: Device
) -> None:
    loop_thread.call(lambda: device.reboot(down_ms=600_000))

    dropped = loop_thread.run(client.get(agent.port, RO, SYS_NAME))
    loop_thread.call(device.finish_boot)
    answered = loop_thread.run(client.get(agent.port, RO, SYS_NAME))

    assert dropped.timed_out
    assert answered.error_indication is None and str(answered.values()[0]) == "pe1"
