"""Exceptions of the physical inventory context, each with a stable code (``server/errors.py`` maps the category)."""

from __future__ import annotations

from common.errors import Conflict, InvalidInput, NotFound


class InvalidCoordinates(InvalidInput):
    """A latitude outside [-90, 90], a longitude outside [-180, 180], or a value that is not a finite number."""

    code = "INVALID_COORDINATES"


class InvalidPlace(InvalidInput):
    code = "INVALID_PLACE"


class InvalidRadiusSearch(InvalidInput):
    code = "INVALID_RADIUS_SEARCH"


class SiteNotFound(NotFound):
    code = "GEOGRAPHIC_SITE_NOT_FOUND"


class SiteInUse(Conflict):
    """A site that still holds racks or devices cannot be deleted."""

    code = "GEOGRAPHIC_SITE_IN_USE"
