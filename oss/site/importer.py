"""Discovery of a network into the physical inventory: ``provisio devices import --manifest FILE``.

A ``provisio sim`` manifest (or a credentials file of the same shape, ``oss.activation.drivers.credentials``)
lists devices with their profile and management endpoints. For each device: its platform is its profile
(a platform of the drivers' registry), its management address and port are the manifest's host and NETCONF
port (SNMP port without NETCONF), and its ports are read from the device itself with the SNMP driver
(IF-MIB ``ifDescr``, RFC 2863). Devices land at one site (default ``Discovered network``) with a device type
per (profile, interfaces) whose port templates are the interfaces read.

A re-import updates, never duplicates: a device is found by name; its management address, port and platform
are brought up to date and nothing else changes (0 rows written when nothing moved). One transaction per
device, so a device that cannot be read is a per-device error and the others still import.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from common.uow import UnitOfWork
from oss.site import service
from oss.site.models import DeviceRow, DeviceTypeRow, GeographicSiteRow

logger = logging.getLogger(__name__)

IF_DESCR = "1.3.6.1.2.1.2.2.1.2"
DEFAULT_SITE = "Discovered network"
MANUFACTURER = "Discovered"


@dataclass(frozen=True)
class Discovered:
    name: str
    platform: str
    host: str
    management_port: int | None
    interfaces: tuple[str, ...]


@dataclass(frozen=True)
class DeviceError:
    device: str
    reason: str


@dataclass
class ImportSummary:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    ports_created: int = 0
    errors: list[DeviceError] = field(default_factory=list)


class ImportFileError(Exception):
    """The manifest cannot be read at all."""


Reader = Callable[[Any], tuple[str, ...]]


def read_interfaces(endpoint: Any) -> tuple[str, ...]:
    """The device's interface names: over SNMP (IF-MIB ifDescr) where its platform offers SNMP, else from its
    NETCONF running configuration (ietf-interfaces, RFC 8343)."""
    from oss.activation.drivers.registry import driver_for, transports_of

    if "snmp" in transports_of(endpoint):
        with driver_for(endpoint, transport="snmp") as driver:
            return tuple(varbind.text for varbind in driver.walk(IF_DESCR))
    with driver_for(endpoint, transport="netconf") as driver:
        return interfaces_of_config(driver.get_config("running"))


def interfaces_of_config(config_xml: str) -> tuple[str, ...]:
    """The interface names of an ietf-interfaces configuration (``<interfaces><interface><name>``)."""
    from lxml import etree

    root = etree.fromstring(config_xml.encode(), parser=etree.XMLParser(resolve_entities=False, no_network=True))
    names = root.xpath("//*[local-name()='interfaces']/*[local-name()='interface']/*[local-name()='name']/text()")
    return tuple(str(name) for name in names)


def discover(manifest: Path, reader: Reader = read_interfaces) -> tuple[list[Discovered], list[DeviceError]]:
    from oss.activation.drivers.credentials import CredentialStore

    try:
        store = CredentialStore.from_file(manifest)
    except Exception as error:  # any unreadable file is the same answer to the operator
        raise ImportFileError(f"cannot read {manifest}: {error}") from error
    found, errors = [], []
    for endpoint in sorted(store, key=lambda entry: entry.name):
        name = endpoint.name
        try:
            interfaces = reader(endpoint)
        except Exception as error:  # a device that does not answer is that device's error
            errors.append(DeviceError(name, f"ports not read: {error}"))
            continue
        found.append(
            Discovered(
                name=name,
                platform=endpoint.profile,
                host=endpoint.host,
                management_port=endpoint.netconf_port or endpoint.snmp_port,
                interfaces=interfaces,
            )
        )
    return found, errors


def _site_id(uow_factory: Callable[[], UnitOfWork], site_name: str) -> str:
    with uow_factory() as tx:
        existing = tx.session.execute(select(GeographicSiteRow.id).where(GeographicSiteRow.name == site_name)).scalar()
    if existing is not None:
        return str(existing)
    return service.create_site(uow_factory(), {"name": site_name, "status": "active"}).id


def _type_id(uow_factory: Callable[[], UnitOfWork], device: Discovered) -> str:
    digest = hashlib.sha256("\n".join(device.interfaces).encode()).hexdigest()[:8]
    model = f"{device.platform} ({len(device.interfaces)} ports, {digest})"
    with uow_factory() as tx:
        existing = tx.session.execute(
            select(DeviceTypeRow.id).where(DeviceTypeRow.manufacturer == MANUFACTURER, DeviceTypeRow.model == model)
        ).scalar()
    if existing is not None:
        return str(existing)
    templates = [{"name": name, "portClass": "interface"} for name in device.interfaces]
    return service.create_device_type(
        uow_factory(), {"manufacturer": MANUFACTURER, "model": model, "height": 0, "portTemplate": templates}
    ).id


def import_devices(
    uow_factory: Callable[[], UnitOfWork],
    devices: Sequence[Discovered],
    *,
    site_name: str = DEFAULT_SITE,
    progress: Callable[[int], None] = lambda _n: None,
) -> ImportSummary:
    summary = ImportSummary()
    site_id = _site_id(uow_factory, site_name)
    for device in devices:
        try:
            _import_one(uow_factory, device, site_id, summary)
        except Exception as error:
            message = getattr(error, "message", None) or str(error)
            summary.errors.append(DeviceError(device.name, message))
        progress(1)
    return summary


def _import_one(
    uow_factory: Callable[[], UnitOfWork], device: Discovered, site_id: str, summary: ImportSummary
) -> None:
    with uow_factory() as tx:
        existing = tx.session.execute(select(DeviceRow).where(DeviceRow.name == device.name)).scalar()
        current = (
            (existing.id, existing.platform, existing.management_address, existing.management_port)
            if existing
            else None
        )
    if current is None:
        type_id = _type_id(uow_factory, device)
        service.create_device(
            uow_factory(),
            {"name": device.name, "deviceTypeId": type_id, "siteId": site_id, "platform": device.platform,
             "managementAddress": device.host, "managementPort": device.management_port, "status": "active"},
        )  # fmt: skip
        summary.created += 1
        summary.ports_created += len(device.interfaces)
        return
    device_id, platform, address, port = current
    if (platform, address, port) == (device.platform, device.host, device.management_port):
        summary.unchanged += 1
        return
    service.patch_device(
        uow_factory(),
        device_id,
        {"platform": device.platform, "managementAddress": device.host, "managementPort": device.management_port},
    )
    summary.updated += 1


def import_manifest(
    uow_factory: Callable[[], UnitOfWork],
    manifest: Path,
    *,
    site_name: str = DEFAULT_SITE,
    reader: Reader = read_interfaces,
    progress: Callable[[int], None] = lambda _n: None,
) -> ImportSummary:
    devices, errors = discover(manifest, reader)
    summary = import_devices(uow_factory, devices, site_name=site_name, progress=progress)
    summary.errors[:0] = errors
    return summary


# ------------------------------------------------------------------------------------------ NetBox device types


@dataclass
class TypeImportSummary:
    created: int = 0
    unchanged: int = 0
    errors: list[DeviceError] = field(default_factory=list)


def netbox_device_type(document: Mapping[str, Any]) -> dict[str, Any]:
    """A NetBox device-type library YAML document (``manufacturer``, ``model``, ``u_height``, ``interfaces``,
    ``front-ports`` with ``rear_port``, ``rear-ports``) as our DeviceType_Create body."""
    templates: list[dict[str, Any]] = []
    for entry in document.get("rear-ports") or []:
        templates.append({"name": str(entry["name"]), "type": entry.get("type"), "portClass": "rear"})
    for entry in document.get("front-ports") or []:
        templates.append({"name": str(entry["name"]), "type": entry.get("type"), "portClass": "front",
                          "rearPort": str(entry["rear_port"])})  # fmt: skip
    for entry in document.get("interfaces") or []:
        templates.append({"name": str(entry["name"]), "type": entry.get("type"), "portClass": "interface"})
    height = document.get("u_height", 1)
    return {
        "manufacturer": str(document["manufacturer"]),
        "model": str(document["model"]),
        "height": int(float(height)),  # NetBox writes 1.0 and allows half units; we count whole units
        "portTemplate": [{key: value for key, value in t.items() if value is not None} for t in templates],
    }


def import_device_types(uow_factory: Callable[[], UnitOfWork], paths: Sequence[Path]) -> TypeImportSummary:
    """NetBox device-type YAML files (one document each, or several ``---`` documents); re-runs change nothing."""
    import yaml

    summary = TypeImportSummary()
    for path in paths:
        try:
            documents = [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d]
        except (OSError, yaml.YAMLError) as error:
            summary.errors.append(DeviceError(str(path), f"not read: {error}"))
            continue
        for document in documents:
            try:
                body = netbox_device_type(document)
                with uow_factory() as tx:
                    existing = tx.session.execute(
                        select(DeviceTypeRow.id).where(
                            DeviceTypeRow.manufacturer == body["manufacturer"], DeviceTypeRow.model == body["model"]
                        )
                    ).scalar()
                if existing is not None:
                    summary.unchanged += 1
                    continue
                service.create_device_type(uow_factory(), body)
                summary.created += 1
            except (KeyError, TypeError, ValueError) as error:
                summary.errors.append(DeviceError(str(path), f"not a NetBox device type: {error!r}"))
            except Exception as error:
                summary.errors.append(DeviceError(str(path), getattr(error, "message", None) or str(error)))
    return summary
