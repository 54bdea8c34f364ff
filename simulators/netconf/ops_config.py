"""Configuration operations of RFC 6241 §7: get, get-config, edit-config, copy-config, delete-config,
lock, unlock, plus discard-changes (§8.3.4.2) and validate (§8.6.4.1)."""

from __future__ import annotations

import copy
import logging
from typing import Any

from lxml import etree

from common.yang.edit import apply_edit
from common.yang.validate import ValidationFailed, validate_config
from common.yang.xmlcodec import DecodeError, UnknownElement, from_xml, to_xml
from simulators.faults import FaultKind
from simulators.netconf.commit import apply_to_running, commit_guard
from simulators.netconf.common import (
    RpcContext,
    check_not_locked,
    child,
    datastore_name,
    datastore_param,
    default_lock_datastore,
    lock_holder,
    require,
    text_param,
)
from simulators.netconf.errors import (
    NC,
    RpcError,
    RpcErrors,
    bad_element,
    from_validation,
    invalid_value,
    lock_denied,
    missing_element,
    operation_failed,
)
from simulators.netconf.state import with_state
from simulators.netconf.subtree import apply_subtree_filter

logger = logging.getLogger(__name__)

DEFAULT_OPERATIONS = ("merge", "replace", "none")
TEST_OPTIONS = ("test-then-set", "set", "test-only")
ERROR_OPTIONS = ("stop-on-error", "continue-on-error", "rollback-on-error")


def _validated(data: dict[str, Any]) -> None:
    try:
        validate_config(data)
    except ValidationFailed as exc:
        raise from_validation(exc) from None


def _filtered_data(data: dict[str, Any], op: etree._Element) -> etree._Element:
    out = to_xml(data, etree.Element(NC + "data", nsmap={None: NC[1:-1]}))
    filter_elem = child(op, "filter")
    if filter_elem is None:
        return out
    if filter_elem.get("type", "subtree") != "subtree":
        raise RpcError(
            "operation-not-supported",
            "only subtree filtering is supported (no :xpath)",
            type="protocol",
            info=[("bad-attribute", "type"), ("bad-element", "filter")],
        )
    return apply_subtree_filter(out, filter_elem)


async def get(ctx: RpcContext, op: etree._Element) -> etree._Element:
    """RFC 6241 §7.7: running configuration plus state data."""
    return _filtered_data(with_state(ctx.device), op)


async def get_config(ctx: RpcContext, op: etree._Element) -> etree._Element:
    """RFC 6241 §7.1."""
    source = datastore_name(ctx, op, "source")
    return _filtered_data(getattr(ctx.device, source), op)


def _choice(op: etree._Element, name: str, allowed: tuple[str, ...], default: str) -> str:
    value = text_param(op, name)
    if value is None:
        return default
    if value not in allowed:
        raise bad_element(name, f"{name} must be one of {', '.join(allowed)}")
    return value


def _edit_options(ctx: RpcContext, op: etree._Element) -> tuple[str, str, str]:
    default_operation = _choice(op, "default-operation", DEFAULT_OPERATIONS, "merge")
    test_option = _test_option(ctx, op)
    error_option = _choice(op, "error-option", ERROR_OPTIONS, "stop-on-error")
    if error_option == "rollback-on-error":
        require(ctx.device.profile.rollback_on_error, ":rollback-on-error")
    return default_operation, test_option, error_option


def _test_option(ctx: RpcContext, op: etree._Element) -> str:
    """RFC 6241 §7.2 / §8.6.4: on a device with ``:validate`` an edit without ``<test-option>`` is
    ``test-then-set``; without ``:validate`` the element is refused and the edit is a plain ``set``."""
    if text_param(op, "test-option") is None:
        return "test-then-set" if ctx.device.profile.validate else "set"
    require(ctx.device.profile.validate, ":validate (test-option)")
    return _choice(op, "test-option", TEST_OPTIONS, "test-then-set")


