"""Exceptions of the reservation context (TMF685), each with a stable code."""

from __future__ import annotations

from common.errors import Conflict, InvalidInput, NotFound


class ReservationNotFound(NotFound):
    code = "RESERVATION_NOT_FOUND"

    def __init__(self, reservation_id: str) -> None:
        super().__init__(f"No reservation with id {reservation_id!r}.")


class ResourcePoolNotFound(NotFound):
    code = "RESOURCE_POOL_NOT_FOUND"

    def __init__(self, pool_id: str) -> None:
        super().__init__(f"No resource pool with id {pool_id!r}.")


class UnknownItemType(InvalidInput):
    """A reservation item whose @type no inventory provides."""

    code = "UNKNOWN_RESERVATION_ITEM_TYPE"


class InvalidCriterion(InvalidInput):
    """A criterion of a reservation item with a value its type's schema does not allow."""

    code = "INVALID_CRITERION"


class InvalidReservation(InvalidInput):
    code = "INVALID_RESERVATION"


class InvalidStateTransition(Conflict):
    """A reservationState change the state machine does not allow (the details name the current state)."""

    code = "INVALID_STATE_TRANSITION"


class ReservationExpired(Conflict):
    """The hold's validFor ended before it was committed, extended or transferred."""

    code = "RESERVATION_EXPIRED"


class ReservationUnavailable(Conflict):
    """An item could not be held, so nothing was (all or nothing); the details say what is available."""

    code = "RESOURCE_UNAVAILABLE"
