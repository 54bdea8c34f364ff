"""Faults consulted by the NETCONF server, and what each profile offers."""

from __future__ import annotations

import time

import pytest
from ncclient.operations.rpc import RPCError

from simulators.faults import Fault, FaultKind
from tests.simulators.netconf.conftest import IF_NS, VLAN_NS, Sim, vlan_config, vlans_of

CAP = "urn:ietf:params:netconf:capability:"


def _arm(sim: Sim, kind: FaultKind, **params: object) -> None:
    sim.call(lambda: sim.device.faults.set(Fault(kind, dict(params))))


def test_refuse_connection_closes_at_accept_then_recovers(pe: Sim) -> None:
    _arm(pe, FaultKind.REFUSE_CONNECTION, count=1)
    with pytest.raises(Exception):  # noqa: B017 - ncclient SSHError
        pe.connect(timeout=5)
    with pe.connect() as m:
        assert m.connected


def test_slow_reply_delays_each_reply(pe: Sim) -> None:
    with pe.connect() as m:
        _arm(pe, FaultKind.SLOW_REPLY, delay_ms=200, count=1)
        started = time.monotonic()
        m.get_config("running")
        slow = time.monotonic() - started
        started = time.monotonic()
        m.get_config("running")
        fast = time.monotonic() - started
    assert slow >= 0.2 > fast


def test_lock_held_by_phantom_session(pe: Sim) -> None:
    _arm(pe, FaultKind.LOCK_HELD, session_id=777)
    with pe.connect() as m:
        with pytest.raises(RPCError) as err:
            m.lock("candidate")
        assert err.value.tag == "lock-denied" and "<session-id>777</session-id>" in err.value.info
        with pytest.raises(RPCError) as edit_err:
            m.edit_config(target="candidate", config=vlan_config((10, "a")))
        assert edit_err.value.tag == "in-use"
        pe.call(lambda: pe.device.faults.clear(FaultKind.LOCK_HELD))
        m.lock("candidate")


def test_commit_rpc_error_applies_nothing(pe: Sim) -> None:
    _arm(pe, FaultKind.COMMIT_RPC_ERROR, count=1)
    with pe.connect() as m:
        m.edit_config(target="candidate", config=vlan_config((10, "a")))
        with pytest.raises(RPCError) as err:
            m.commit()
        assert err.value.tag == "operation-failed"
        assert vlans_of(pe.datastore("running")) == {}
        m.commit()
    assert vlans_of(pe.datastore("running")) == {10: "a"}


def test_partial_apply_leaves_running_between_old_and_new(pe: Sim) -> None:
    _arm(pe, FaultKind.PARTIAL_APPLY, count=1)
    cfg = (
        f'<config><vlans xmlns="{VLAN_NS}"><vlan><id>10</id></vlan></vlans>'
        f'<interfaces xmlns="{IF_NS}"><interface><name>ge-0/0/0</name><description>x</description></interface></interfaces></config>'  # noqa: E501 - XML literal
    )
    with pe.connect() as m:
        before = pe.datastore("running")
        m.edit_config(target="candidate", config=cfg)
        with pytest.raises(RPCError) as err:
            m.commit()
    assert err.value.tag == "operation-failed"
    running = pe.datastore("running")
    assert running != before and running != pe.datastore("candidate")


def test_drop_session_mid_commit_applies_change_without_reply(pe: Sim) -> None:
    _arm(pe, FaultKind.DROP_SESSION_MID_COMMIT, count=1)
    m = pe.connect(timeout=3)
    m.edit_config(target="candidate", config=vlan_config((10, "a")))
    with pytest.raises(Exception):  # noqa: B017 - TransportError or TimeoutExpiredError, no reply
        m.commit()
    pe.wait_for(lambda: not pe.device.sessions)
    assert vlans_of(pe.datastore("running")) == {10: "a"}


def test_fault_probability_zero_never_fires(pe: Sim) -> None:
    _arm(pe, FaultKind.COMMIT_RPC_ERROR, probability=0.0)
    with pe.connect() as m:
        m.edit_config(target="candidate", config=vlan_config((10, "a")))
        m.commit()


def test_pe_router_capabilities(pe: Sim) -> None:
    with pe.connect() as m:
        caps = set(m.server_capabilities)
    for cap in ("candidate:1.0", "confirmed-commit:1.1", "validate:1.1", "startup:1.0", "rollback-on-error:1.0"):
        assert CAP + cap in caps
    assert CAP + "writable-running:1.0" not in caps
    assert any("module=ietf-interfaces&revision=2018-02-20&features=if-mib" in c for c in caps)
    assert any("module=provisio-vlan" in c for c in caps)


