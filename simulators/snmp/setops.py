"""SET: check every varbind, compute the new running, apply it as one change (RFC 3416 §4.2.5).

RFC 3416 §4.2.5 makes a SetRequest atomic: every varbind is checked first, and "if any of the
assignments fail ... all other assignments ... are undone". We never need an undo: :func:`plan_set`
computes the whole new ``running`` (and the new createAndWait rows) on a copy, and the caller installs it
with one call to ``Device.set_running_out_of_band``, which YANG-validates and either replaces running or
raises without changing anything.

The checks follow the order of RFC 3416 §4.2.5 steps (2)..(10) and, like net-snmp, run phase by phase
over all varbinds (first type/length/value checks of every varbind, then row existence, then RowStatus
transitions), so the error-index names the first varbind failing the earliest phase.

Writable objects:

- SNMPv2-MIB sysContact.0, sysName.0, sysLocation.0 (DisplayString, RFC 3418 §2: read-write) <->
  ietf-system (RFC 7317) ``/system/contact``, ``hostname``, ``location``; sysName must be a host name
  ietf-system can hold (``inet:domain-name``), an empty sysContact/sysLocation removes the leaf;
- IF-MIB ifAdminStatus (up(1) / down(2); testing(3) is refused with wrongValue) <-> ``enabled``;
- IF-MIB ifAlias (SnmpAdminString, 0..64 octets; empty removes the description) <-> ``description``;
- Q-BRIDGE-MIB dot1qVlanStaticName (0..32 octets; empty removes the name),
  dot1qVlanStaticEgressPorts (PortList over dot1dBasePort == ifIndex) <-> ``member``, and
  dot1qVlanStaticRowStatus with the RowStatus state machine of RFC 2579 (createAndGo, createAndWait,
  active, destroy; notInService on an active row answers wrongValue, which the RFC 2579 table allows for
  an agent that cannot take a row out of service).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from pyasn1.type.base import Asn1Item
from pysnmp.proto import rfc1902

from common.yang.model import data_model
from simulators.snmp import mib
from simulators.snmp.mib import (
    ACTIVE,
    CREATE_AND_GO,
    CREATE_AND_WAIT,
    DESTROY,
    NOT_IN_SERVICE,
    OID,
    PendingVlanRow,
)

_INTEGER = rfc1902.Integer32().tagSet
_OCTETS = rfc1902.OctetString().tagSet

IF_ADMIN, IF_ALIAS, VLAN_NAME, VLAN_PORTS, VLAN_STATUS = "ifAdmin", "ifAlias", "vlanName", "vlanPorts", "rowStatus"
SYS_CONTACT, SYS_NAME, SYS_LOCATION = "sysContact", "sysName", "sysLocation"

#: SNMPv2-MIB scalar -> the ietf-system leaf under ``/system`` that holds it.
SYSTEM_LEAVES: dict[str, str] = {SYS_CONTACT: "contact", SYS_NAME: "hostname", SYS_LOCATION: "location"}
SYSTEM = "ietf-system:system"
DISPLAY_STRING_MAX = 255  # DisplayString ::= OCTET STRING (SIZE (0..255)), RFC 2579

#: object type OID (column, or scalar without ``.0``) -> (kind, expected tag, max length)
WRITABLE: dict[OID, tuple[str, Any, int]] = {
    mib.SYS_CONTACT: (SYS_CONTACT, _OCTETS, DISPLAY_STRING_MAX),
    mib.SYS_NAME: (SYS_NAME, _OCTETS, DISPLAY_STRING_MAX),
    mib.SYS_LOCATION: (SYS_LOCATION, _OCTETS, DISPLAY_STRING_MAX),
    mib.IF_ADMIN_STATUS: (IF_ADMIN, _INTEGER, 0),
    mib.IF_ALIAS: (IF_ALIAS, _OCTETS, 64),
    mib.DOT1Q_VLAN_STATIC_NAME: (VLAN_NAME, _OCTETS, 32),
    mib.DOT1Q_VLAN_STATIC_EGRESS_PORTS: (VLAN_PORTS, _OCTETS, 512),
    mib.DOT1Q_VLAN_STATIC_ROW_STATUS: (VLAN_STATUS, _INTEGER, 0),
}


class SetError(Exception):
    """A refused SetRequest: the error-status name (RFC 3416 §3) and the 1-based error-index."""

    def __init__(self, status: str, index: int) -> None:
        super().__init__(f"{status} at varbind {index}")
        self.status = status
        self.index = index


@dataclass
class _Varbind:
    index: int  # 1-based position in the PDU
    kind: str
    row: int  # ifIndex or VLAN id
    value: Any  # int, str or frozenset of ports


@dataclass
class SetPlan:
    """What a successful SET changes."""

    running: dict[str, Any]
    pending: dict[int, PendingVlanRow]
    changed: bool
    #: 1-based varbind index per XPath fragment it touched, to point error-index at a YANG failure.
    path_hints: list[tuple[str, int]] = field(default_factory=list)

    def index_for(self, error_path: str | None) -> int:
        for hint, index in self.path_hints:
            if error_path and hint in error_path:
                return index
        return self.path_hints[0][1] if self.path_hints else 1


def _column(oid: OID) -> tuple[OID, tuple[str, Any, int]] | None:
    for column, spec in WRITABLE.items():
        if oid[: len(column)] == column:
            return column, spec
    return None


def _decode_text(raw: bytes, index: int) -> str:
    try:
        return raw.decode("utf-8")  # SnmpAdminString is UTF-8 (RFC 3411 §5)
    except UnicodeDecodeError:
        raise SetError("wrongValue", index) from None


def _display_string(raw: bytes, index: int) -> str:
    """DisplayString is NVT ASCII (RFC 2579): anything else can never be assigned (step 6)."""
    try:
        return raw.decode("ascii")
    except UnicodeDecodeError:
        raise SetError("wrongValue", index) from None


def _check_hostname(text: str, index: int) -> None:
    """sysName lives in ietf-system ``hostname`` (``inet:domain-name``, 1..253 octets): a value it cannot
    hold could never be assigned, so wrongValue (step 6), not a YANG failure after the fact."""
    leaf = data_model().get_data_node(f"/{SYSTEM}/hostname")
    hostname_type: Any = getattr(leaf, "type", None)
    value = hostname_type.from_raw(text) if hostname_type is not None else None
    if value is None or value not in hostname_type:
        raise SetError("wrongValue", index)


def _parse_octets(kind: str, raw: bytes, index: int) -> Any:
    if kind == VLAN_PORTS:
        return ports_value(raw)
    if kind in SYSTEM_LEAVES:
        text = _display_string(raw, index)
        if kind == SYS_NAME:
            _check_hostname(text, index)
        return text
    return _decode_text(raw, index)


def _check_static(index: int, oid: OID, value: Asn1Item, interfaces: dict[int, dict[str, Any]]) -> _Varbind:
    """RFC 3416 §4.2.5 steps (2), (3), (4), (6) and (7) for one varbind."""
    found = _column(oid)
    if found is None:
        raise SetError("notWritable", index)  # step 2 (read-only objects and unknown names alike)
    column, (kind, tag, max_length) = found
    if value.tagSet != tag:
        raise SetError("wrongType", index)  # step 3
    parsed: Any
    if tag == _OCTETS:
        raw = bytes(value)
        if len(raw) > max_length:
            raise SetError("wrongLength", index)  # step 4
        parsed = _parse_octets(kind, raw, index)
    else:
        parsed = int(value)
        allowed = {1, 2} if kind == IF_ADMIN else {1, 2, 4, 5, 6}  # notReady(3) may never be written
        if parsed not in allowed:
            raise SetError("wrongValue", index)  # step 6
    instance = oid[len(column) :]
    if len(instance) != 1:
        raise SetError("noCreation", index)  # step 7
    row = instance[0]
    if kind in SYSTEM_LEAVES:
        if row != 0:
            raise SetError("noCreation", index)  # a scalar has the one instance .0 (RFC 2578 §7.7)
        return _Varbind(index, kind, row, parsed)
    if kind in (IF_ADMIN, IF_ALIAS) and row not in interfaces:
        raise SetError("noCreation", index)  # ifTable rows are never created by SET
    if kind not in (IF_ADMIN, IF_ALIAS) and not 1 <= row <= 4094:
        raise SetError("noCreation", index)  # VlanIndex outside 1..4094 (IEEE 802.1Q)
    return _Varbind(index, kind, row, parsed)


def ports_value(raw: bytes) -> frozenset[int]:
    return frozenset(mib.ports_in(raw))


def plan_set(
    running: dict[str, Any],
    varbinds: list[tuple[OID, Asn1Item]],
    if_index: Any,
    pending: dict[int, PendingVlanRow],
) -> SetPlan:
    """Check ``varbinds`` against ``running`` and return the state after the SET, or raise SetError."""
    new_running = copy.deepcopy(running)
    interface_list = new_running.get("ietf-interfaces:interfaces", {}).get("interface", [])
    interfaces = {if_index(item["name"]): item for item in interface_list}
    port_names = {number: item["name"] for number, item in interfaces.items()}
    vlan_list = new_running.get("provisio-vlan:vlans", {}).get("vlan", [])
    vlans = {int(item["id"]): item for item in vlan_list}
    new_pending = {k: copy.copy(v) for k, v in pending.items() if k not in vlans}

    # Phase 1: each varbind on its own.
    checked = [_check_static(n, tuple(oid), value, interfaces) for n, (oid, value) in enumerate(varbinds, 1)]

    # Phase 2: RowStatus transitions (RFC 2579, the state table of the RowStatus TEXTUAL-CONVENTION).
    status_of = {v.row: v for v in checked if v.kind == VLAN_STATUS}
    for v in status_of.values():
        exists, waiting = v.row in vlans, v.row in new_pending
        if v.value in (CREATE_AND_GO, CREATE_AND_WAIT) and (exists or waiting):
            raise SetError("inconsistentValue", v.index)
        if v.value in (ACTIVE, NOT_IN_SERVICE) and not (exists or waiting):
            raise SetError("inconsistentValue", v.index)
        if v.value == NOT_IN_SERVICE and exists:
            raise SetError("wrongValue", v.index)

    # Phase 3: columns of rows that neither exist nor are created in this PDU (step 8).
    for v in checked:
        if v.kind in (VLAN_NAME, VLAN_PORTS):
            creating = v.row in status_of and status_of[v.row].value in (CREATE_AND_GO, CREATE_AND_WAIT)
            if v.row not in vlans and v.row not in new_pending and not creating:
                raise SetError("inconsistentName", v.index)
            if v.kind == VLAN_PORTS and not v.value <= port_names.keys():
                raise SetError("inconsistentValue", v.index)  # a port that does not exist (now)

    plan = SetPlan(new_running, new_pending, changed=False)
    _apply(plan, checked, interfaces, port_names, vlans, status_of)
    plan.changed = new_running != running
    return plan


def _vlan_list(running: dict[str, Any]) -> list[dict[str, Any]]:
    container = running.setdefault("provisio-vlan:vlans", {})
    result: list[dict[str, Any]] = container.setdefault("vlan", [])
    return result


def _set_vlan_leaf(item: dict[str, Any], key: str, value: Any) -> None:
    if value:
        item[key] = value
    else:
        item.pop(key, None)  # YANG name is 1..32 long and member may not be empty: absent instead


def _set_system_leaf(running: dict[str, Any], leaf: str, value: str) -> None:
    system = running.setdefault(SYSTEM, {})
    if value:
        system[leaf] = value
    else:
        system.pop(leaf, None)  # an empty sysContact/sysLocation: nothing configured
    if not system:
        del running[SYSTEM]  # no empty containers in RFC 7951 JSON


def _apply(
    plan: SetPlan,
    checked: list[_Varbind],
    interfaces: dict[int, dict[str, Any]],
    port_names: dict[int, str],
    vlans: dict[int, dict[str, Any]],
    status_of: dict[int, _Varbind],
) -> None:
    running, pending = plan.running, plan.pending
    for v in status_of.values():  # creations first, so that columns of the same PDU land in the row
        if v.value == CREATE_AND_GO:
            vlans[v.row] = {"id": v.row}
            _vlan_list(running).append(vlans[v.row])
        elif v.value == CREATE_AND_WAIT:
            pending[v.row] = PendingVlanRow()
        plan.path_hints.append((f"[id='{v.row}']", v.index))

    def names(ports: frozenset[int]) -> list[str]:
        return [port_names[p] for p in sorted(ports)]

    for v in checked:
        if v.kind in SYSTEM_LEAVES:
            _set_system_leaf(running, SYSTEM_LEAVES[v.kind], v.value)
            plan.path_hints.append(("sys:system", v.index))
        elif v.kind == IF_ADMIN:
            interfaces[v.row]["enabled"] = v.value == 1
            plan.path_hints.append((f"[name='{interfaces[v.row]['name']}']", v.index))
        elif v.kind == IF_ALIAS:
            if v.value:
                interfaces[v.row]["description"] = v.value
            else:
                interfaces[v.row].pop("description", None)
            plan.path_hints.append((f"[name='{interfaces[v.row]['name']}']", v.index))
        elif v.kind in (VLAN_NAME, VLAN_PORTS):
            if v.row in vlans:
                key, value = ("name", v.value) if v.kind == VLAN_NAME else ("member", names(v.value))
                _set_vlan_leaf(vlans[v.row], key, value)
                plan.path_hints.append((f"[id='{v.row}']", v.index))
            elif v.row in pending:
                if v.kind == VLAN_NAME:
                    pending[v.row].name = v.value
                else:
                    pending[v.row].ports = v.value

    for v in status_of.values():  # then activations and destructions
        if v.value == ACTIVE and v.row in pending:
            row = pending.pop(v.row)
            item: dict[str, Any] = {"id": v.row}
            _set_vlan_leaf(item, "name", row.name)
            _set_vlan_leaf(item, "member", names(row.ports & port_names.keys()))
            _vlan_list(running).append(item)
        elif v.value == DESTROY:
            pending.pop(v.row, None)
            if v.row in vlans:
                _vlan_list(running).remove(vlans.pop(v.row))

    container = running.get("provisio-vlan:vlans")
    if container is not None and not container.get("vlan"):
        del running["provisio-vlan:vlans"]  # no empty list instances in RFC 7951 JSON
