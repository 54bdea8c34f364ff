"""The NETCONF half of the driver contract (RFC 6241), run unchanged against every target.

Cases a target cannot do by design are selected by capability: the test then asserts that the driver
reports the capability as missing (or takes the documented writable-running path) instead of skipping.
"""

from __future__ import annotations

import dataclasses
import re

import pytest

from oss.activation.drivers.base import (
    BASE_10,
    CANDIDATE,
    CONFIRMED_COMMIT_11,
    VALIDATE,
    WRITABLE_RUNNING,
    Datastore,
    Driver,
)
from oss.activation.drivers.errors import (
    CapabilityMissing,
    HostKeyMismatch,
    LockDenied,
    OutcomeUnknown,
    RpcFailed,
)
from tests.contract.drivers.conftest import (
    IF_NS,
    NetconfTarget,
    apply,
    interface_filter,
    interface_xml,
    running_has,
    wait_for,
)

OTHER_HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"


def edit_target(driver: Driver) -> Datastore:
    return "candidate" if driver.has(CANDIDATE) else "running"


def test_hello_advertises_base_and_one_edit_path(nc: Driver) -> None:
    assert BASE_10 in nc.capabilities
    assert nc.has(CANDIDATE) or nc.has(WRITABLE_RUNNING)
    assert getattr(nc, "session_id", None)


def test_open_refuses_device_when_host_key_is_not_the_known_one(nc_target: NetconfTarget) -> None:
    if nc_target.name.startswith("fake"):
        pytest.skip("not applicable: no SSH in memory, the fake has no host key to check")  # by design, not by accident
    endpoint = dataclasses.replace(nc_target.endpoint, ssh_host_key=OTHER_HOST_KEY)
    with pytest.raises(HostKeyMismatch):
        nc_target.connect(endpoint)
    with pytest.raises(HostKeyMismatch):
        nc_target.connect(dataclasses.replace(nc_target.endpoint, ssh_host_key=None))


def test_get_config_subtree_filter_returns_only_the_selected_entry(nc: Driver, ifname: str) -> None:
    apply(nc, interface_xml(ifname, "first") + "")
    apply(nc, interface_xml(ifname + "b", "second"))
    data = nc.get_config("running", interface_filter(ifname))
    assert f"<name>{ifname}</name>" in data
    assert f"{ifname}b<" not in data
    assert "first" in data


def test_lock_is_exclusive_and_names_the_holder(nc_target: NetconfTarget, nc: Driver) -> None:
    target = edit_target(nc)
    other = nc_target.connect()
    try:
        nc.lock(target)
        with pytest.raises(LockDenied) as denied:
            other.lock(target, wait_s=0.3)
        assert "lock-denied" in denied.value.error_tags
        assert denied.value.holder == nc.session_id  # type: ignore[attr-defined]
        nc.unlock(target)
        other.lock(target, wait_s=2)  # free now
        other.unlock(target)
    finally:
        other.close()


def test_lock_wait_retries_until_the_holder_unlocks(nc_target: NetconfTarget, nc: Driver) -> None:
    import threading

    target = edit_target(nc)
    nc.lock(target)
    timer = threading.Timer(0.3, lambda: nc.unlock(target))
    other = nc_target.connect()
    try:
        timer.start()
        other.lock(target, wait_s=5)  # bounded wait: succeeds once the holder lets go
        other.unlock(target)
    finally:
        timer.join()
        other.close()


def test_edit_merge_adds_leaves_and_keeps_others(nc: Driver, ifname: str) -> None:
    apply(nc, interface_xml(ifname, "before", enabled=True))
    apply(nc, interface_xml(ifname, "after"))
    readback = nc.verify(interface_xml(ifname, "after", enabled=True))
    assert readback.matches, readback


def test_edit_replace_replaces_the_whole_entry(nc: Driver, ifname: str) -> None:
    apply(nc, interface_xml(ifname, "before"))
    apply(nc, interface_xml(ifname, operation="replace"))
    data = nc.get_config("running", interface_filter(ifname))
    assert f"<name>{ifname}</name>" in data.replace(" ", "")
    assert "before" not in data


