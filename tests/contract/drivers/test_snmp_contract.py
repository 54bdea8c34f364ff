"""The SNMP half of the driver contract (RFC 3416), run unchanged against every SNMP target."""

from __future__ import annotations

import dataclasses

import pytest

from oss.activation.drivers.base import SNMP_V3, Varbind
from oss.activation.drivers.credentials import Secret, SnmpCredentials
from oss.activation.drivers.errors import DeviceTimeout
from tests.contract.drivers.conftest import IF_DESCR, SYS_DESCR, SnmpTarget

MISSING_OID = "1.3.6.1.2.1.1.99.0"


@pytest.fixture
def snmp(snmp_target: SnmpTarget):  # type: ignore[no-untyped-def]
    driver = snmp_target.connect()
    yield driver
    driver.close()


def _with_communities(target: SnmpTarget, ro: str, rw: str) -> SnmpTarget:
    snmp = target.endpoint.snmp
    assert snmp is not None
    creds = SnmpCredentials(Secret(ro), Secret(rw), snmp.v3)
    return dataclasses.replace(target, endpoint=dataclasses.replace(target.endpoint, snmp=creds))


def test_get_returns_typed_values_and_no_such_for_missing(snmp) -> None:  # type: ignore[no-untyped-def]
    descr, missing = snmp.get([SYS_DESCR, MISSING_OID])
    assert descr.type == "OctetString" and isinstance(descr.value, bytes) and descr.value
    assert missing.type in ("noSuchObject", "noSuchInstance") and not missing.exists


def test_walk_returns_the_subtree_in_order_by_bulk_and_by_getnext(snmp) -> None:  # type: ignore[no-untyped-def]
    bulk = snmp.walk(IF_DESCR)
    nexts = snmp.walk(IF_DESCR, bulk=False)
    assert bulk, "ifDescr column is empty"
    assert all(vb.oid.startswith(IF_DESCR + ".") for vb in bulk)
    keys = [tuple(int(p) for p in vb.oid.split(".")) for vb in bulk]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    assert [vb.oid for vb in bulk] == [vb.oid for vb in nexts]


def test_set_applies_and_reads_back(snmp_target: SnmpTarget, snmp) -> None:  # type: ignore[no-untyped-def]
    value = f"contract-{snmp_target.name}".encode()
    outcome = snmp.set([Varbind.octets(snmp_target.writable_oid, value)])
    assert outcome.status == "applied", outcome
    assert snmp.get([snmp_target.writable_oid])[0].value == value


def test_set_pdu_is_applied_as_a_whole_or_not_at_all(snmp_target: SnmpTarget, snmp) -> None:  # type: ignore[no-untyped-def]
    before = snmp.get([snmp_target.writable_oid])[0].value
    outcome = snmp.set(
        [Varbind.octets(snmp_target.writable_oid, b"must-not-stick"), Varbind.octets(snmp_target.readonly_oid, b"x")]
    )
    assert outcome.status == "failed"
    assert outcome.error_status in ("notWritable", "noAccess", "noCreation")
    assert outcome.error_index == 2
    assert snmp.get([snmp_target.writable_oid])[0].value == before


def test_set_with_the_read_only_community_is_refused(snmp_target: SnmpTarget) -> None:
    snmp = snmp_target.endpoint.snmp
    assert snmp is not None and snmp.community_ro is not None
    ro = _with_communities(snmp_target, snmp.community_ro.reveal(), snmp.community_ro.reveal())
    driver = ro.connect()
    try:
        outcome = driver.set([Varbind.octets(snmp_target.writable_oid, b"refused")])
        assert outcome.status == "failed"
        assert outcome.error_status in snmp_target.read_only_refusals
    finally:
        driver.close()


def test_unanswered_set_is_unknown_and_unanswered_get_times_out(snmp_target: SnmpTarget) -> None:
    silent = _with_communities(snmp_target, "no-such-community", "no-such-community")
    driver = silent.connect(timeout_s=0.3)
    try:
        outcome = driver.set([Varbind.octets(snmp_target.writable_oid, b"maybe")])
        assert outcome.status == "unknown" and not outcome.applied
        assert outcome.error_status is None
        with pytest.raises(DeviceTimeout):
            driver.get([SYS_DESCR])
    finally:
        driver.close()


def test_set_during_an_agent_timeout_fault_is_unknown(snmp_target: SnmpTarget) -> None:
    if snmp_target.make_silent is None:
        pytest.skip(f"not applicable: {snmp_target.name} has no fault injection; covered by the unknown-community case")
    driver = snmp_target.connect(timeout_s=0.3)
    try:
        with snmp_target.make_silent():
            outcome = driver.set([Varbind.octets(snmp_target.writable_oid, b"in-the-dark")])
        assert outcome.status == "unknown"
    finally:
        driver.close()


def test_v3_auth_priv_gets_and_sets(snmp_target: SnmpTarget) -> None:
    driver = snmp_target.connect(version="v3")
    try:
        assert SNMP_V3 in driver.capabilities
        assert driver.get([SYS_DESCR])[0].exists
        outcome = driver.set([Varbind.octets(snmp_target.writable_oid, b"via-v3")])
        assert outcome.status == "applied", outcome
        assert driver.get([snmp_target.writable_oid])[0].value == b"via-v3"
    finally:
        driver.close()
