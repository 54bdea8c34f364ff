"""commit, confirmed commit and cancel-commit (RFC 6241 §8.3.4.1, §8.4 with :confirmed-commit:1.1).

A confirmed commit installs the candidate and arms a timer; unless a confirming commit arrives in
time, running reverts to what it was before the first confirmed commit of the sequence. A commit
issued with ``<persist>`` outlives its session and is confirmed or cancelled by ``<persist-id>`` from
any session; without it the commit is rolled back when its session ends (§8.4.1).

Faults: ``commit-rpc-error`` (nothing applied), ``partial-apply`` (part applied, then an error),
``drop-session-mid-commit`` (the change IS applied, then the session is dropped without a reply).
:func:`apply_to_running` is also the commit of a ``:writable-running`` device's ``<edit-config>`` of
running (RFC 6241 §8.2), so the same faults and the commit latency hold on both paths.
"""

from __future__ import annotations

import asyncio
import copy
import logging
from typing import TYPE_CHECKING, Any

from lxml import etree

from common.yang.validate import ValidationFailed, validate_config
from simulators.device import PendingConfirm
from simulators.faults import FaultKind
from simulators.netconf.common import RpcContext, check_not_locked, child, require, text_param
from simulators.netconf.errors import from_validation, invalid_value, operation_failed

if TYPE_CHECKING:
    from simulators.device import Device

logger = logging.getLogger(__name__)

DEFAULT_CONFIRM_TIMEOUT_S = 600  # RFC 6241 §8.4.5.1


def commit_guard(device: Device) -> asyncio.Lock:
    """Commits of one device run one at a time even while they sleep for the commit latency."""
    if device.commit_guard is None:
        device.commit_guard = asyncio.Lock()
    return device.commit_guard


def _confirm_timeout(op: etree._Element) -> int:
    text = text_param(op, "confirm-timeout")
    if text is None:
        return DEFAULT_CONFIRM_TIMEOUT_S
    if not text.isdigit() or int(text) < 1 or int(text) > 4294967295:
        raise invalid_value(f"confirm-timeout {text!r} is not a positive uint32")
    return int(text)


def _authorize(ctx: RpcContext, pending: PendingConfirm, persist_id: str | None, what: str) -> None:
    """§8.4.1: a persisted commit needs its persist-id; otherwise only the issuing session may act."""
    if pending.persist is not None:
        if persist_id != pending.persist:
            raise invalid_value(f"{what}: persist-id does not match the pending confirmed commit")
    elif persist_id is not None:
        raise invalid_value(f"{what}: the pending confirmed commit was not issued with persist")
    elif pending.session_id != ctx.session_id:
        raise operation_failed(f"{what}: a confirmed commit of session {pending.session_id} is pending")


def rollback_pending(device: Device, reason: str) -> None:
    """Revert running to the state before the confirmed commit; a clean candidate follows."""
    pending = device.pending_confirm
    if pending is None:
        return
    pending.cancel_timer()
    device.pending_confirm = None
    logger.info("%s: confirmed commit rolled back (%s)", device.name, reason)
    device.replace_running(pending.rollback)
    if not device.candidate_dirty:
        device.candidate = copy.deepcopy(device.running)


def _arm_timer(device: Device, pending: PendingConfirm, timeout_s: int) -> None:
    pending.cancel_timer()
    loop = asyncio.get_running_loop()

    def expire() -> None:
        if device.pending_confirm is pending:
            pending.timer = None
            rollback_pending(device, "confirm-timeout expired")

    pending.timer = loop.call_later(timeout_s * device.timer_scale, expire)


