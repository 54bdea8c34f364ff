"""Reservations (TMF685 Resource Pool Management v1): holds on anything an inventory keeps.

Facade for other contexts: the provider contract of ``oss.reservation.provider``.
"""

from oss.reservation.provider import (
    Availability,
    HeldResource,
    HoldOwner,
    ItemRequest,
    PoolView,
    ReservationProvider,
    Unavailable,
)

__all__ = [
    "Availability",
    "HeldResource",
    "HoldOwner",
    "ItemRequest",
    "PoolView",
    "ReservationProvider",
    "Unavailable",
]
