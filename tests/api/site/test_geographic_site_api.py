"""TMF674 geographic sites (issue 18 "Sites and addresses"): the point as a GeoJSON place entry stored through
geoalchemy2 and as indexed latitude/longitude, radius search nearest first on every backend, 400 on invalid
coordinates, events including GeographicSiteStatusChangeEvent."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select, text
from starlette.testclient import TestClient

from oss.site.models import GeographicSiteRow
from tests.api.site.helpers_site import MERGE, SITES, event_types, new_site, point

# Distances by haversine on the mean Earth radius (6371.0088 km)
PARIS, VERSAILLES, ORLY, LYON = (48.8566, 2.3522), (48.8049, 2.1204), (48.7262, 2.3652), (45.7640, 4.8357)


def test_create_retrieve_with_the_point_as_a_geojson_place(client: TestClient, clean_db: Engine) -> None:
    site = new_site(client, code="PAR-1", status="active", relatedParty=[{"id": "o1", "@referredType": "Organization"}])
    assert site["@type"] == "GeographicSite" and site["status"] == "active" and site["code"] == "PAR-1"
    assert site["href"].endswith(f"{SITES}/geographicSite/{site['id']}")
    assert site["place"] == [point(*PARIS)]
    retrieved = client.get(f"{SITES}/geographicSite/{site['id']}")
    assert retrieved.status_code == 200 and retrieved.json() == site
    assert client.get(f"{SITES}/geographicSite/{site['id']}?fields=name").json() == {
        "id": site["id"], "href": site["href"], "@type": "GeographicSite", "name": "Paris CO"}  # fmt: skip
    with clean_db.connect() as connection:
        row = connection.execute(select(GeographicSiteRow.latitude, GeographicSiteRow.longitude)).one()
        assert (row.latitude, row.longitude) == PARIS
        if clean_db.dialect.name == "postgresql":  # a PostGIS geometry, longitude first
            wkt = connection.scalar(text("SELECT ST_AsText(point) || ' ' || ST_SRID(point) FROM geographic_site"))
            assert wkt == "POINT(2.3522 48.8566) 4326"


def test_a_site_without_a_point_is_kept_and_never_found_by_radius(client: TestClient, clean_db: Engine) -> None:
    site = new_site(client, latitude=None, place=[{"id": "addr-1", "@referredType": "GeographicAddress"}])
    assert site["status"] == "planned" and site["place"] == [{"id": "addr-1", "@referredType": "GeographicAddress"}]
    found = client.get(f"{SITES}/geographicSite?latitude=0&longitude=0&radius=20000")
    assert found.status_code == 200 and found.json() == []


@pytest.mark.parametrize(
    "coordinates",
    [[2.35, 90.5], [2.35, -91], [180.1, 10], [-181, 10], [10], [1, 2, 3, 4]],
    ids=["lat>90", "lat<-90", "lon>180", "lon<-180", "one", "four"],
)
def test_invalid_coordinates_are_a_400(client: TestClient, clean_db: Engine, coordinates: list[float]) -> None:
    response = client.post(
        f"{SITES}/geographicSite", json={"name": "x", "place": [{"type": "Point", "coordinates": coordinates}]}
    )
    assert response.status_code == 400, response.text
    assert client.get(f"{SITES}/geographicSite").json() == []


def test_out_of_range_coordinates_name_the_code(client: TestClient, clean_db: Engine) -> None:
    response = client.post(f"{SITES}/geographicSite", json={"name": "x", "place": [point(91, 0)]})
    assert response.status_code == 400 and response.json()["code"] == "INVALID_COORDINATES"
    assert "latitude" in response.json()["message"]
    two = client.post(f"{SITES}/geographicSite", json={"name": "x", "place": [point(1, 1), point(2, 2)]})
    assert two.status_code == 400 and two.json()["code"] == "INVALID_PLACE"


def test_radius_search_nearest_first_with_distance(client: TestClient, clean_db: Engine) -> None:
    ids = {name: new_site(client, name, *where)["id"] for name, where in
           {"paris": PARIS, "versailles": VERSAILLES, "orly": ORLY, "lyon": LYON}.items()}  # fmt: skip
    found = client.get(f"{SITES}/geographicSite?latitude=48.8566&longitude=2.3522&radius=30")
    assert found.status_code == 200, found.text
    assert [site["id"] for site in found.json()] == [ids["paris"], ids["orly"], ids["versailles"]]
    assert found.headers["X-Total-Count"] == "3"
    distances = [site["distance"] for site in found.json()]
    assert distances[0] == 0 and 14 < distances[1] < 15 and 17 < distances[2] < 18
    narrow = client.get(f"{SITES}/geographicSite?latitude=48.8566&longitude=2.3522&radius=16&limit=1&offset=1")
    assert [site["id"] for site in narrow.json()] == [ids["orly"]] and narrow.headers["X-Total-Count"] == "2"
    everything = client.get(f"{SITES}/geographicSite?latitude=48.8566&longitude=2.3522&radius=500")
    assert [site["id"] for site in everything.json()][-1] == ids["lyon"]
    filtered = client.get(f"{SITES}/geographicSite?latitude=48.8566&longitude=2.3522&radius=500&name=lyon")
    assert [site["id"] for site in filtered.json()] == [ids["lyon"]]


def test_radius_search_across_the_antimeridian_and_near_a_pole(client: TestClient, clean_db: Engine) -> None:
    fiji_east = new_site(client, "east", -17.0, 179.9)["id"]
    fiji_west = new_site(client, "west", -17.0, -179.9)["id"]
    new_site(client, "far", -17.0, 170.0)
    found = client.get(f"{SITES}/geographicSite?latitude=-17&longitude=179.95&radius=50").json()
    assert sorted(site["id"] for site in found) == sorted([fiji_east, fiji_west])
    station = new_site(client, "pole", 89.9, 10.0)["id"]
    opposite = client.get(f"{SITES}/geographicSite?latitude=89.9&longitude=-170&radius=30").json()
    assert [site["id"] for site in opposite] == [station]


@pytest.mark.parametrize(
    "query",
    ["latitude=48&longitude=2", "latitude=91&longitude=2&radius=1", "latitude=48&longitude=2&radius=-1",
     "latitude=48&longitude=2&radius=20001", "latitude=nan&longitude=2&radius=1", "radius=5"],
)  # fmt: skip
def test_an_invalid_radius_search_is_a_400(client: TestClient, clean_db: Engine, query: str) -> None:
    response = client.get(f"{SITES}/geographicSite?{query}")
    assert response.status_code == 400, response.text


def test_patch_moves_the_point_and_a_status_change_has_its_event(client: TestClient, clean_db: Engine) -> None:
    site = new_site(client)
    moved = client.patch(f"{SITES}/geographicSite/{site['id']}", json={"place": [point(*LYON)]}, headers=MERGE)
    assert moved.status_code == 200, moved.text
    near_lyon = client.get(f"{SITES}/geographicSite?latitude=45.764&longitude=4.8357&radius=1").json()
    assert [found["id"] for found in near_lyon] == [site["id"]]
    activated = client.patch(f"{SITES}/geographicSite/{site['id']}", json={"status": "active"}, headers=MERGE)
    assert activated.json()["status"] == "active"
    bad = client.patch(f"{SITES}/geographicSite/{site['id']}", json={"place": [point(0, 200)]}, headers=MERGE)
    assert bad.status_code == 400
    assert client.get(f"{SITES}/geographicSite/{site['id']}").json()["place"] == [point(*LYON)]
    assert client.delete(f"{SITES}/geographicSite/{site['id']}").status_code == 204
    assert client.get(f"{SITES}/geographicSite/{site['id']}").status_code == 404
    assert event_types(clean_db, "geographicSiteManagement") == [
        "GeographicSiteCreateEvent",
        "GeographicSiteAttributeValueChangeEvent",
        "GeographicSiteStatusChangeEvent",
        "GeographicSiteDeleteEvent",
    ]


def test_list_filters_and_unknown_site_is_404(client: TestClient, clean_db: Engine) -> None:
    new_site(client, "a", status="active")
    new_site(client, "b")
    assert [site["name"] for site in client.get(f"{SITES}/geographicSite?status=active").json()] == ["a"]
    missing = client.get(f"{SITES}/geographicSite/nope")
    assert missing.status_code == 404 and missing.json()["code"] == "GEOGRAPHIC_SITE_NOT_FOUND"