def partially_applied(old: Any, new: Any) -> Any:
    """A broken device's result: roughly the first half of the change, never all of it if divisible."""
    if isinstance(old, dict) and isinstance(new, dict):
        changed = sorted(k for k in old.keys() | new.keys() if old.get(k) != new.get(k))
        if len(changed) == 1 and isinstance(new.get(changed[0]), dict | list):
            # One container or list changed (possibly new): apply part of what is inside it.
            key = changed[0]
            part = partially_applied(old.get(key, type(new[key])()), new[key])
            return {**old, key: part} if part or key in old else dict(old)
        out = dict(old)
        for key in changed[: len(changed) // 2]:
            if key in new:
                out[key] = new[key]
            else:
                out.pop(key, None)
        return out
    if isinstance(old, list) and isinstance(new, list):
        added = [e for e in new if e not in old]
        if len(added) >= 2:
            return old + added[:1] if not isinstance(added[0], dict) else _upsert_entry(old, added[0])
    return old


def _upsert_entry(entries: list[Any], entry: dict[str, Any]) -> list[Any]:
    key, value = next(iter(entry.items()))
    out = [e for e in entries if not (isinstance(e, dict) and e.get(key) == value)]
    return [*out, entry]


async def commit(ctx: RpcContext, op: etree._Element) -> None:
    device = ctx.device
    require(device.profile.candidate, ":candidate (commit)")
    confirmed = child(op, "confirmed") is not None
    if confirmed:
        require(device.profile.confirmed_commit, ":confirmed-commit:1.1")
    timeout_s = _confirm_timeout(op)
    persist, persist_id = text_param(op, "persist"), text_param(op, "persist-id")
    check_not_locked(ctx, "running", "candidate")
    async with commit_guard(device):
        pending = device.pending_confirm
        if pending is not None:
            _authorize(ctx, pending, persist_id, "commit")
        elif persist_id is not None:
            raise invalid_value("no confirmed commit is pending for this persist-id")
        new_running = copy.deepcopy(device.candidate)
        try:
            validate_config(new_running)
        except ValidationFailed as exc:
            raise from_validation(exc) from None
        await apply_to_running(ctx, new_running)
        device.candidate_dirty = False
        if confirmed:
            _start_or_extend(ctx, persist, timeout_s)
        elif device.pending_confirm is not None:
            device.pending_confirm.cancel_timer()
            device.pending_confirm = None
            logger.info("%s: confirmed commit confirmed by session %d", device.name, ctx.session_id)


async def apply_to_running(ctx: RpcContext, new_running: dict[str, Any]) -> None:
    """Install a validated ``new_running`` as a commit does: commit latency and commit faults apply."""
    device = ctx.device
    faults = device.faults
    if faults.active(FaultKind.COMMIT_RPC_ERROR) is not None:
        raise operation_failed("commit failed (simulated fault commit-rpc-error); nothing applied")
    drop = faults.active(FaultKind.DROP_SESSION_MID_COMMIT) is not None
    partial = faults.active(FaultKind.PARTIAL_APPLY) is not None
    if device.commit_latency_ms:
        await asyncio.sleep(device.commit_latency_ms / 1000)
    if partial:
        device.replace_running(partially_applied(device.running, new_running))
        raise operation_failed("commit failed part-way (simulated fault partial-apply); running is inconsistent")
    old_running = device.running
    device.replace_running(new_running)
    ctx.extra["rollback"] = old_running
    if drop:
        ctx.drop_without_reply = True


def _start_or_extend(ctx: RpcContext, persist: str | None, timeout_s: int) -> None:
    device = ctx.device
    pending = device.pending_confirm
    if pending is None:
        pending = PendingConfirm(rollback=ctx.extra["rollback"], session_id=ctx.session_id, persist=persist)
        device.pending_confirm = pending
    elif persist is not None:
        pending.persist = persist
    if pending.persist is None:
        pending.session_id = ctx.session_id
    _arm_timer(device, pending, timeout_s)


async def cancel_commit(ctx: RpcContext, op: etree._Element) -> None:
    """RFC 6241 §8.4.4.1."""
    device = ctx.device
    require(device.profile.confirmed_commit, ":confirmed-commit:1.1")
    pending = device.pending_confirm
    if pending is None:
        raise operation_failed("no confirmed commit is pending")
    _authorize(ctx, pending, text_param(op, "persist-id"), "cancel-commit")
    rollback_pending(device, f"cancel-commit from session {ctx.session_id}")


def session_ended(device: Device, session_id: int) -> None:
    """§8.4.1 and §8.3.5.2: a session's end releases its locks, discards the candidate it held locked
    and rolls back its non-persisted confirmed commit."""
    for datastore, holder in list(device.locks.items()):
        if holder == session_id:
            del device.locks[datastore]
            if datastore == "candidate":
                device.candidate = copy.deepcopy(device.running)
                device.candidate_dirty = False
    pending = device.pending_confirm
    if pending is not None and pending.session_id == session_id:
        if pending.persist is None:
            rollback_pending(device, f"session {session_id} ended")
        else:
            pending.session_id = None
