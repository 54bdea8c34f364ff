"""Distances and bounding boxes of the radius search (oss.site.domain)."""

from __future__ import annotations

import random

import pytest

from oss.site import domain
from oss.site.errors import InvalidCoordinates


def test_haversine_of_known_pairs() -> None:
    paris, london = domain.point(48.8566, 2.3522), domain.point(51.5074, -0.1278)
    assert 343 < domain.haversine_km(paris, london) < 345
    assert domain.haversine_km(paris, paris) == 0
    assert abs(domain.haversine_km(domain.point(0, 0), domain.point(0, 180)) - 3.141592653589793 * 6371.0088) < 1e-6


def test_the_box_holds_every_point_within_the_radius() -> None:
    rng = random.Random(18)
    for _ in range(2000):
        centre = domain.point(rng.uniform(-90, 90), rng.uniform(-180, 180))
        radius = rng.choice([0.5, 10, 300, 3000, 12000])
        box = domain.bounding_box(centre, radius)
        other = domain.point(rng.uniform(-90, 90), rng.uniform(-180, 180))
        if domain.haversine_km(centre, other) <= radius:
            assert box.south <= other.latitude <= box.north
            if box.wraps:
                assert other.longitude >= box.west or other.longitude <= box.east
            else:
                assert box.west <= other.longitude <= box.east


@pytest.mark.parametrize(
    "lat, lon", [(90.01, 0), (0, -180.5), (float("inf"), 0), (float("nan"), 0), ("1", 2), (True, 0)]
)
def test_invalid_points(lat: object, lon: object) -> None:
    with pytest.raises(InvalidCoordinates):
        domain.point(lat, lon)


def test_interface_names_of_an_ietf_interfaces_config() -> None:
    from oss.site.importer import interfaces_of_config

    config = """<data xmlns="urn:ietf:params:xml:ns:netconf:base:1.0">
      <interfaces xmlns="urn:ietf:params:xml:ns:yang:ietf-interfaces">
        <interface><name>wan0</name><enabled>true</enabled></interface>
        <interface><name>lan0</name></interface>
      </interfaces></data>"""
    assert interfaces_of_config(config) == ("wan0", "lan0")
    assert interfaces_of_config("<data/>") == ()
