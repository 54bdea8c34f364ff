"""Render a service for a device: a pure function of its inputs, driven by Jinja2 templates.

``render(device, service)`` looks the platform up in ``templates/platforms.yaml``, picks the template
``<service_type>.xml.j2`` (NETCONF) or ``<service_type>.yaml.j2`` (SNMP) from the platform's template
directories, renders it with the inputs (ports enriched with their ifIndex and type, addresses split
into IPv4 and IPv6, VLAN members), and checks the result: a NETCONF payload must be a ``<config>``
that uses only the platform's modules and validates against the YANG modules the devices serve; an
SNMP payload is a list of SETs (OID, type, value) for one PDU. Nothing is read from a database or a
device, so a dry-run shows exactly what an apply would send.

A new service type is a template and a test: no code here knows any service type.
"""

from __future__ import annotations

import functools
import ipaddress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import jinja2
import yaml
from lxml import etree

from common.yang.model import module_by_name, module_by_namespace
from oss.activation.drivers.base import SnmpType, Varbind
from oss.activation.rendering.errors import PayloadInvalid, RenderError, UnsupportedService
from oss.activation.rendering.inputs import DeviceInput, ServiceInput
from oss.activation.rendering.validate import validate_netconf_payload

TEMPLATES = Path(__file__).resolve().parent / "templates"
NC_NS = "urn:ietf:params:xml:ns:netconf:base:1.0"
_SNMP_TYPES: frozenset[str] = frozenset(
    {"Integer32", "OctetString", "ObjectIdentifier", "IpAddress", "Counter32", "Gauge32", "TimeTicks",
     "Counter64", "Unsigned32"}
)  # fmt: skip


@dataclass(frozen=True)
class Platform:
    name: str
    protocol: str  # netconf | snmp
    templates: tuple[str, ...]
    services: tuple[str, ...]
    namespaces: frozenset[str]  # XML namespaces of the modules it serves (NETCONF)


@dataclass(frozen=True)
class NetconfPayload:
    """The ``<config>`` element to send in ``<edit-config>`` (RFC 6241 §7.2), as XML text."""

    device: str
    platform: str
    service_type: str
    config_xml: str
    protocol: str = "netconf"


@dataclass(frozen=True)
class SnmpSet:
    """One varbind of the SetRequest (RFC 3416 §4.2.5)."""

    oid: str
    type: SnmpType
    value: int | bytes | str

    def varbind(self) -> Varbind:
        return Varbind(self.oid, self.value, self.type)


@dataclass(frozen=True)
class SnmpPayload:
    """Every SET of the service on the device, to be sent in ONE PDU (all or nothing)."""

    device: str
    platform: str
    service_type: str
    sets: tuple[SnmpSet, ...]
    protocol: str = "snmp"

    def varbinds(self) -> list[Varbind]:
        return [s.varbind() for s in self.sets]


Payload = NetconfPayload | SnmpPayload


@functools.cache
def platforms() -> dict[str, Platform]:
    raw = yaml.safe_load((TEMPLATES / "platforms.yaml").read_text(encoding="utf-8"))
    table: dict[str, Platform] = {}
    for name, spec in raw.items():
        namespaces = frozenset(module_by_name()[m].namespace for m in spec.get("modules", ()))
        table[name] = Platform(name, spec["protocol"], tuple(spec["templates"]), tuple(spec["services"]), namespaces)
    return table


def _fail(message: str) -> NoReturn:
    raise RenderError(message)


def _portlist(names: list[str], device: dict[str, Any]) -> str:
    """Q-BRIDGE PortList (RFC 4363 §3) as hex: port n (dot1dBasePort = ifIndex) is bit n, MSB first,
    as many octets as the device's highest ifIndex needs."""
    by_name = {p["name"]: p["if_index"] for p in device["ports"]}
    octets = max(1, (max((i for i in by_name.values() if i), default=0) + 7) // 8)
    buffer = bytearray(octets)
    for name in names:
        index = by_name.get(name)
        if not index:
            _fail(f"port {name} has no ifIndex on {device['name']}")
        buffer[(index - 1) // 8] |= 0x80 >> ((index - 1) % 8)
    return buffer.hex()


@functools.cache
def _environment(platform: str) -> jinja2.Environment:
    spec = platforms()[platform]
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(TEMPLATES / d) for d in spec.templates if (TEMPLATES / d).is_dir()]),
        autoescape=jinja2.select_autoescape(enabled_extensions=("xml.j2",), default_for_string=False),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    env.globals["fail"] = _fail
    env.filters["portlist"] = _portlist
    return env


