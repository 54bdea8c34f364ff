"""The MIB view of one device, computed from its ``running`` datastore at request time.

Nothing here is a copy that can drift: :func:`build_view` reads the RFC 7951 JSON of running and lays it
out as the instances of the standard MIB objects, sorted in lexicographic OID order (RFC 3416 §4.2.2) so
that GET, GETNEXT and GETBULK are a dictionary look-up and a bisection.

Objects served (read side; writes are in :mod:`simulators.snmp.setops`):

- SNMPv2-MIB system group (RFC 3418 §2); sysContact, sysName, sysLocation from ietf-system (RFC 7317).
- IF-MIB (RFC 2863): ifNumber, ifTable, ifXTable. ``ifDescr``/``ifName`` are the interface name,
  ``ifAdminStatus`` is ``enabled``, ``ifAlias`` is ``description``. A simulated link is up when the
  interface is enabled, so ``ifOperStatus`` follows ``ifAdminStatus``.
- BRIDGE-MIB (RFC 4188) dot1dBaseNumPorts and dot1dBasePortTable, which makes the Q-BRIDGE-MIB port
  numbering explicit: here dot1dBasePort == ifIndex.
- Q-BRIDGE-MIB (RFC 4363) dot1qBase scalars and dot1qVlanStaticTable (name, egress ports from the
  ``member`` leaf-list, RowStatus).
- IP-MIB (RFC 4293) ipAddressPrefixTable and ipAddressTable (read-only), plus the deprecated ipAddrTable
  (RFC 4293 §5) that many managers still walk.
"""

from __future__ import annotations

import bisect
import hashlib
import ipaddress
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from pyasn1.type.base import Asn1Item
from pysnmp.proto import rfc1902

OID = tuple[int, ...]

# --- object identifiers ---------------------------------------------------------------------------
SYSTEM = (1, 3, 6, 1, 2, 1, 1)
SYS_DESCR, SYS_OBJECT_ID, SYS_UP_TIME, SYS_CONTACT, SYS_NAME, SYS_LOCATION, SYS_SERVICES = (
    (*SYSTEM, n) for n in range(1, 8)
)
IF_NUMBER = (1, 3, 6, 1, 2, 1, 2, 1)
IF_ENTRY = (1, 3, 6, 1, 2, 1, 2, 2, 1)
IF_ADMIN_STATUS = (*IF_ENTRY, 7)
IFX_ENTRY = (1, 3, 6, 1, 2, 1, 31, 1, 1, 1)
IF_ALIAS = (*IFX_ENTRY, 18)
DOT1D_BASE_NUM_PORTS = (1, 3, 6, 1, 2, 1, 17, 1, 2)
DOT1D_BASE_PORT_ENTRY = (1, 3, 6, 1, 2, 1, 17, 1, 4, 1)
DOT1Q_BASE = (1, 3, 6, 1, 2, 1, 17, 7, 1, 1)
DOT1Q_VLAN_STATIC_ENTRY = (1, 3, 6, 1, 2, 1, 17, 7, 1, 4, 3, 1)
DOT1Q_VLAN_STATIC_NAME = (*DOT1Q_VLAN_STATIC_ENTRY, 1)
DOT1Q_VLAN_STATIC_EGRESS_PORTS = (*DOT1Q_VLAN_STATIC_ENTRY, 2)
DOT1Q_VLAN_STATIC_ROW_STATUS = (*DOT1Q_VLAN_STATIC_ENTRY, 5)
IP_ADDR_ENTRY = (1, 3, 6, 1, 2, 1, 4, 20, 1)
IP_ADDRESS_PREFIX_ENTRY = (1, 3, 6, 1, 2, 1, 4, 32, 1)
IP_ADDRESS_ENTRY = (1, 3, 6, 1, 2, 1, 4, 34, 1)