def test_edit_create_of_an_existing_entry_is_data_exists(nc: Driver, ifname: str) -> None:
    apply(nc, interface_xml(ifname, "x"))
    with pytest.raises(RpcFailed) as failed:
        nc.load_candidate(interface_xml(ifname, "y", operation="create").replace("<name>", "<name>", 1))
    error = failed.value.rpc_errors[0]
    assert (error.error_type, error.error_tag, error.error_severity) == ("application", "data-exists", "error")
    assert error.error_path and "interface" in error.error_path


def test_edit_delete_of_a_missing_entry_is_data_missing(nc: Driver, ifname: str) -> None:
    with pytest.raises(RpcFailed) as failed:
        nc.load_candidate(interface_xml(ifname, operation="delete"))
    error = failed.value.rpc_errors[0]
    assert (error.error_type, error.error_tag) == ("application", "data-missing")


def test_edit_remove_of_a_missing_entry_succeeds_and_delete_removes(
    nc_target: NetconfTarget, nc: Driver, ifname: str
) -> None:
    parent_exists = "interfaces" in nc.get_config("running", f'<interfaces xmlns="{IF_NS}"/>')
    if nc_target.remove_needs_existing_parent and not parent_exists:
        with pytest.raises(RpcFailed) as failed:  # documented quirk (README): RFC says no error
            apply(nc, interface_xml(ifname, operation="remove"))
        assert failed.value.error_tags == ("data-missing",)
        nc.discard()
    else:
        apply(nc, interface_xml(ifname, operation="remove"))  # no error: remove is idempotent (§7.2)
    apply(nc, interface_xml(ifname, "x"))
    apply(nc, interface_xml(ifname, operation="delete"))
    assert not running_has(nc, ifname)


def test_edit_leaving_out_a_mandatory_node_is_data_missing_with_its_path(nc: Driver, ifname: str) -> None:
    # RFC 6241 §7.2/§8.6.4: with :validate an edit-config without test-option is test-then-set, a full
    # validation (mandatory nodes included, RFC 7950 §8.3.3) before anything is set; an edit of
    # writable-running is validated as a commit. Either way nothing of the edit stays.
    with pytest.raises(RpcFailed) as failed:
        nc.load_candidate(interface_xml(ifname, "no type", if_type=None))
    error = failed.value.rpc_errors[0]
    assert (error.error_type, error.error_tag) == ("application", "data-missing")
    assert error.error_path and ifname in error.error_path and re.search(r"[:/]type$", error.error_path), error
    assert not running_has(nc, ifname)
    if nc.has(CANDIDATE):
        assert ifname not in nc.get_config("candidate", interface_filter(ifname))


def test_rpc_error_for_a_bad_value_is_kept_as_data(nc: Driver, ifname: str) -> None:
    with pytest.raises(RpcFailed) as failed:
        nc.load_candidate(interface_xml(ifname, if_type="no-such-type"))
        if nc.has(VALIDATE):
            nc.validate()
        if nc.has(CANDIDATE):
            nc.commit()
    error = failed.value.rpc_errors[0]
    assert error.error_type in ("application", "protocol")
    assert error.error_tag in ("invalid-value", "bad-element", "operation-failed")
    assert failed.value.details["rpc_errors"][0]["error_tag"] == error.error_tag
    if nc.has(CANDIDATE):
        nc.discard()


def test_validate_is_offered_with_candidate_or_reported_missing(nc: Driver, ifname: str) -> None:
    nc.load_candidate(interface_xml(ifname, "valid"))
    if nc.has(VALIDATE):
        nc.validate()
        nc.commit()  # a validated candidate still commits in full (yuma123 quirk handled by the driver)
        assert running_has(nc, ifname)
    else:
        with pytest.raises(CapabilityMissing):
            nc.validate()


def test_compare_shows_the_exact_pending_diff(nc: Driver, ifname: str) -> None:
    assert ifname not in nc.compare()
    nc.load_candidate(interface_xml(ifname, "diffme"))
    diff = nc.compare()
    added = [line for line in diff.splitlines() if line.startswith("+") and not line.startswith("+++")]
    assert any(ifname in line for line in added)
    assert any("diffme" in line for line in added)
    nc.rollback()
    assert ifname not in nc.compare()


