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


class InvalidPlacement(InvalidInput):
    """A span outside the rack, a face that is not front/rear, a position without a rack."""

    code = "INVALID_RACK_PLACEMENT"


class InvalidDevice(InvalidInput):
    code = "INVALID_DEVICE"


class InvalidPortTemplate(InvalidInput):
    code = "INVALID_PORT_TEMPLATE"


class InvalidCable(InvalidInput):
    code = "INVALID_CABLE"


class UnknownPlatform(InvalidInput):
    """The platform names no driver of oss/activation/drivers/registry.py."""

    code = "UNKNOWN_PLATFORM"


class RackUnitsTaken(Conflict):
    """The span overlaps a device already placed on that face (``details.deviceId``)."""

    code = "RACK_UNITS_TAKEN"


class PortCabled(Conflict):
    """A port takes one cable (``details.cableId``)."""

    code = "PORT_ALREADY_CABLED"


class NameTaken(Conflict):
    code = "NAME_TAKEN"


class RackNotFound(NotFound):
    code = "RACK_NOT_FOUND"


class DeviceTypeNotFound(NotFound):
    code = "DEVICE_TYPE_NOT_FOUND"


class DeviceNotFound(NotFound):
    code = "DEVICE_NOT_FOUND"


class PortNotFound(NotFound):
    code = "PORT_NOT_FOUND"


class CableNotFound(NotFound):
    code = "CABLE_NOT_FOUND"
