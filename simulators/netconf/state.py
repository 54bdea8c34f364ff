"""State data (config false) that ``<get>`` returns next to running: RFC 8343 interface state."""

from __future__ import annotations

import copy
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from simulators.device import Device

_BOOT_TIME = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def phys_address(device_name: str, if_index: int) -> str:
    """A stable locally administered MAC address per device and interface."""
    seed = sum(device_name.encode()) & 0xFF
    return f"02:00:{seed:02x}:{(if_index >> 16) & 0xFF:02x}:{(if_index >> 8) & 0xFF:02x}:{if_index & 0xFF:02x}"


def with_state(device: Device) -> dict[str, Any]:
    """Running plus oper-status, admin-status, if-index, phys-address, statistics of each interface."""
    data = copy.deepcopy(device.running)
    for interface in data.get("ietf-interfaces:interfaces", {}).get("interface", []):
        index = device.if_index(interface["name"])
        up = interface.get("enabled", True)
        interface.update(
            {
                "admin-status": "up" if up else "down",
                "oper-status": "up" if up else "down",
                "if-index": index,
                "phys-address": phys_address(device.name, index),
                "statistics": {"discontinuity-time": _BOOT_TIME},
            }
        )
    return data
