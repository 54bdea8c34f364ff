"""Exceptions of the CPE context, each with a stable code (``server/errors.py`` maps the category)."""

from __future__ import annotations

from common.errors import Conflict, InvalidInput, NotFound


class InvalidSerial(InvalidInput):
    code = "INVALID_SERIAL"


class InvalidMac(InvalidInput):
    code = "INVALID_MAC"


class InvalidCpeInput(InvalidInput):
    code = "INVALID_CPE_INPUT"


class InvalidCriteria(InvalidInput):
    code = "INVALID_CRITERIA"


class CpeModelNotFound(NotFound):
    code = "CPE_MODEL_NOT_FOUND"


class CpeUnitNotFound(NotFound):
    code = "CPE_UNIT_NOT_FOUND"


class StockLevelNotFound(NotFound):
    code = "STOCK_LEVEL_NOT_FOUND"


class CpeHoldNotFound(NotFound):
    code = "CPE_HOLD_NOT_FOUND"


class CpeModelTaken(Conflict):
    code = "CPE_MODEL_TAKEN"


class SerialTaken(Conflict):
    code = "CPE_SERIAL_TAKEN"


class MacTaken(Conflict):
    code = "CPE_MAC_TAKEN"


class InvalidTransition(Conflict):
    """A lifecycle transition the unit's current state does not allow (``details.currentState``)."""

    code = "INVALID_CPE_TRANSITION"


class SerialMismatch(Conflict):
    """The serial scanned at install is neither the unit's nor a swappable unit of the same model."""

    code = "CPE_SERIAL_MISMATCH"


class HoldExhausted(Conflict):
    """Every unit a hold counted has been picked already, or the hold is no longer held."""

    code = "CPE_HOLD_EXHAUSTED"


class OutOfStock(Conflict):
    """Fewer units of the model are free at the warehouse than asked for (``details`` names model and stock)."""

    code = "CPE_OUT_OF_STOCK"