#: sysObjectID. Not an IANA-registered enterprise arc: an obviously private value under
#: enterprises(1.3.6.1.4.1) so that managers can tell a Provisio simulator from real equipment.
SIM_ENTERPRISE = (1, 3, 6, 1, 4, 1, 99999, 1)

# RowStatus (RFC 2579) values.
ACTIVE, NOT_IN_SERVICE, NOT_READY, CREATE_AND_GO, CREATE_AND_WAIT, DESTROY = 1, 2, 3, 4, 5, 6

# IANAifType numbers for the iana-if-type identities a simulated device uses (RFC 8343 §1.2 maps them).
IANA_IF_TYPES: dict[str, int] = {
    "other": 1,
    "ethernetCsmacd": 6,
    "softwareLoopback": 24,
    "propVirtual": 53,
    "tunnel": 131,
    "l2vlan": 135,
    "l3ipvlan": 136,
    "ieee8023adLag": 161,
    "bridge": 209,
}

# Value kinds of the view; converted to pyasn1 objects only for the varbinds that are sent.
_SYNTAX: dict[str, Callable[[Any], Asn1Item]] = {
    "i": rfc1902.Integer32,
    "s": rfc1902.OctetString,
    "o": rfc1902.ObjectIdentifier,
    "t": rfc1902.TimeTicks,
    "g": rfc1902.Gauge32,
    "c": rfc1902.Counter32,
    "u": rfc1902.Unsigned32,
    "a": rfc1902.IpAddress,
}


def to_asn1(kind: str, raw: Any) -> Asn1Item:
    """The SMIv2 value (RFC 2578 §7.1) of one view entry."""
    return _SYNTAX[kind](raw)


#: The object types (scalar OIDs without ``.0`` and table columns) this agent implements. A GET whose name
#: falls under one of them but names no instance answers noSuchInstance, anything else noSuchObject
#: (RFC 3416 §4.2.1).
OBJECT_TYPES: frozenset[OID] = frozenset(
    [(*SYSTEM, n) for n in range(1, 8)]
    + [IF_NUMBER]
    + [(*IF_ENTRY, n) for n in (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 14, 16, 17, 19, 20)]
    + [(*IFX_ENTRY, n) for n in (1, 15, 17, 18)]
    + [DOT1D_BASE_NUM_PORTS]
    + [(*DOT1D_BASE_PORT_ENTRY, n) for n in (1, 2)]
    + [(*DOT1Q_BASE, n) for n in range(1, 6)]
    + [(*DOT1Q_VLAN_STATIC_ENTRY, n) for n in (1, 2, 5)]
    + [(*IP_ADDR_ENTRY, n) for n in range(1, 6)]
    + [(*IP_ADDRESS_PREFIX_ENTRY, n) for n in range(5, 10)]
    + [(*IP_ADDRESS_ENTRY, n) for n in range(3, 12)]
)


@dataclass
class PendingVlanRow:
    """A dot1qVlanStaticTable row created with createAndWait(5) and not yet active (RFC 2579).

    It lives in the agent, not in running: a row that is not in service is not configuration the
    device uses, so NETCONF does not see it.
    """

    name: str = ""
    ports: frozenset[int] = frozenset()
    created: float = field(default_factory=time.monotonic)


@dataclass(frozen=True)
class Interface:
    """One ietf-interfaces entry as the MIBs need it."""

    if_index: int
    name: str
    if_type: int
    enabled: bool
    description: str
    addresses: tuple[tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, int], ...]


