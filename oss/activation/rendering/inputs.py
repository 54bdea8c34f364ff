"""What a renderer is given: plain frozen dataclasses, filled by the caller from inventory.

The physical inventory (device, platform, ports and their ifIndex) and the IP context (addresses,
VLANs) are separate contexts; the renderer depends on neither. The caller (the activation saga, a
test, the dry-run API) reads them and builds these values, so rendering stays a pure function of its
input: the same input gives the same payload, byte for byte, and nothing is read or reserved.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

PortMode = Literal["access", "trunk"]
Characteristic = str | int | bool


@dataclass(frozen=True)
class PortInput:
    """A port of the device as the physical inventory holds it. ``if_index`` is IF-MIB's ifIndex
    (RFC 2863), needed by SNMP platforms (ifAlias.N, Q-BRIDGE PortList bits)."""

    name: str
    if_index: int | None = None
    if_type: str = "ethernetCsmacd"  # an iana-if-type identity (RFC 7224)


@dataclass(frozen=True)
class DeviceInput:
    """The target device: its name, its platform (the simulators' profile or the server it is,
    e.g. ``pe-router``, ``cpe``, ``legacy-switch``, ``netconfd``) and its ports."""

    name: str
    platform: str
    ports: tuple[PortInput, ...] = ()

    def port(self, name: str) -> PortInput | None:
        return next((p for p in self.ports if p.name == name), None)


@dataclass(frozen=True)
class VlanInput:
    """A VLAN of the service (IEEE 802.1Q id 1..4094).

    ``members`` are the ports of this device that carry the VLAN for *other* services as well
    (from the intended config): SNMP's egress PortList is always the whole set. ``present`` says the
    VLAN row already exists on the device, so an SNMP platform must not send createAndGo (RFC 2579).
    """

    id: int
    name: str | None = None
    members: tuple[str, ...] = ()
    present: bool = False


@dataclass(frozen=True)
class ServicePort:
    """How the service uses one port: its description, the addresses it puts there (``ip/len``,
    IPv4 or IPv6), and for L2 services the port mode and the VLAN ids it carries."""

    name: str
    description: str | None = None
    addresses: tuple[str, ...] = ()
    mode: PortMode | None = None
    vlans: tuple[int, ...] = ()
    enabled: bool = True


@dataclass(frozen=True)
class ServiceInput:
    """One service to render on one device: its type (the template's name), its ports, VLANs, the
    numbers it carries, and free characteristics (TMF640 ``serviceCharacteristic`` name/value)."""

    id: str
    service_type: str
    ports: tuple[ServicePort, ...] = ()
    vlans: tuple[VlanInput, ...] = ()
    numbers: tuple[str, ...] = ()
    characteristics: tuple[tuple[str, Characteristic], ...] = ()

    def characteristic_map(self) -> dict[str, Characteristic]:
        return dict(self.characteristics)
