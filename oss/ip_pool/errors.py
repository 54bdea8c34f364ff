"""Exceptions of the IPAM context, each with a stable code (``server/errors.py`` maps the category)."""

from __future__ import annotations

from common.errors import Conflict, InvalidInput, NotFound
from oss.ip_pool.domain import InvalidIp

__all__ = [
    "AddressNotFound",
    "AddressOutsidePrefix",
    "AddressTaken",
    "DuplicatePrefix",
    "InvalidAllocation",
    "InvalidIp",
    "PoolExhausted",
    "PoolNameTaken",
    "PoolNotFound",
    "PoolShrink",
    "PrefixInUse",
    "PrefixNotFound",
    "VrfInUse",
    "VrfNameTaken",
    "VrfNotFound",
]


class InvalidAllocation(InvalidInput):
    code = "INVALID_ALLOCATION"


class AddressOutsidePrefix(InvalidInput):
    """An address no prefix of its VRF holds (NetBox accepts these; we do not: an address belongs to a prefix)."""

    code = "ADDRESS_OUTSIDE_PREFIX"


class DuplicatePrefix(Conflict):
    code = "DUPLICATE_PREFIX"


class AddressTaken(Conflict):
    code = "IP_ADDRESS_TAKEN"


class PoolExhausted(Conflict):
    """Nothing free in the prefix matches: never because another transaction holds the lock (it is waited for)."""

    code = "POOL_EXHAUSTED"


class PrefixInUse(Conflict):
    code = "PREFIX_IN_USE"


class PoolShrink(Conflict):
    code = "POOL_BELOW_ALLOCATED"


class VrfInUse(Conflict):
    code = "VRF_IN_USE"


class VrfNameTaken(Conflict):
    code = "VRF_NAME_TAKEN"


class PoolNameTaken(Conflict):
    code = "IP_POOL_NAME_TAKEN"


class VrfNotFound(NotFound):
    code = "VRF_NOT_FOUND"


class PrefixNotFound(NotFound):
    code = "IP_PREFIX_NOT_FOUND"


class AddressNotFound(NotFound):
    code = "IP_ADDRESS_NOT_FOUND"


class PoolNotFound(NotFound):
    code = "IP_POOL_NOT_FOUND"
