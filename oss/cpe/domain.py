"""The CPE lifecycle, its TMF639 mapping, and the validation of serials and MAC addresses. Pure.

A unit moves ``inStock`` -> ``reserved`` (picked against a TMF685 hold) -> ``allocated`` (to an order item)
-> ``shipped`` (carrier, tracking reference) -> ``installed`` (customer site, port; the scanned serial must
match) -> ``active`` -> ``returned`` -> ``refurbished`` -> ``inStock`` again, or ``rma`` / ``scrapped``.
``TRANSITIONS`` is the whole graph: anything else is a 409 naming the current state.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import netaddr

from oss.cpe.errors import InvalidMac, InvalidSerial, InvalidTransition

IN_STOCK = "inStock"
RESERVED = "reserved"
ALLOCATED = "allocated"
SHIPPED = "shipped"
INSTALLED = "installed"
ACTIVE = "active"
RETURNED = "returned"
REFURBISHED = "refurbished"
RMA = "rma"
SCRAPPED = "scrapped"
STATES = (IN_STOCK, RESERVED, ALLOCATED, SHIPPED, INSTALLED, ACTIVE, RETURNED, REFURBISHED, RMA, SCRAPPED)

TRANSITIONS: Mapping[str, frozenset[str]] = {
    IN_STOCK: frozenset({RESERVED, RMA, SCRAPPED}),
    RESERVED: frozenset({ALLOCATED, IN_STOCK}),  # back to stock: the hold was released or expired
    ALLOCATED: frozenset({SHIPPED, IN_STOCK}),  # back to stock: the order item was cancelled before shipping
    SHIPPED: frozenset({INSTALLED, RETURNED}),  # returned: refused on delivery, or swapped out at install
    INSTALLED: frozenset({ACTIVE, RETURNED}),
    ACTIVE: frozenset({RETURNED}),
    RETURNED: frozenset({REFURBISHED, RMA, SCRAPPED}),
    REFURBISHED: frozenset({IN_STOCK, SCRAPPED}),
    RMA: frozenset({REFURBISHED, SCRAPPED}),  # a repaired unit comes back from the vendor
    SCRAPPED: frozenset(),
}

# What a client may ask for with a state change: ``reserved`` is reached only by picking against a hold.
REQUESTABLE = tuple(state for state in STATES if state != RESERVED)

# state -> (TMF639 resourceStatus, usageState); the README has the same table.
TMF639_STATUS: Mapping[str, tuple[str, str]] = {
    IN_STOCK: ("available", "idle"),
    RESERVED: ("reserved", "idle"),
    ALLOCATED: ("reserved", "active"),
    SHIPPED: ("reserved", "active"),
    INSTALLED: ("standby", "active"),
    ACTIVE: ("available", "busy"),
    RETURNED: ("suspended", "idle"),
    REFURBISHED: ("standby", "idle"),
    RMA: ("suspended", "idle"),
    SCRAPPED: ("unknown", "idle"),
}

# A hold's own states (one per TMF685 reservation item).
HELD = "held"
COMMITTED = "committed"
RELEASED = "released"
HOLD_STATES = (HELD, COMMITTED, RELEASED)

SERIAL_RE = re.compile(r"^[A-Z0-9][A-Z0-9._/-]{2,63}$")
MAX_QUANTITY = 1000


def check_transition(serial: str, current: str, target: str) -> None:
    """Refuse a transition the lifecycle does not have (409 naming the current state and what it allows)."""
    if target not in TRANSITIONS.get(current, frozenset()):
        allowed = sorted(TRANSITIONS.get(current, frozenset()))
        raise InvalidTransition(
            f"CPE unit {serial} is {current}; it cannot become {target} "
            f"(from {current}: {', '.join(allowed) or 'nothing, it is final'}).",
            details={"currentState": current, "requestedState": target, "allowedStates": allowed},
        )


def normalise_serial(raw: object) -> str:
    """A serial as stored: trimmed, upper case, 3-64 of letters, digits and ``. _ / -`` (400 otherwise)."""
    if not isinstance(raw, str):
        raise InvalidSerial(f"A serial number is a string, not {raw!r}.")
    serial = raw.strip().upper()
    if not SERIAL_RE.match(serial):
        raise InvalidSerial(
            f"Serial {raw!r} is not valid: 3 to 64 letters, digits, '.', '_', '/' or '-', "
            "starting with a letter or digit."
        )
    return serial


def normalise_mac(raw: object) -> str:
    """A MAC-48 as stored: lower case, colon separated (``00:1a:2b:3c:4d:5e``); any netaddr form is accepted,
    a multicast address is not (a CPE's interface address is unicast)."""
    if not isinstance(raw, str) or not raw.strip():
        raise InvalidMac(f"A MAC address is a string, not {raw!r}.")
    try:
        eui = netaddr.EUI(raw.strip(), version=48)
    except (netaddr.AddrFormatError, TypeError, ValueError):
        raise InvalidMac(f"{raw!r} is not a MAC-48 address.") from None
    if eui.words[0] & 1:
        raise InvalidMac(f"{raw!r} is a multicast MAC address, not a device's (unicast) one.")
    eui.dialect = netaddr.mac_unix_expanded
    return str(eui).lower()


@dataclass(frozen=True)
class ModelData:
    id: str
    manufacturer: str
    model: str
    name: str
    description: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class StockData:
    id: str
    model_id: str
    warehouse_id: str
    in_stock: int
    held: int
    threshold: int
    updated_at: datetime

    @property
    def available(self) -> int:
        return self.in_stock - self.held

    @property
    def low(self) -> bool:
        return self.available < self.threshold


@dataclass(frozen=True)
class UnitData:
    id: str
    model_id: str
    serial: str
    mac: str
    state: str
    warehouse_id: str
    hold_id: str | None
    reservation_id: str | None
    order_item_id: str | None
    carrier: str | None
    tracking_reference: str | None
    customer_site_id: str | None
    port_id: str | None
    has_resource: bool
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class HistoryData:
    id: int
    unit_id: str
    serial: str
    at: datetime
    from_state: str | None
    to_state: str
    actor: str
    reason: str | None
    reservation_id: str | None
    hold_id: str | None
    order_item_id: str | None
