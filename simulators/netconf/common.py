"""Helpers shared by the NETCONF operation handlers: parameters, datastores, locks."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lxml import etree

from simulators.faults import FaultKind
from simulators.netconf.errors import NC, RpcError, in_use, missing_element, not_supported

if TYPE_CHECKING:
    from simulators.device import Device

#: session-id of the phantom session that holds a lock under the lock-held fault
PHANTOM_SESSION_ID = 4242


@dataclass
class RpcContext:
    """What an operation handler may touch: the device and the calling session's identity."""

    device: Device
    session_id: int
    #: set by close-session; the session ends after the reply is sent
    close_after_reply: bool = False
    #: set by commit under drop-session-mid-commit: end the session instead of replying
    drop_without_reply: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def child(op: etree._Element, name: str) -> etree._Element | None:
    """The base:1.0 child ``name`` of an operation (also accepted without namespace, as servers do)."""
    found = op.find(NC + name)
    return found if found is not None else op.find(name)


def text_param(op: etree._Element, name: str) -> str | None:
    elem = child(op, name)
    return None if elem is None else (elem.text or "").strip()


def datastore_param(
    ctx: RpcContext, op: etree._Element, name: str, *, allow_config: bool = False
) -> str | etree._Element:
    """The datastore named in ``<source>``/``<target>``, or the inline ``<config>`` when allowed."""
    holder = child(op, name)
    if holder is None:
        raise missing_element(name)
    inner = [c for c in holder if isinstance(c.tag, str)]
    if len(inner) != 1:
        raise missing_element(name, f"{name} must name exactly one datastore")
    local = etree.QName(inner[0]).localname
    if local == "config" and allow_config:
        return inner[0]
    if local == "url":
        raise not_supported(":url is not supported")
    if local not in ("running", "candidate", "startup") or local not in ctx.device.datastore_names():
        raise RpcError(
            "invalid-value",
            f"datastore {local} is not supported by this device",
            type="protocol",
            info=[("bad-element", local)],
        )
    return local


def datastore_name(ctx: RpcContext, op: etree._Element, name: str) -> str:
    value = datastore_param(ctx, op, name)
    assert isinstance(value, str)
    return value


def lock_holder(ctx: RpcContext, datastore: str) -> int | None:
    """The session (other than the caller) that holds ``datastore`` locked, phantom included."""
    device = ctx.device
    fault = device.faults.peek(FaultKind.LOCK_HELD)
    if fault is not None and fault.params.get("datastore", default_lock_datastore(device)) == datastore:
        return int(fault.params.get("session_id", PHANTOM_SESSION_ID))
    holder = device.locks.get(datastore)
    return holder if holder is not None and holder != ctx.session_id else None


def default_lock_datastore(device: Device) -> str:
    return "candidate" if device.profile.candidate else "running"


def check_not_locked(ctx: RpcContext, *datastores: str) -> None:
    """RFC 6241 §7.5: a datastore locked by another session refuses changes with ``in-use``."""
    for datastore in datastores:
        holder = lock_holder(ctx, datastore)
        if holder is not None:
            raise in_use(holder, datastore)


def require(flag: bool, what: str) -> None:
    if not flag:
        raise not_supported(f"this device does not support {what}")
