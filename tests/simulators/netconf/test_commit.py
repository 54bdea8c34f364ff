"""Confirmed commit (RFC 6241 §8.4, :confirmed-commit:1.1) over real sessions.

The device's timer_scale is 0.05, so a confirm-timeout of 1 s expires after 50 ms."""

from __future__ import annotations

import pytest
from ncclient.operations.rpc import RPCError

from tests.simulators.netconf.conftest import Sim, vlan_config, vlans_of


def _stage(m, *vlans: tuple[int, str]) -> None:  # type: ignore[no-untyped-def]
    m.edit_config(target="candidate", config=vlan_config(*vlans))


def test_confirmed_commit_then_confirm_keeps_change(pe: Sim) -> None:
    with pe.connect() as m:
        _stage(m, (10, "a"))
        m.commit(confirmed=True, timeout="60")
        assert pe.call(lambda: pe.device.pending_confirm is not None)
        m.commit()
    assert pe.call(lambda: pe.device.pending_confirm is None)
    assert vlans_of(pe.datastore("running")) == {10: "a"}


def test_confirm_timeout_rolls_running_back(pe: Sim) -> None:
    with pe.connect() as m:
        _stage(m, (10, "a"))
        m.commit(confirmed=True, timeout="1")
        assert vlans_of(pe.datastore("running")) == {10: "a"}
        pe.wait_for(lambda: pe.device.pending_confirm is None)
    assert vlans_of(pe.datastore("running")) == {}
    assert vlans_of(pe.datastore("candidate")) == {}


def test_follow_up_confirmed_commit_keeps_original_rollback_point(pe: Sim) -> None:
    with pe.connect() as m:
        _stage(m, (10, "a"))
        m.commit(confirmed=True, timeout="60")
        _stage(m, (20, "b"))
        m.commit(confirmed=True, timeout="1")
        assert vlans_of(pe.datastore("running")) == {10: "a", 20: "b"}
        pe.wait_for(lambda: pe.device.pending_confirm is None)
    assert vlans_of(pe.datastore("running")) == {}


def test_non_persist_confirmed_commit_rolls_back_when_session_closes(pe: Sim) -> None:
    with pe.connect() as m:
        _stage(m, (10, "a"))
        m.commit(confirmed=True, timeout="600")
    pe.wait_for(lambda: pe.device.pending_confirm is None)
    assert vlans_of(pe.datastore("running")) == {}


def test_persisted_commit_survives_session_and_is_confirmed_by_persist_id(pe: Sim) -> None:
    first = pe.connect()
    _stage(first, (10, "a"))
    first.commit(confirmed=True, timeout="600", persist="job-42")
    pe.call(lambda: pe.device.sessions[int(first.session_id)].abort())  # the client vanishes
    pe.wait_for(lambda: int(first.session_id) not in pe.device.sessions)
    assert vlans_of(pe.datastore("running")) == {10: "a"}
    with pe.connect() as second:
        with pytest.raises(RPCError) as err:
            second.commit(persist_id="wrong")
        assert err.value.tag == "invalid-value"
        second.commit(persist_id="job-42")
    assert pe.call(lambda: pe.device.pending_confirm is None)
    assert vlans_of(pe.datastore("running")) == {10: "a"}


def test_cancel_commit_by_persist_id_from_another_session(pe: Sim) -> None:
    with pe.connect() as first:
        _stage(first, (10, "a"))
        first.commit(confirmed=True, timeout="600", persist="p1")
    with pe.connect() as second:
        second.cancel_commit(persist_id="p1")
    assert vlans_of(pe.datastore("running")) == {}


def test_cancel_commit_from_same_session_and_without_pending(pe: Sim) -> None:
    with pe.connect() as m:
        _stage(m, (10, "a"))
        m.commit(confirmed=True, timeout="600")
        m.cancel_commit()
        assert vlans_of(pe.datastore("running")) == {}
        with pytest.raises(RPCError) as err:
            m.cancel_commit()
    assert err.value.tag == "operation-failed"


def test_other_session_cannot_confirm_non_persisted_commit(pe: Sim) -> None:
    with pe.connect() as a, pe.connect() as b:
        _stage(a, (10, "a"))
        a.commit(confirmed=True, timeout="600")
        with pytest.raises(RPCError) as err:
            b.commit()
        assert err.value.tag == "operation-failed"
        a.commit()
    assert vlans_of(pe.datastore("running")) == {10: "a"}


def test_commit_latency_delays_commit_without_blocking_other_sessions(pe: Sim) -> None:
    import threading
    import time

    pe.call(lambda: setattr(pe.device, "commit_latency_ms", 300))
    with pe.connect() as a, pe.connect() as b:
        _stage(a, (10, "a"))
        started = time.monotonic()
        thread = threading.Thread(target=a.commit)
        thread.start()
        time.sleep(0.05)
        b.get_config("running")  # answered while the commit is still "in progress"
        reader_done = time.monotonic() - started
        thread.join()
        commit_done = time.monotonic() - started
    assert reader_done < 0.25 <= commit_done
    assert vlans_of(pe.datastore("running")) == {10: "a"}