async def edit_config(ctx: RpcContext, op: etree._Element) -> None:
    """RFC 6241 §7.2. ``test-then-set`` (the default with ``:validate``) and ``test-only`` validate the
    whole resulting datastore first, mandatory nodes included (RFC 7950 §8.3.3), as netconfd does; only an
    explicit ``set`` lets a candidate hold unfinished data, which validate/commit then refuse. Running is
    always fully validated, so it never holds data the YANG modules refuse."""
    device = ctx.device
    target = datastore_name(ctx, op, "target")
    if target == "running":
        require(device.profile.writable_running, ":writable-running")
    elif target == "startup":
        raise RpcError("operation-not-supported", "edit-config cannot target startup", type="protocol")
    default_operation, test_option, error_option = _edit_options(ctx, op)
    config = child(op, "config")
    if config is None:
        raise missing_element("config")
    check_not_locked(ctx, target)
    result = apply_edit(getattr(device, target), config, default_operation, error_option)
    if result.errors and error_option == "rollback-on-error":
        raise RpcErrors(result.errors)
    if target == "running" or test_option in ("test-then-set", "test-only"):
        _validated(result.data)
    if test_option != "test-only":
        if target == "running":
            # A writable-running device commits with this very edit (RFC 6241 §8.2): one commit
            # at a time, with the device's commit latency and commit faults.
            async with commit_guard(device):
                await apply_to_running(ctx, result.data)
        _store(ctx, target, result.data)
    if result.errors:
        raise RpcErrors(result.errors)


def _store(ctx: RpcContext, target: str, data: dict[str, Any]) -> None:
    device = ctx.device
    if target == "running":
        if data != device.running:
            device.replace_running(data)
        if not device.candidate_dirty:
            device.candidate = copy.deepcopy(device.running)
    elif target == "candidate":
        device.candidate = data
        device.candidate_dirty = True
    else:
        device.startup = data


def _source_data(ctx: RpcContext, op: etree._Element) -> dict[str, Any]:
    source = datastore_param(ctx, op, "source", allow_config=True)
    if isinstance(source, str):
        return copy.deepcopy(getattr(ctx.device, source))
    try:
        return from_xml(source)
    except UnknownElement as exc:
        local = etree.QName(exc.elem).localname
        raise RpcError("unknown-element", f"unknown element {local}", info=[("bad-element", local)]) from None
    except DecodeError as exc:
        raise invalid_value(exc.message) from None


async def copy_config(ctx: RpcContext, op: etree._Element) -> None:
    """RFC 6241 §7.3: replace a whole datastore with another one or with inline ``<config>``."""
    target = datastore_name(ctx, op, "target")
    if target == "running":
        require(ctx.device.profile.writable_running, ":writable-running (copy-config to running)")
    data = _source_data(ctx, op)
    check_not_locked(ctx, target)
    if target != "candidate":
        _validated(data)
    _store(ctx, target, data)


async def delete_config(ctx: RpcContext, op: etree._Element) -> None:
    """RFC 6241 §7.4: only startup can be deleted (the device then boots with an empty config)."""
    target = datastore_name(ctx, op, "target")
    if target != "startup":
        raise RpcError("operation-not-supported", f"the {target} datastore cannot be deleted", type="protocol")
    check_not_locked(ctx, target)
    ctx.device.startup = {}


async def validate(ctx: RpcContext, op: etree._Element) -> None:
    """RFC 6241 §8.6.4.1."""
    require(ctx.device.profile.validate, ":validate")
    _validated(_source_data(ctx, op))


async def discard_changes(ctx: RpcContext, op: etree._Element) -> None:
    """RFC 6241 §8.3.4.2: candidate <- running."""
    device = ctx.device
    require(device.profile.candidate, ":candidate")
    check_not_locked(ctx, "candidate")
    device.candidate = copy.deepcopy(device.running)
    device.candidate_dirty = False


async def lock(ctx: RpcContext, op: etree._Element) -> None:
    """RFC 6241 §7.5; a dirty candidate cannot be locked (§8.3.5.1), reported as held by session 0."""
    device = ctx.device
    target = datastore_name(ctx, op, "target")
    fault = device.faults.peek(FaultKind.LOCK_HELD)
    fault_here = fault is not None and fault.params.get("datastore", default_lock_datastore(device)) == target
    if fault_here and device.faults.active(FaultKind.LOCK_HELD) is not None:
        raise lock_denied(lock_holder(ctx, target) or 0)
    holder = device.locks.get(target)
    if holder is not None:
        raise lock_denied(holder, f"the {target} datastore is already locked by session {holder}")
    if target == "candidate" and device.candidate_dirty:
        raise lock_denied(0, "the candidate has uncommitted changes (RFC 6241 §8.3.5.1)")
    device.locks[target] = ctx.session_id


async def unlock(ctx: RpcContext, op: etree._Element) -> None:
    """RFC 6241 §7.6: only the holder can unlock."""
    target = datastore_name(ctx, op, "target")
    if ctx.device.locks.get(target) != ctx.session_id:
        raise operation_failed(f"the {target} datastore is not locked by this session", "protocol")
    del ctx.device.locks[target]