def _context(device: DeviceInput, service: ServiceInput) -> dict[str, Any]:
    device_ports = [{"name": p.name, "if_index": p.if_index, "if_type": p.if_type} for p in device.ports]
    vlan_ids = [v.id for v in service.vlans]
    ports: list[dict[str, Any]] = []
    for sp in service.ports:
        known = device.port(sp.name)
        if known is None:
            _fail(f"port {sp.name} is not a port of {device.name}")
        ipv4: list[dict[str, Any]] = []
        ipv6: list[dict[str, Any]] = []
        for text in sp.addresses:
            try:
                if "/" not in text:
                    raise ValueError(text)  # a host address without its prefix length is not a config
                iface = ipaddress.ip_interface(text)
            except ValueError:
                _fail(f"{text!r} is not an address with a prefix length (ip/len)")
            family = ipv4 if iface.version == 4 else ipv6
            family.append({"ip": str(iface.ip), "prefix_length": iface.network.prefixlen})
        carried = list(sp.vlans) or vlan_ids
        unknown = [v for v in carried if v not in vlan_ids]
        if unknown:
            _fail(f"port {sp.name} carries VLAN {unknown[0]}, which is not one of the service's")
        ports.append({"name": sp.name, "description": sp.description, "enabled": sp.enabled, "mode": sp.mode,
                      "vlan_ids": carried, "if_index": known.if_index, "if_type": known.if_type,
                      "ipv4": ipv4, "ipv6": ipv6})  # fmt: skip
    vlans = []
    for v in service.vlans:
        if not 1 <= v.id <= 4094:
            _fail(f"VLAN id {v.id} is outside 1..4094 (IEEE 802.1Q)")
        service_members = [p["name"] for p in ports if v.id in p["vlan_ids"]]
        everyone = sorted(set(v.members) | set(service_members), key=lambda n: [p.name for p in device.ports].index(n)
                          if device.port(n) else 1 << 30)  # fmt: skip
        vlans.append({"id": v.id, "name": v.name, "present": v.present, "service_members": service_members,
                      "all_members": everyone})  # fmt: skip
    return {
        "device": {"name": device.name, "platform": device.platform, "ports": device_ports},
        "service": {"id": service.id, "service_type": service.service_type, "ports": ports, "vlans": vlans,
                    "numbers": list(service.numbers), "characteristics": service.characteristic_map()},
    }  # fmt: skip


def _template(platform: Platform, service_type: str) -> jinja2.Template:
    if service_type not in platform.services:
        raise UnsupportedService(
            f"service type {service_type!r} is not offered on platform {platform.name!r}"
            f" (offered: {', '.join(platform.services)})"
        )
    suffix = "xml.j2" if platform.protocol == "netconf" else "yaml.j2"
    try:
        return _environment(platform.name).get_template(f"{service_type}.{suffix}")
    except jinja2.TemplateNotFound:
        raise UnsupportedService(f"no template {service_type}.{suffix} for platform {platform.name!r}") from None


def render(device: DeviceInput, service: ServiceInput) -> Payload:
    """The configuration ``service`` needs on ``device``: a NETCONF ``<config>`` or SNMP SETs.

    Pure: same input, same payload. Raises :class:`RenderError` (422) for inputs that make no
    configuration, :class:`UnsupportedService` for a service type the platform does not offer, and
    :class:`PayloadInvalid` when the rendered NETCONF payload fails YANG validation."""
    platform = platforms().get(device.platform)
    if platform is None:
        raise RenderError(f"unknown platform {device.platform!r} (known: {', '.join(sorted(platforms()))})")
    template = _template(platform, service.service_type)
    try:
        text = template.render(_context(device, service))
    except jinja2.UndefinedError as exc:
        raise RenderError(f"template {template.name}: {exc.message}") from None
    if platform.protocol == "netconf":
        return NetconfPayload(device.name, platform.name, service.service_type, _netconf(text, platform))
    return SnmpPayload(device.name, platform.name, service.service_type, _snmp(text, template.name or ""))


_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: ~10x the pure-Python parser
_PARSER = etree.XMLParser(remove_blank_text=True, resolve_entities=False, no_network=True)


def _netconf(text: str, platform: Platform) -> str:
    try:
        root = etree.fromstring(text.encode(), _PARSER)
    except etree.XMLSyntaxError as exc:
        raise PayloadInvalid(f"rendered payload is not well-formed XML: {exc}") from None
    if root.tag != f"{{{NC_NS}}}config":
        raise PayloadInvalid("a NETCONF template must render one <config> element (RFC 6241 §7.2)")
    for element in root.iter():
        if not isinstance(element.tag, str) or element is root:
            continue
        namespace = etree.QName(element).namespace or ""
        if namespace not in platform.namespaces and namespace != NC_NS:
            module = module_by_namespace().get(namespace)
            raise PayloadInvalid(
                f"platform {platform.name!r} does not serve {module.name if module else namespace!r}",
                details={"error_tag": "unknown-namespace", "namespace": namespace},
            )
    validate_netconf_payload(root)
    return str(etree.tostring(root, pretty_print=True, encoding="unicode"))


def _snmp(text: str, template: str) -> tuple[SnmpSet, ...]:
    try:
        items = yaml.load(text, Loader=_YAML_LOADER) or []
    except yaml.YAMLError as exc:
        raise RenderError(f"template {template} rendered no YAML list: {exc}") from None
    sets: list[SnmpSet] = []
    for item in items:
        kind = str(item.get("type"))
        if kind not in _SNMP_TYPES:
            raise RenderError(f"template {template}: SNMP type {kind!r} is not a SET type")
        value: int | bytes | str
        if "hex" in item:
            value = bytes.fromhex(str(item["hex"]))
        elif kind == "OctetString":
            value = str(item["value"]).encode()
        elif kind in ("ObjectIdentifier", "IpAddress"):
            value = str(item["value"])
        else:
            value = int(item["value"])
        sets.append(SnmpSet(str(item["oid"]), kind, value))  # type: ignore[arg-type]
    return tuple(sets)