def interfaces_of(running: dict[str, Any], if_index: Callable[[str], int]) -> list[Interface]:
    """The interfaces of running, ordered by ifIndex."""
    result = []
    for item in running.get("ietf-interfaces:interfaces", {}).get("interface", []):
        type_name = str(item.get("type", "")).rpartition(":")[2]
        addresses: list[tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, int]] = []
        for family in ("ietf-ip:ipv4", "ietf-ip:ipv6"):
            for address in item.get(family, {}).get("address", []):
                addresses.append((ipaddress.ip_address(address["ip"]), int(address["prefix-length"])))
        result.append(
            Interface(
                if_index=if_index(item["name"]),
                name=item["name"],
                if_type=IANA_IF_TYPES.get(type_name, 1),
                enabled=bool(item.get("enabled", True)),  # RFC 8343: enabled defaults to true
                description=str(item.get("description", "")),
                addresses=tuple(addresses),
            )
        )
    result.sort(key=lambda i: i.if_index)
    return result


def vlans_of(running: dict[str, Any]) -> list[dict[str, Any]]:
    return list(running.get("provisio-vlan:vlans", {}).get("vlan", []))


def port_list(ports: Iterable[int], octets: int) -> bytes:
    """A PortList (RFC 4363 §3): one bit per port, port 1 is the most significant bit of octet 1."""
    buffer = bytearray(octets)
    for port in ports:
        if 1 <= port <= octets * 8:
            buffer[(port - 1) // 8] |= 0x80 >> ((port - 1) % 8)
    return bytes(buffer)


def ports_in(bitmap: bytes) -> set[int]:
    """The port numbers set in a PortList."""
    return {8 * i + bit + 1 for i, octet in enumerate(bitmap) for bit in range(8) if octet & (0x80 >> bit)}


def _speed_mbps(interface: Interface) -> int:
    if interface.if_type == IANA_IF_TYPES["softwareLoopback"]:
        return 0
    prefix = interface.name[:2].lower()
    return {"xe": 10_000, "et": 100_000, "fa": 100}.get(prefix, 1_000)


def _phys_address(device_name: str, interface: Interface) -> bytes:
    if interface.if_type == IANA_IF_TYPES["softwareLoopback"]:
        return b""
    # A stable, locally administered unicast MAC (IEEE 802: second-lowest bit of octet 1 set).
    return b"\x02" + hashlib.sha1(f"{device_name}/{interface.name}".encode()).digest()[:5]


def _inet_index(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> OID:
    """InetAddressType + InetAddress as a non-IMPLIED index: type, length, octets (RFC 4001 §4)."""
    packed = address.packed
    return (1 if address.version == 4 else 2, len(packed), *packed)


@dataclass(frozen=True)
class DeviceFacts:
    """What the MIBs show about a device besides its running datastore."""

    name: str
    profile: str
    started: float  # time.monotonic() when the agent started, for sysUpTime

    def uptime_ticks(self) -> int:
        return int((time.monotonic() - self.started) * 100) & 0xFFFFFFFF


Entry = tuple[OID, str, Any]


def _system(facts: DeviceFacts, running: dict[str, Any]) -> Iterator[Entry]:
    # sysContact/sysName/sysLocation are ietf-system's contact/hostname/location (RFC 7317), writable by
    # SET and NETCONF alike; without a configured hostname the device answers with its own name.
    configured = running.get("ietf-system:system", {})
    yield (*SYS_DESCR, 0), "s", f"Provisio simulated {facts.profile} {facts.name}".encode()
    yield (*SYS_OBJECT_ID, 0), "o", SIM_ENTERPRISE
    yield (*SYS_UP_TIME, 0), "t", facts.uptime_ticks()
    yield (*SYS_CONTACT, 0), "s", str(configured.get("contact", "")).encode()
    yield (*SYS_NAME, 0), "s", str(configured.get("hostname", facts.name)).encode()
    yield (*SYS_LOCATION, 0), "s", str(configured.get("location", "")).encode()
    yield (*SYS_SERVICES, 0), "i", 6  # datalink(2) + internet(4), RFC 3418


def _interfaces(facts: DeviceFacts, interfaces: list[Interface]) -> Iterator[Entry]:
    yield (*IF_NUMBER, 0), "i", len(interfaces)
    for i in interfaces:
        x = (i.if_index,)
        status = 1 if i.enabled else 2
        mbps = _speed_mbps(i)
        yield (*IF_ENTRY, 1, *x), "i", i.if_index
        yield (*IF_ENTRY, 2, *x), "s", i.name.encode()
        yield (*IF_ENTRY, 3, *x), "i", i.if_type
        yield (*IF_ENTRY, 4, *x), "i", 1500
        yield (*IF_ENTRY, 5, *x), "g", min(mbps * 1_000_000, 0xFFFFFFFF)
        yield (*IF_ENTRY, 6, *x), "s", _phys_address(facts.name, i)
        yield (*IF_ENTRY, 7, *x), "i", status
        yield (*IF_ENTRY, 8, *x), "i", status
        yield (*IF_ENTRY, 9, *x), "t", 0
        for column in (10, 11, 13, 14, 16, 17, 19, 20):  # traffic counters: a simulator moves no traffic
            yield (*IF_ENTRY, column, *x), "c", 0
        yield (*IFX_ENTRY, 1, *x), "s", i.name.encode()
        yield (*IFX_ENTRY, 15, *x), "g", mbps
        yield (*IFX_ENTRY, 17, *x), "i", 1 if mbps else 2  # ifConnectorPresent TruthValue
        yield (*IFX_ENTRY, 18, *x), "s", i.description.encode()


def _bridge(
    interfaces: list[Interface], vlans: list[dict[str, Any]], pending: dict[int, PendingVlanRow]
) -> Iterator[Entry]:
    # dot1dBasePort == ifIndex, so PortList bit N is the interface whose ifIndex is N.
    by_name = {i.name: i.if_index for i in interfaces}
    octets = max(1, (max(by_name.values(), default=0) + 7) // 8)
    yield (*DOT1D_BASE_NUM_PORTS, 0), "i", len(interfaces)
    for i in interfaces:
        yield (*DOT1D_BASE_PORT_ENTRY, 1, i.if_index), "i", i.if_index
        yield (*DOT1D_BASE_PORT_ENTRY, 2, i.if_index), "i", i.if_index
    rows: dict[int, tuple[bytes, bytes, int]] = {}
    for vlan_id, row in pending.items():
        rows[vlan_id] = (row.name.encode(), port_list(row.ports, octets), NOT_IN_SERVICE)
    for vlan in vlans:  # running wins over a stale pending row
        members = [by_name[m] for m in vlan.get("member", []) if m in by_name]
        rows[int(vlan["id"])] = (str(vlan.get("name", "")).encode(), port_list(members, octets), ACTIVE)
    yield (*DOT1Q_BASE, 1, 0), "i", 1  # dot1qVlanVersionNumber version1(1)
    yield (*DOT1Q_BASE, 2, 0), "i", 4094  # dot1qMaxVlanId
    yield (*DOT1Q_BASE, 3, 0), "u", 4094  # dot1qMaxSupportedVlans
    yield (*DOT1Q_BASE, 4, 0), "u", sum(1 for r in rows.values() if r[2] == ACTIVE)  # dot1qNumVlans
    yield (*DOT1Q_BASE, 5, 0), "i", 2  # dot1qGvrpStatus disabled(2)
    for vlan_id, (name, ports, status) in rows.items():
        yield (*DOT1Q_VLAN_STATIC_NAME, vlan_id), "s", name
        yield (*DOT1Q_VLAN_STATIC_EGRESS_PORTS, vlan_id), "s", ports
        yield (*DOT1Q_VLAN_STATIC_ROW_STATUS, vlan_id), "i", status


def _ip(interfaces: list[Interface]) -> Iterator[Entry]:
    for i in interfaces:
        for address, length in i.addresses:
            network = ipaddress.ip_network(f"{address}/{length}", strict=False)
            prefix = (i.if_index, *_inet_index(network.network_address), length)
            yield (*IP_ADDRESS_PREFIX_ENTRY, 5, *prefix), "i", 2  # ipAddressPrefixOrigin manual(2)
            yield (*IP_ADDRESS_PREFIX_ENTRY, 6, *prefix), "i", 1  # ipAddressPrefixOnLinkFlag true
            yield (*IP_ADDRESS_PREFIX_ENTRY, 7, *prefix), "i", 2  # ipAddressPrefixAutonomousFlag false
            yield (*IP_ADDRESS_PREFIX_ENTRY, 8, *prefix), "u", 0xFFFFFFFF  # infinite lifetimes
            yield (*IP_ADDRESS_PREFIX_ENTRY, 9, *prefix), "u", 0xFFFFFFFF
            x = _inet_index(address)
            yield (*IP_ADDRESS_ENTRY, 3, *x), "i", i.if_index
            yield (*IP_ADDRESS_ENTRY, 4, *x), "i", 1  # ipAddressType unicast(1)
            yield (*IP_ADDRESS_ENTRY, 5, *x), "o", (*IP_ADDRESS_PREFIX_ENTRY, 5, *prefix)  # RowPointer
            yield (*IP_ADDRESS_ENTRY, 6, *x), "i", 2  # ipAddressOrigin manual(2)
            yield (*IP_ADDRESS_ENTRY, 7, *x), "i", 1  # ipAddressStatus preferred(1)
            yield (*IP_ADDRESS_ENTRY, 8, *x), "t", 0  # ipAddressCreated
            yield (*IP_ADDRESS_ENTRY, 9, *x), "t", 0  # ipAddressLastChanged
            yield (*IP_ADDRESS_ENTRY, 10, *x), "i", ACTIVE  # ipAddressRowStatus
            yield (*IP_ADDRESS_ENTRY, 11, *x), "i", 3  # ipAddressStorageType nonVolatile(3)
            if address.version == 4:
                a = tuple(address.packed)
                yield (*IP_ADDR_ENTRY, 1, *a), "a", address.packed
                yield (*IP_ADDR_ENTRY, 2, *a), "i", i.if_index
                yield (*IP_ADDR_ENTRY, 3, *a), "a", network.netmask.packed
                yield (*IP_ADDR_ENTRY, 4, *a), "i", 1  # ipAdEntBcastAddr: all-ones broadcast
                yield (*IP_ADDR_ENTRY, 5, *a), "i", 65535


class MibView:
    """The sorted instances of one device at one moment."""

    def __init__(self, entries: Iterable[Entry]) -> None:
        table = {oid: (kind, raw) for oid, kind, raw in entries}
        self._values = table
        self._oids = sorted(table)

    def __len__(self) -> int:
        return len(self._oids)

    def get(self, oid: OID) -> tuple[str, Any] | None:
        return self._values.get(oid)

    def next_after(self, oid: OID) -> OID | None:
        """The first instance lexicographically greater than ``oid`` (GETNEXT, RFC 3416 §4.2.2)."""
        position = bisect.bisect_right(self._oids, oid)
        return self._oids[position] if position < len(self._oids) else None

    def oids(self) -> list[OID]:
        return list(self._oids)


def is_known_object(oid: OID) -> bool:
    """Whether ``oid`` falls under an object type this agent implements (noSuchInstance vs noSuchObject)."""
    return any(oid[:n] in OBJECT_TYPES for n in range(7, len(oid) + 1))


def build_view(
    facts: DeviceFacts,
    running: dict[str, Any],
    if_index: Callable[[str], int],
    pending: dict[int, PendingVlanRow] | None = None,
) -> MibView:
    """Lay running out as MIB instances (see the module docstring for what is served)."""
    interfaces = interfaces_of(running, if_index)
    entries: list[Entry] = []
    entries.extend(_system(facts, running))
    entries.extend(_interfaces(facts, interfaces))
    entries.extend(_bridge(interfaces, vlans_of(running), pending or {}))
    entries.extend(_ip(interfaces))
    return MibView(entries)