def test_commit_makes_the_change_running(nc: Driver, ifname: str) -> None:
    nc.load_candidate(interface_xml(ifname, "committed"))
    if nc.has(CANDIDATE):
        assert not running_has(nc, ifname)  # not before commit
    handle = nc.commit()
    assert running_has(nc, ifname)
    assert handle.mode == ("candidate" if nc.has(CANDIDATE) else "writable-running")


def test_confirmed_commit_then_confirm_keeps_the_change(nc: Driver, ifname: str) -> None:
    nc.load_candidate(interface_xml(ifname, "confirmed"))
    handle = nc.commit(confirm_timeout_s=30)
    if not nc.has(CANDIDATE):  # writable-running: no device timer, the snapshot is the way back
        assert not handle.confirmed and handle.rollback_config is not None
    else:
        assert handle.confirmed and handle.persist_id
    assert running_has(nc, ifname)
    nc.confirm()
    assert running_has(nc, ifname)


def test_persisted_confirmed_commit_survives_the_session_and_is_confirmed_elsewhere(
    nc_target: NetconfTarget, nc: Driver, ifname: str
) -> None:
    if not nc.has(CONFIRMED_COMMIT_11):  # writable-running: the stored handle carries the way back instead
        nc.load_candidate(interface_xml(ifname, "persisted"))
        handle = nc.commit(confirm_timeout_s=60, persist_id=f"p-{ifname}")
        assert not handle.confirmed and handle.persist_id is None and handle.rollback_config is not None
        nc.drop()
        worker = nc_target.connect()
        try:
            worker.rollback(handle)  # another process restores running from the stored snapshot
            assert not running_has(worker, ifname)
        finally:
            worker.close()
        return
    nc.load_candidate(interface_xml(ifname, "persisted"))
    handle = nc.commit(confirm_timeout_s=60, persist_id=f"p-{ifname}")
    nc.drop()  # a crashed worker: no close-session
    worker = nc_target.connect()
    try:
        assert running_has(worker, ifname)  # persist: not reverted by the session loss
        worker.confirm(handle.persist_id)
        assert running_has(worker, ifname)
    finally:
        worker.close()


def test_confirmed_commit_reverts_when_not_confirmed_in_time(nc_target: NetconfTarget, nc: Driver, ifname: str) -> None:
    if not nc.has(CONFIRMED_COMMIT_11):
        assert not nc.has(CANDIDATE)
        return  # writable-running devices have no device-side timer (see the previous cases)
    nc.load_candidate(interface_xml(ifname, "expiring"))
    nc.commit(confirm_timeout_s=1, persist_id=f"t-{ifname}")
    nc.drop()
    observer = nc_target.connect()
    try:
        assert running_has(observer, ifname)
        reverted = wait_for(lambda: not running_has(observer, ifname), 15, nc_target.confirm_poll_interval_s)
        assert reverted, "running still holds the unconfirmed change"
    finally:
        observer.close()


def test_cancel_commit_from_another_session_reverts_at_once(nc_target: NetconfTarget, nc: Driver, ifname: str) -> None:
    nc.load_candidate(interface_xml(ifname, "cancelled"))
    handle = nc.commit(confirm_timeout_s=60)
    assert running_has(nc, ifname)
    if handle.mode == "writable-running":
        nc.rollback(handle)
    else:
        nc.drop()
        other = nc_target.connect()
        try:
            other.rollback(handle)  # cancel-commit with the stored persist-id
            assert not running_has(other, ifname)
        finally:
            other.close()
        return
    assert not running_has(nc, ifname)


def test_discard_drops_uncommitted_changes(nc: Driver, ifname: str) -> None:
    nc.load_candidate(interface_xml(ifname, "discarded"))
    nc.discard()
    if nc.has(CANDIDATE):
        assert ifname not in nc.get_config("candidate", interface_filter(ifname))
        nc.commit()
    assert not running_has(nc, ifname)


def test_verify_reports_what_running_lacks(nc: Driver, ifname: str) -> None:
    apply(nc, interface_xml(ifname, "present"))
    good = nc.verify(interface_xml(ifname, "present"))
    assert good.matches and not good.missing
    wrong = nc.verify(interface_xml(ifname, "something else"))
    assert not wrong.matches and any("description" in path for path in wrong.missing)
    gone = nc.verify(interface_xml(ifname, operation="delete"))
    assert not gone.matches and gone.unexpected


