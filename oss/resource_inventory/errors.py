"""Exceptions of the resource inventory context (TMF639), each with a stable code."""

from __future__ import annotations

from common.errors import Conflict, InvalidInput, NotFound


class ResourceNotFound(NotFound):
    code = "RESOURCE_NOT_FOUND"

    def __init__(self, resource_id: str) -> None:
        super().__init__(f"No resource with id {resource_id!r}.")


class UnknownResourceType(InvalidInput):
    code = "UNKNOWN_RESOURCE_TYPE"


class ImmutableAttribute(InvalidInput):
    code = "IMMUTABLE_ATTRIBUTE"


class OwnedElsewhere(Conflict):
    """A TMF639 write to a resource another context owns; the code names that context (OWNED_BY_...)."""

    code = "OWNED_ELSEWHERE"


class InvalidAttributeValue(InvalidInput):
    code = "INVALID_ATTRIBUTE_VALUE"
