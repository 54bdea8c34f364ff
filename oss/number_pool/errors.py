"""Exceptions of the number pool context, each with a stable code (``server/errors.py`` maps the category)."""

from __future__ import annotations

from common.errors import Conflict, InvalidInput, NotFound


class InvalidE164(InvalidInput):
    code = "INVALID_E164"


class InvalidNumberBlock(InvalidInput):
    code = "INVALID_NUMBER_BLOCK"


class InvalidPattern(InvalidInput):
    code = "INVALID_PATTERN"


class InvalidCategoryRule(InvalidInput):
    code = "INVALID_CATEGORY_RULE"


class InvalidCriteria(InvalidInput):
    code = "INVALID_CRITERIA"


class InvalidTransition(Conflict):
    """A lifecycle transition the number's current state does not allow (``details.currentState``)."""

    code = "INVALID_NUMBER_TRANSITION"


class BlockOverlap(Conflict):
    code = "NUMBER_BLOCK_OVERLAP"


class PoolNameTaken(Conflict):
    code = "NUMBER_POOL_NAME_TAKEN"


class PoolNotEmpty(Conflict):
    code = "NUMBER_POOL_NOT_EMPTY"


class PoolExhausted(Conflict):
    """Nothing in the pool matches the request: not merely every matching chunk locked by others."""

    code = "POOL_EXHAUSTED"


class NumberNotAvailable(Conflict):
    code = "NUMBER_NOT_AVAILABLE"


class GoldenNumberRefused(Conflict):
    code = "GOLDEN_NUMBER_NEEDS_FLAG"


class PoolNotFound(NotFound):
    code = "NUMBER_POOL_NOT_FOUND"


class BlockNotFound(NotFound):
    code = "NUMBER_BLOCK_NOT_FOUND"


class NumberNotFound(NotFound):
    code = "NUMBER_NOT_FOUND"
