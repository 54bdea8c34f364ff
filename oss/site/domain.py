"""Rules of the physical inventory without storage: coordinates, distances, the site's point in ``place``.

Distances are great-circle distances on a sphere of the mean Earth radius (haversine, IUGG mean radius
6371.0088 km): within 0.5 % of the ellipsoid everywhere, which is what "sites within 10 km" needs. A radius
search narrows on a latitude/longitude bounding box (indexed columns, on every backend) and orders the
candidates by haversine distance.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from oss.site.errors import InvalidCoordinates, InvalidPlace, InvalidPlacement, InvalidPortTemplate, InvalidRadiusSearch

EARTH_RADIUS_KM = 6371.0088
MAX_RADIUS_KM = 20_000.0  # half the circumference: every point of the Earth is within it
SITE_STATUSES = ("planned", "underConstruction", "cancelled", "active", "inactive", "former")
GEOJSON_POINT = "Point"


@dataclass(frozen=True)
class Point:
    latitude: float
    longitude: float

    def ewkt(self) -> str:
        """The point as PostGIS extended WKT (longitude first, WGS 84)."""
        return f"SRID=4326;POINT({self.longitude!r} {self.latitude!r})"


@dataclass(frozen=True)
class BoundingBox:
    """Latitude and longitude ranges; ``wraps`` when the box crosses the antimeridian (two longitude ranges:
    ``west..180`` and ``-180..east``)."""

    south: float
    north: float
    west: float
    east: float

    @property
    def wraps(self) -> bool:
        return self.west > self.east


def _finite(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidCoordinates(f"{name} must be a number, not {value!r}.")
    number = float(value)
    if not math.isfinite(number):
        raise InvalidCoordinates(f"{name} must be a finite number.")
    return number


def point(latitude: Any, longitude: Any) -> Point:
    """A checked WGS 84 point (400 INVALID_COORDINATES otherwise)."""
    lat = _finite(latitude, "latitude")
    lon = _finite(longitude, "longitude")
    if not -90.0 <= lat <= 90.0:
        raise InvalidCoordinates(f"latitude {lat} is outside [-90, 90].")
    if not -180.0 <= lon <= 180.0:
        raise InvalidCoordinates(f"longitude {lon} is outside [-180, 180].")
    return Point(lat, lon)


def is_geojson_point(entry: Mapping[str, Any]) -> bool:
    return entry.get("type") == GEOJSON_POINT or "coordinates" in entry


def point_of_places(places: Sequence[Mapping[str, Any]] | None) -> Point | None:
    """The site's point: the one GeoJSON Point among ``place`` (``coordinates`` = [longitude, latitude])."""
    points = [entry for entry in places or () if is_geojson_point(entry)]
    if not points:
        return None
    if len(points) > 1:
        raise InvalidPlace("A site has one location: give at most one GeoJSON Point in place.")
    entry = points[0]
    if entry.get("type") != GEOJSON_POINT:
        raise InvalidPlace("A place entry with coordinates is a GeoJSON Point: type must be 'Point'.")
    coordinates = entry.get("coordinates")
    if not isinstance(coordinates, (list, tuple)) or len(coordinates) not in (2, 3):
        raise InvalidCoordinates("coordinates is [longitude, latitude] (RFC 7946: longitude first).")
    return point(coordinates[1], coordinates[0])