def test_cpe_capabilities_have_writable_running_and_no_candidate(cpe: Sim) -> None:
    with cpe.connect() as m:
        caps = set(m.server_capabilities)
    assert CAP + "writable-running:1.0" in caps and CAP + "rollback-on-error:1.0" in caps
    assert not any(c.startswith(CAP + p) for c in caps for p in ("candidate", "confirmed-commit", "startup"))


def test_cpe_edits_running_directly(cpe: Sim) -> None:
    with cpe.connect() as m:
        m.edit_config(target="running", config=vlan_config((10, "a")), error_option="rollback-on-error")
    assert vlans_of(cpe.datastore("running")) == {10: "a"}


def test_cpe_running_edit_is_fully_validated(cpe: Sim) -> None:
    bad = f'<config><vlans xmlns="{VLAN_NS}"><vlan><id>11</id><member>nope</member></vlan></vlans></config>'
    with cpe.connect() as m, pytest.raises(RPCError) as err:
        m.edit_config(target="running", config=bad)
    assert err.value.tag == "data-missing"
    assert vlans_of(cpe.datastore("running")) == {}


def test_cpe_rollback_on_error_restores_everything(cpe: Sim) -> None:
    cfg = f'<config><vlans xmlns="{VLAN_NS}"><vlan><id>10</id></vlan><vlan><id>0</id></vlan></vlans></config>'
    with cpe.connect() as m, pytest.raises(RPCError) as err:
        m.edit_config(target="running", config=cfg, error_option="rollback-on-error")
    assert err.value.tag == "invalid-value"
    assert vlans_of(cpe.datastore("running")) == {}


def test_cpe_refuses_candidate_operations(cpe: Sim) -> None:
    from lxml import etree

    with cpe.connect() as m:
        with pytest.raises(RPCError) as commit_err:
            m.dispatch(etree.fromstring('<commit xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"/>'))
        assert commit_err.value.tag == "operation-not-supported"
        with pytest.raises(RPCError) as source_err:
            m.dispatch(
                etree.fromstring(
                    '<get-config xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"><source><candidate/></source></get-config>'  # noqa: E501 - XML literal
                )
            )
        assert source_err.value.tag == "invalid-value"


# A :writable-running device commits with its edit-config of running (RFC 6241 §8.2): the commit
# faults and the commit latency hold there too, or the cpe path of a driver could never meet them.


def test_cpe_commit_rpc_error_fault_refuses_the_running_edit(cpe: Sim) -> None:
    _arm(cpe, FaultKind.COMMIT_RPC_ERROR, count=1)
    with cpe.connect() as m:
        with pytest.raises(RPCError) as err:
            m.edit_config(target="running", config=vlan_config((10, "a")))
        assert err.value.tag == "operation-failed"
        assert vlans_of(cpe.datastore("running")) == {}
        m.edit_config(target="running", config=vlan_config((10, "a")))
    assert vlans_of(cpe.datastore("running")) == {10: "a"}


def test_cpe_partial_apply_fault_leaves_part_of_the_running_edit(cpe: Sim) -> None:
    _arm(cpe, FaultKind.PARTIAL_APPLY, count=1)
    with cpe.connect() as m, pytest.raises(RPCError) as err:
        m.edit_config(target="running", config=vlan_config((10, "a"), (11, "b")))
    assert err.value.tag == "operation-failed"
    assert vlans_of(cpe.datastore("running")) == {10: "a"}


def test_cpe_drop_session_mid_commit_applies_the_running_edit_without_reply(cpe: Sim) -> None:
    _arm(cpe, FaultKind.DROP_SESSION_MID_COMMIT, count=1)
    m = cpe.connect(timeout=3)
    with pytest.raises(Exception):  # noqa: B017 - TransportError or TimeoutExpiredError, no reply
        m.edit_config(target="running", config=vlan_config((10, "a")))
    cpe.wait_for(lambda: not cpe.device.sessions)
    assert vlans_of(cpe.datastore("running")) == {10: "a"}


def test_cpe_commit_latency_delays_the_running_edit(cpe: Sim) -> None:
    cpe.call(lambda: setattr(cpe.device, "commit_latency_ms", 300))
    with cpe.connect() as m:
        started = time.monotonic()
        m.edit_config(target="running", config=vlan_config((10, "a")))
        assert time.monotonic() - started >= 0.3
        started = time.monotonic()
        m.edit_config(target="running", config=vlan_config((10, "a")), test_option="test-only")
        assert time.monotonic() - started < 0.3  # nothing is committed by a test-only edit
