"""Reservations (TMF685 Resource Pool Management v1): holds on anything an inventory keeps.

Facade for other contexts:

- the provider contract of ``oss.reservation.provider`` (``ReservationProvider``, ``ItemRequest``,
  ``HoldOwner``, ``HeldResource``, ``Availability``, ``PoolView``, ``Unavailable``);
- ``register_provider(provider)`` from an inventory's facade (its item ``@type`` values become reservation
  item types), ``providers()`` to see them;
- ``create_reservation`` / ``patch_reservation`` / ``retrieve_reservation`` for orchestration (an order
  holding, committing, transferring);
- ``expire_due_reservations(uow_factory, now)``: the sweeper's use case.
"""

from oss.reservation.domain import (
    COMMITTED,
    EXPIRED,
    IN_DELIVERY_ROLE,
    RELEASED,
    RESERVED,
    ReservationData,
    ReservationItemData,
)
from oss.reservation.provider import (
    Availability,
    HeldResource,
    HoldOwner,
    ItemRequest,
    PoolView,
    ReservationProvider,
    Unavailable,
)
from oss.reservation.registry import providers, register_provider
from oss.reservation.service import (
    create_reservation,
    expire_due_reservations,
    patch_reservation,
    retrieve_reservation,
)

__all__ = [
    "COMMITTED",
    "EXPIRED",
    "IN_DELIVERY_ROLE",
    "RELEASED",
    "RESERVED",
    "Availability",
    "HeldResource",
    "HoldOwner",
    "ItemRequest",
    "PoolView",
    "ReservationData",
    "ReservationItemData",
    "ReservationProvider",
    "Unavailable",
    "create_reservation",
    "expire_due_reservations",
    "patch_reservation",
    "providers",
    "register_provider",
    "retrieve_reservation",
]
