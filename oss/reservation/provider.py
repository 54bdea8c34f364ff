"""The contract between the reservation API (TMF685) and the inventories that hold things.

``oss/reservation`` owns reservations, their items and their state; it never touches an inventory's tables.
Each inventory (numbers now; IP addresses, prefixes, VLANs, ports and CPE later) implements
``ReservationProvider`` in its own context and registers it from its facade::

    from oss.reservation import register_provider
    register_provider(NumberProvider())

Every method runs inside the caller's transaction (``session`` is the reservation use case's unit of work),
so holding a number and writing the reservation that holds it commit or roll back together. A provider
raises ``Unavailable`` (a ``Conflict``) when an item cannot be satisfied; the reservation use case then rolls
the whole reservation back (all-or-nothing) and answers 409 with what ``Unavailable.available`` says.
A ``pool_id`` the provider does not know is its to refuse: ``check`` and ``hold`` raise
``ResourcePoolNotFound`` (a 404, exported by the facade), so the hot path costs no extra pool lookup.

Items are typed: the reservation item's ``@type`` (e.g. ``TelephoneNumberReservationItem``) names the
provider and carries the criteria (count, pattern, category, contiguous, policy, a specific value) whose
schema the provider declares in ``item_schemas`` so they are validated, not free-form.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.orm import Session

from common.errors import Conflict


@dataclass(frozen=True)
class HoldOwner:
    """What holds a reservation (TMF716 ``relatedEntity``): a quote, an order item..."""

    reservation_id: str
    reservation_item_id: str
    related_entity: tuple[Mapping[str, Any], ...] = ()  # [{"id", "@referredType", "role"}]
    actor: str | None = None  # the caller's identity, for the held resources' history


@dataclass(frozen=True)
class ItemRequest:
    """One reservation item as the provider sees it: which pool, which type, how many, which criteria."""

    item_type: str  # the reservation item's @type, e.g. "TelephoneNumberReservationItem"
    pool_id: str | None  # the TMF685 resourcePool id (None: the provider chooses among its pools)
    quantity: int
    criteria: Mapping[str, Any] = field(default_factory=dict)  # validated against item_schemas[item_type]


@dataclass(frozen=True)
class HeldResource:
    """One thing a provider holds for an item; stored by the reservation context, handed back on commit/release."""

    resource_id: str  # the provider's stable id (also the TMF639 resource id when it has one)
    value: str  # what a user reads: "+442079460123", "192.0.2.7/32", a serial number
    resource_type: str  # TMF639 @type: "TelephoneNumber", "IPAddress", ...
    pool_id: str


@dataclass(frozen=True)
class Availability:
    """What could be held now for an item, without holding (availabilityCheck, and the body of a 409)."""

    pool_id: str | None
    requested: int
    available: int  # how many match the criteria now (a provider may cap the count it computes)
    sample: tuple[str, ...] = ()  # a few values that would be held, in the order the policy would pick


@dataclass(frozen=True)
class PoolView:
    """A pool as TMF685 ``resourcePool`` shows it (read only: the inventories own their pools)."""

    id: str
    name: str
    resource_type: str
    capacity: int
    available: int
    provider: str
    description: str | None = None


class Unavailable(Conflict):
    """An item cannot be satisfied now; ``available`` says what could be."""

    code = "RESOURCE_UNAVAILABLE"

    def __init__(self, message: str, availability: Availability, *, code: str | None = None) -> None:
        super().__init__(message, code=code, details={"available": availability.available})
        self.availability = availability


class ReservationProvider(Protocol):
    """What an inventory implements to take part in reservations. All methods join ``session``'s transaction."""

    name: str  # the context, e.g. "number_pool"

    @property
    def item_schemas(self) -> Mapping[str, Mapping[str, Any]]:
        """Reservation item ``@type`` -> JSON schema of its criteria (closed: unknown criteria are a 400)."""
        ...

    def pools(self, session: Session) -> Sequence[PoolView]: ...

    def pool(self, session: Session, pool_id: str) -> PoolView | None: ...

    def check(self, session: Session, request: ItemRequest) -> Availability: ...

    def hold(self, session: Session, request: ItemRequest, owner: HoldOwner, until: datetime) -> Sequence[HeldResource]:
        """Hold exactly ``request.quantity`` resources until ``until`` or raise ``Unavailable`` having held none."""
        ...

    def extend(self, session: Session, held: Sequence[HeldResource], owner: HoldOwner, until: datetime) -> None: ...

    def commit(self, session: Session, held: Sequence[HeldResource], owner: HoldOwner) -> None:
        """The held resources become assigned (in service) to what the reservation names."""
        ...

    def release(self, session: Session, held: Sequence[HeldResource], owner: HoldOwner, *, reason: str) -> None:
        """Let go: back to where they came from (``reason`` is "released" or "expired")."""
        ...