def haversine_km(a: Point, b: Point) -> float:
    lat1, lat2 = math.radians(a.latitude), math.radians(b.latitude)
    dlat = lat2 - lat1
    dlon = math.radians(b.longitude - a.longitude)
    h = math.sin(dlat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def radius(value: Any) -> float:
    number = _finite(value, "radius")
    if not 0.0 <= number <= MAX_RADIUS_KM:
        raise InvalidRadiusSearch(f"radius is in km, between 0 and {MAX_RADIUS_KM:g}.")
    return number


def bounding_box(centre: Point, radius_km: float) -> BoundingBox:
    """The smallest latitude/longitude box holding every point within ``radius_km`` of ``centre`` (a box that
    reaches a pole spans every longitude)."""
    angular = radius_km / EARTH_RADIUS_KM
    lat = math.radians(centre.latitude)
    south, north = lat - angular, lat + angular
    if angular >= math.pi / 2 or south <= -math.pi / 2 or north >= math.pi / 2:
        return BoundingBox(max(math.degrees(south), -90.0), min(math.degrees(north), 90.0), -180.0, 180.0)
    delta = math.asin(min(1.0, math.sin(angular) / math.cos(lat)))
    west = math.degrees(math.radians(centre.longitude) - delta)
    east = math.degrees(math.radians(centre.longitude) + delta)
    if west < -180.0:
        west += 360.0
    if east > 180.0:
        east -= 360.0
    return BoundingBox(math.degrees(south), math.degrees(north), west, east)


def check_status(status: Any) -> str:
    if status not in SITE_STATUSES:
        raise InvalidPlace(f"status is one of {', '.join(SITE_STATUSES)}.")
    return str(status)


__all__ = [
    "EARTH_RADIUS_KM",
    "MAX_RADIUS_KM",
    "SITE_STATUSES",
    "BoundingBox",
    "Point",
    "bounding_box",
    "check_status",
    "haversine_km",
    "is_geojson_point",
    "point",
    "point_of_places",
    "radius",
]


# ------------------------------------------------------------------------------------------ racks, ports

FACES = ("front", "rear")
PORT_CLASSES = ("interface", "front", "rear")
ADMIN_STATES = ("up", "down")
DEVICE_STATUSES = ("planned", "staged", "active", "offline", "decommissioning")
MAX_RACK_HEIGHT = 100
MAX_PORT_TEMPLATES = 1024


@dataclass(frozen=True)
class PortTemplate:
    name: str
    type: str | None
    port_class: str
    rear_port: str | None
    speed: int | None


def parse_port_templates(raw: Sequence[Mapping[str, Any]]) -> tuple[PortTemplate, ...]:
    """A device type's port templates: names unique, a front port names a rear port of the same type."""
    if len(raw) > MAX_PORT_TEMPLATES:
        raise InvalidPortTemplate(f"A device type has at most {MAX_PORT_TEMPLATES} port templates.")
    templates = []
    for entry in raw:
        port_class = entry.get("portClass", "interface")
        if port_class not in PORT_CLASSES:
            raise InvalidPortTemplate(f"portClass is one of {', '.join(PORT_CLASSES)}.")
        rear = entry.get("rearPort")
        if (port_class == "front") != (rear is not None):
            raise InvalidPortTemplate(
                f"Port {entry.get('name')!r}: a front port names its rearPort, no other port does."
            )
        templates.append(PortTemplate(str(entry["name"]), entry.get("type"), port_class, rear, entry.get("speed")))
    names = [template.name for template in templates]
    duplicate = next((name for name in names if names.count(name) > 1), None)
    if duplicate is not None:
        raise InvalidPortTemplate(f"Port name {duplicate!r} appears twice.")
    rears = {template.name for template in templates if template.port_class == "rear"}
    for template in templates:
        if template.rear_port is not None and template.rear_port not in rears:
            raise InvalidPortTemplate(
                f"Front port {template.name!r} names rear port {template.rear_port!r}, which is not a rear port here."
            )
    return tuple(templates)


def span(position: int, height: int) -> range:
    """The units a device of ``height`` U placed at ``position`` (its lowest unit) occupies."""
    return range(position, position + height)


def check_span(position: int, height: int, rack_height: int) -> range:
    if height < 1:
        raise InvalidPlacement("A device type of height 0 takes no rack unit: give no position.")
    if position < 1 or position + height - 1 > rack_height:
        raise InvalidPlacement(
            f"Units {position}..{position + height - 1} are outside the rack's 1..{rack_height}.",
        )
    return span(position, height)
