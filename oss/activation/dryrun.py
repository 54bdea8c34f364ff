"""Dry-run: the exact change an activation would make on a device, computed offline, changing nothing.

NETCONF (RFC 6241): running is read with ``<get-config>`` (the read-back the drivers use to verify,
without locking anything), the rendered ``<edit-config>`` payload is applied to it *offline* by the
RFC 6241 §7.2 engine the simulators run their datastores on (:mod:`common.yang.edit`: merge, replace,
create, delete, remove, default-operation merge/replace/none), the result is validated against the YANG
modules (:mod:`common.yang.validate`, what a device with ``test-then-set`` does), and the answer is the
payload plus a unified diff of running before/after. A writable-running device has no candidate to
load into, and loading into a candidate would take its lock: offline, neither matters.

SNMP (RFC 3416): each SET of the rendered PDU with its value before (one GET of every OID, in one
PDU) and after (the value the SET writes). No SET is sent.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from lxml import etree

from common.yang.edit import apply_edit, prune
from common.yang.errors import RpcError as ServerRpcError
from common.yang.model import data_model
from common.yang.validate import ValidationFailed, validate_config
from common.yang.xmlcodec import DecodeError, UnknownElement, from_xml, to_xml, top_level_child
from oss.activation.drivers import xmlconfig
from oss.activation.drivers.base import Driver, RpcError, Varbind
from oss.activation.rendering.render import NetconfPayload, Payload, SnmpPayload, SnmpSet

NC_NS = "urn:ietf:params:xml:ns:netconf:base:1.0"
_PARSER = etree.XMLParser(remove_blank_text=True, resolve_entities=False, no_network=True)
EditOp = str  # merge | replace | none (RFC 6241 §7.2 default-operation)


@dataclass(frozen=True)
class OfflineEdit:
    """Running before and after an ``<edit-config>``, as RFC 7951 JSON and as canonical XML text.

    ``errors`` are the rpc-errors the device would answer (the edit itself, or YANG validation of the
    result); when there are any, the device would apply nothing (rollback-on-error / test-then-set),
    so ``after`` equals ``before``."""

    before: dict[str, Any]
    after: dict[str, Any]
    before_xml: str
    after_xml: str
    errors: tuple[RpcError, ...]

    @property
    def diff(self) -> str:
        return xmlconfig.unified_diff(self.before_xml, self.after_xml, "running", "running+edit")

    @property
    def changed(self) -> bool:
        return self.before != self.after


@dataclass(frozen=True)
class NetconfDryRun:
    device: str
    payload: str  # the <config> of the <edit-config> that an apply sends
    diff: str  # unified diff of running before -> after ("" when nothing would change)
    before: str
    after: str
    errors: tuple[RpcError, ...]
    protocol: str = "netconf"

    @property
    def changed(self) -> bool:
        return bool(self.diff)

    def as_dict(self) -> dict[str, Any]:
        return {"device": self.device, "protocol": self.protocol, "payload": self.payload, "diff": self.diff,
                "changed": self.changed, "errors": [e.as_dict() for e in self.errors]}  # fmt: skip


@dataclass(frozen=True)
class SetPreview:
    """One SET: the object's value now (``before``; None when the agent has no such instance) and
    the value the SET writes (``after``)."""

    oid: str
    type: str
    before: int | bytes | str | None
    before_type: str
    after: int | bytes | str

    @property
    def changes(self) -> bool:
        return self.before_type != self.type or self.before != self.after

    def as_dict(self) -> dict[str, Any]:
        def show(value: object) -> object:
            return value.hex() if isinstance(value, bytes) else value

        return {"oid": self.oid, "type": self.type, "before": show(self.before), "beforeType": self.before_type,
                "after": show(self.after), "changes": self.changes}  # fmt: skip


@dataclass(frozen=True)
class SnmpDryRun:
    device: str
    sets: tuple[SetPreview, ...]
    protocol: str = "snmp"

    @property
    def changed(self) -> bool:
        return any(s.changes for s in self.sets)

    def as_dict(self) -> dict[str, Any]:
        return {"device": self.device, "protocol": self.protocol, "changed": self.changed,
                "sets": [s.as_dict() for s in self.sets]}  # fmt: skip


DryRun = NetconfDryRun | SnmpDryRun


# --- the offline engine -----------------------------------------------------------------------------


def _as_driver_error(error: ServerRpcError) -> RpcError:
    return RpcError(
        error_type=error.type,
        error_tag=error.tag,
        error_severity=error.severity,
        error_app_tag=error.app_tag,
        error_path=error.path,
        error_message=error.message,
        error_info=dict(error.info),
    )


def _root(xml: str) -> etree._Element:
    root = etree.fromstring(xml.encode(), _PARSER)
    if etree.QName(root).localname == "rpc-reply":
        data = root.find(f"{{{NC_NS}}}data")
        root = data if data is not None else etree.Element(f"{{{NC_NS}}}data")
    return root


def decode_running(running_xml: str) -> tuple[dict[str, Any], list[etree._Element]]:
    """Running (``<data>`` of a get-config reply) as RFC 7951 JSON, plus the top-level nodes of modules
    the model does not have (another server's own modules), which are carried along unchanged."""
    root = _root(running_xml)
    known = etree.Element(f"{{{NC_NS}}}data")
    foreign: list[etree._Element] = []
    for node in root:
        if not isinstance(node.tag, str):
            continue
        (known if top_level_child(node.tag) is not None else foreign).append(copy.deepcopy(node))
    raw = from_xml(known)
    prune(raw, data_model().schema)  # netconfd keeps empty containers (<interfaces/>): they are nothing
    return raw, [n for n in foreign if n is not None]


def encode(raw: dict[str, Any], foreign: Sequence[etree._Element] = ()) -> str:
    """Canonical XML text of a datastore, for diffs."""
    data = etree.Element(f"{{{NC_NS}}}data", nsmap={None: NC_NS})
    to_xml(raw, data)
    for node in foreign:
        data.append(copy.deepcopy(node))
    return xmlconfig.canonical(list(data))


def offline_edit(running_xml: str, config_xml: str, default_operation: EditOp = "merge") -> OfflineEdit:
    """Apply ``config_xml`` (a ``<config>``) to ``running_xml`` (a ``<data>``) as ``<edit-config>``
    with ``error-option`` rollback-on-error would, without a device (RFC 6241 §7.2)."""
    try:
        before, foreign = decode_running(running_xml)
    except (UnknownElement, DecodeError) as exc:
        raise ValueError(f"running holds data the model cannot read: {exc}") from None
    config = _root(config_xml)
    result = apply_edit(before, config, default_operation, "rollback-on-error")
    errors = [_as_driver_error(e) for e in result.errors]
    after = result.data
    if not errors:
        try:
            validate_config(after)
        except ValidationFailed as exc:
            errors.append(RpcError("application", exc.error_tag, error_app_tag=exc.error_app_tag,
                                   error_path=exc.error_path, error_message=exc.error_message))  # fmt: skip
    if errors:
        after = copy.deepcopy(before)  # rollback-on-error: nothing applied
    before_xml = encode(before, foreign)
    after_xml = before_xml if after == before else encode(after, foreign)
    return OfflineEdit(before, after, before_xml, after_xml, tuple(errors))


# --- against a device -------------------------------------------------------------------------------


def read_running(driver: Driver) -> str:
    """Running as the device holds it: ``<get-config>`` of running (RFC 6241 §7.1), no lock, no edit."""
    return driver.get_config("running")


def dry_run_netconf(driver: Driver, payload: NetconfPayload) -> NetconfDryRun:
    edit = offline_edit(read_running(driver), payload.config_xml)
    return NetconfDryRun(payload.device, payload.config_xml, edit.diff, edit.before_xml, edit.after_xml, edit.errors)


def dry_run_snmp(driver: Driver, payload: SnmpPayload) -> SnmpDryRun:
    current = driver.get([s.oid for s in payload.sets]) if payload.sets else []
    by_oid: dict[str, Varbind] = {vb.oid: vb for vb in current}
    previews = []
    for item in payload.sets:
        before = by_oid.get(item.oid)
        previews.append(_preview(item, before))
    return SnmpDryRun(payload.device, tuple(previews))


def _preview(item: SnmpSet, before: Varbind | None) -> SetPreview:
    if before is None or not before.exists:
        return SetPreview(item.oid, item.type, None, before.type if before else "noSuchInstance", item.value)
    return SetPreview(item.oid, item.type, before.value, before.type, item.value)


def dry_run(driver: Driver, payload: Payload) -> DryRun:
    """The change ``payload`` would make on the device behind ``driver`` (opened by the caller)."""
    if isinstance(payload, NetconfPayload):
        return dry_run_netconf(driver, payload)
    return dry_run_snmp(driver, payload)