# ---- device faults (targets with fault injection: the simulators) -------------------------------
# The commit faults hit <commit> on a candidate device and <edit-config> of running on a
# writable-running one (its edit is its commit), so every case runs on both paths.


def _needs_fault_injection(target: NetconfTarget) -> None:
    if target.inject_fault is None:
        pytest.skip(f"not applicable: {target.name} has no fault injection (only the simulators have)")


def _two_interfaces(first: str, second: str) -> str:
    one, two = interface_xml(first, "half-1"), interface_xml(second, "half-2")
    entries = one[one.index("<interface>") : one.rindex("</interfaces>")]
    entries += two[two.index("<interface>") : two.rindex("</interfaces>")]
    return f'<interfaces xmlns="{IF_NS}">{entries}</interfaces>'


def test_partial_apply_is_a_failure_and_the_read_back_shows_the_partial_state(
    nc_target: NetconfTarget, nc: Driver, ifname: str
) -> None:
    _needs_fault_injection(nc_target)
    both = _two_interfaces(ifname, ifname + "b")
    assert nc_target.inject_fault is not None
    with nc_target.inject_fault("partial-apply", count=1), pytest.raises(RpcFailed) as failed:
        apply(nc, both)
    assert failed.value.error_tags == ("operation-failed",)
    readback = nc.verify(both)
    assert not readback.matches  # the driver does not trust the error to mean "nothing changed"
    assert running_has(nc, ifname) and not running_has(nc, ifname + "b")
    assert any(ifname + "b" in path for path in readback.missing), readback.missing
    nc.rollback()
    if nc.has(CANDIDATE):
        # No pending confirmed commit to cancel: discard resets candidate only; running keeps the half.
        assert running_has(nc, ifname)
    else:
        assert not running_has(nc, ifname)  # the writable-running snapshot restores running


def test_session_dropped_mid_commit_is_outcome_unknown_and_the_read_back_tells(
    nc_target: NetconfTarget, nc: Driver, ifname: str
) -> None:
    _needs_fault_injection(nc_target)
    assert nc_target.inject_fault is not None
    with nc_target.inject_fault("drop-session-mid-commit", count=1), pytest.raises(OutcomeUnknown) as unknown:
        apply(nc, interface_xml(ifname, "dropped"))
    assert unknown.value.cause == "session-closed"
    assert unknown.value.operation == ("commit" if nc.has(CANDIDATE) else "edit-config")
    assert unknown.value.details["cause"] == "session-closed"
    observer = nc_target.connect()
    try:
        assert observer.verify(interface_xml(ifname, "dropped")).matches  # the device did apply it
    finally:
        observer.close()


def test_commit_without_reply_in_time_is_outcome_unknown(nc_target: NetconfTarget, ifname: str) -> None:
    _needs_fault_injection(nc_target)
    assert nc_target.inject_fault is not None
    late = interface_xml(ifname, "late")
    driver = nc_target.connect(timeout_s=0.5)
    try:
        # Staged before the fault (candidate edit, or the writable-running snapshot and a first edit).
        driver.load_candidate(late if driver.has(CANDIDATE) else interface_xml(ifname, "early"))
        with nc_target.inject_fault("slow-reply", delay_ms=1500, count=1), pytest.raises(OutcomeUnknown) as unknown:
            if driver.has(CANDIDATE):
                driver.commit()
            else:
                driver.load_candidate(late)
        assert unknown.value.cause == "timeout"
    finally:
        driver.drop()
    observer = nc_target.connect()
    try:
        assert wait_for(lambda: observer.verify(late).matches, 5, 0.05)  # applied; only the reply was late
        apply(observer, interface_xml(ifname, operation="delete"))
    finally:
        observer.close()


def test_commit_rpc_error_is_a_failure_and_nothing_is_applied(
    nc_target: NetconfTarget, nc: Driver, ifname: str
) -> None:
    _needs_fault_injection(nc_target)
    assert nc_target.inject_fault is not None
    with nc_target.inject_fault("commit-rpc-error", count=1), pytest.raises(RpcFailed) as failed:
        apply(nc, interface_xml(ifname, "refused"))
    assert failed.value.rpc_errors[0].error_tag == "operation-failed"
    assert not running_has(nc, ifname)
