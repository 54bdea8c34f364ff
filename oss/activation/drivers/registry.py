"""Which driver talks to which device: by device profile/platform, from the credentials entry.

``driver_for(endpoint)`` gives the driver for the device's *configuration* path (NETCONF where the
profile has it, else SNMP); ``driver_for(endpoint, transport="snmp")`` asks for the SNMP driver of a
device that has both. Tests and dry runs pass a :class:`~oss.activation.drivers.fake.FakeNetwork`
and get in-memory drivers with the same interface. New platforms register with :func:`register`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from oss.activation.drivers.base import Driver
from oss.activation.drivers.credentials import DeviceEndpoint
from oss.activation.drivers.errors import CapabilityMissing
from oss.activation.drivers.fake import FakeDriver, FakeNetwork
from oss.activation.drivers.netconf import NetconfDriver
from oss.activation.drivers.snmp import SnmpDriver

Transport = Literal["netconf", "snmp"]
Factory = Callable[..., Driver]

_FACTORIES: dict[Transport, Factory] = {"netconf": NetconfDriver, "snmp": SnmpDriver}

# Profile/platform -> transports it offers, the configuration path first.
PLATFORMS: dict[str, tuple[Transport, ...]] = {
    "pe-router": ("netconf", "snmp"),
    "cpe": ("netconf",),
    "legacy-switch": ("snmp",),
    "netconfd": ("netconf",),  # Debian's yuma123
    "snmpd": ("snmp",),  # Debian's net-snmp agent
}


def register(platform: str, transports: tuple[Transport, ...]) -> None:
    """Declare a platform (e.g. a vendor OS) and the transports it offers, configuration path first."""
    PLATFORMS[platform] = transports


def transports_of(endpoint: DeviceEndpoint) -> tuple[Transport, ...]:
    known = PLATFORMS.get(endpoint.profile)
    if known is not None:
        return known
    offered: list[Transport] = []
    if endpoint.netconf_port:
        offered.append("netconf")
    if endpoint.snmp_port:
        offered.append("snmp")
    return tuple(offered)


def driver_for(
    endpoint: DeviceEndpoint,
    transport: Transport | None = None,
    *,
    fake_network: FakeNetwork | None = None,
    **options: Any,
) -> Driver:
    """A new, not yet opened driver for ``endpoint``; ``options`` go to the driver (timeout_s, version)."""
    offered = transports_of(endpoint)
    chosen = transport or (offered[0] if offered else None)
    if chosen is None or chosen not in offered:
        raise CapabilityMissing(endpoint.name, "driver", f"transport {transport or 'any'}")
    if fake_network is not None:
        device = fake_network.devices[endpoint.name]
        snmp_version = options.pop("version", "v2c")
        return FakeDriver(device, endpoint, snmp_version=snmp_version, **options)
    return _FACTORIES[chosen](endpoint, **options)
