"""Exceptions of the catalog context (TMF620/633/634), each with a stable code."""

from __future__ import annotations

from common.errors import Conflict, InvalidInput, NotFound


class CatalogEntityNotFound(NotFound):
    code = "CATALOG_ENTITY_NOT_FOUND"


class VersionNotFound(NotFound):
    code = "CATALOG_VERSION_NOT_FOUND"


class VersionExists(Conflict):
    """A change names a version that already exists with other content: a sold version never changes."""

    code = "CATALOG_VERSION_EXISTS"


class ImmutableAttribute(InvalidInput):
    code = "IMMUTABLE_ATTRIBUTE"


class InvalidCatalogFile(InvalidInput):
    code = "INVALID_CATALOG_FILE"


class InvalidDecomposition(InvalidInput):
    """The offering or its characteristics cannot be decomposed (unknown spec, missing mandatory value)."""

    code = "INVALID_DECOMPOSITION"
