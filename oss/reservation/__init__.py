"""Reservations (TMF685 Resource Pool Management v1): holds on anything an inventory keeps.

Facade for other contexts:

- the provider contract of ``oss.reservation.provider`` (``ReservationProvider``, ``ItemRequest``,
  ``HoldOwner``, ``HeldResource``, ``Availability``, ``PoolView``, ``Unavailable``);
- ``register_provider(provider)`` from an inventory's facade (its item ``@type`` values become reservation
  item types), ``providers()`` to see them;
- ``create_reservation`` / ``patch_reservation`` / ``retrieve_reservation`` for orchestration (an order
  holding, committing, transferring);
- ``expire_due_reservations(uow_factory, now)``: the sweeper's use case, registered here with the
  durable-step kernel (``common.steps``) as the ``reservation.expire`` sweeper, every 30 s. A commit never
  depends on it: expiry is decided under the row lock at commit time.
"""

from datetime import timedelta

from common import steps
from oss.reservation.domain import (
    COMMITTED,
    EXPIRED,
    IN_DELIVERY_ROLE,
    RELEASED,
    RESERVED,
    ReservationData,
    ReservationItemData,
)
from oss.reservation.errors import ResourcePoolNotFound
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

EXPIRY_SWEEPER = "reservation.expire"
EXPIRY_SWEEP_EVERY = timedelta(seconds=30)
steps.register_sweeper(EXPIRY_SWEEPER, EXPIRY_SWEEP_EVERY, expire_due_reservations)

__all__ = [
    "COMMITTED",
    "EXPIRED",
    "EXPIRY_SWEEPER",
    "EXPIRY_SWEEP_EVERY",
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
    "ResourcePoolNotFound",
    "Unavailable",
    "create_reservation",
    "expire_due_reservations",
    "patch_reservation",
    "providers",
    "register_provider",
    "retrieve_reservation",
]
