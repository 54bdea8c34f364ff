"""ETag, If-Match and If-None-Match on TMF639 resources (issue 14 item 14; RFC 9110 §8.8.3, §13).

Every response is validated against the official TMF639 v4 file (``tmf`` fixture): the new headers are
additions, and 304/412/428 are statuses HTTP defines for conditional requests.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from server import deps
from tests.api.resource_inventory.helpers_tmf639 import (
    BASE,
    OfficialSpecClient,
    assert_tmf_error,
    counts,
    new_resource,
    outbox,
)


def test_every_representation_of_a_resource_carries_its_version_as_a_strong_etag(tmf: OfficialSpecClient) -> None:
    created = tmf.post(f"{BASE}/resource", json={"name": "pe1"})
    assert created.headers["etag"] == '"1"'
    path = f"{BASE}/resource/{created.json()['id']}"
    assert tmf.get(path).headers["etag"] == '"1"'
    patched = tmf.patch(path, {"description": "core"})
    assert patched.headers["etag"] == '"2"'
    assert tmf.get(path).headers["etag"] == '"2"'


def test_a_patch_that_changes_nothing_keeps_the_etag(tmf: OfficialSpecClient) -> None:
    resource = new_resource(tmf, description="same")
    patched = tmf.patch(f"{BASE}/resource/{resource['id']}", {"description": "same"}, headers={"If-Match": '"1"'})
    assert patched.status_code == 200 and patched.headers["etag"] == '"1"'


def test_a_fields_projection_has_an_etag_of_its_own(tmf: OfficialSpecClient) -> None:
    path = f"{BASE}/resource/{new_resource(tmf)['id']}"
    queries = ("", "?fields=name", "?fields=category")
    full, name_only, other = (tmf.get(path + query).headers["etag"] for query in queries)
    assert len({full, name_only, other}) == 3
    assert tmf.get(path + "?fields=name").headers["etag"] == name_only  # stable
    assert tmf.get(path + "?fields=name", headers={"If-None-Match": name_only}).status_code == 304
    assert tmf.get(path, headers={"If-None-Match": name_only}).status_code == 200


@pytest.mark.parametrize("method", ["PATCH", "DELETE"])
def test_a_stale_if_match_is_a_412_and_changes_nothing(tmf: OfficialSpecClient, clean_db: Engine, method: str) -> None:
    resource = new_resource(tmf)
    path = f"{BASE}/resource/{resource['id']}"
    tmf.patch(path, {"description": "by someone else"})  # now "2"
    before = counts(clean_db)
    if method == "PATCH":
        response = tmf.patch(path, {"description": "mine"}, headers={"If-Match": '"1"'})
    else:
        response = tmf.delete(path, headers={"If-Match": '"1"'})
    body = assert_tmf_error(response, 412, "PRECONDITION_FAILED")
    assert '"2"' in body["message"]
    assert counts(clean_db) == before
    assert tmf.get(path).json()["description"] == "by someone else"


@pytest.mark.parametrize(
    "if_match", ['"2"', '"9", "2"', '"9",,  "2"', "*"], ids=["current", "in-a-list", "empty-elements", "star"]
)
def test_a_matching_if_match_lets_the_change_through(tmf: OfficialSpecClient, if_match: str) -> None:
    path = f"{BASE}/resource/{new_resource(tmf)['id']}"
    tmf.patch(path, {"description": "v2"})
    patched = tmf.patch(path, {"description": "v3"}, headers={"If-Match": if_match})
    assert patched.status_code == 200 and patched.headers["etag"] == '"3"'
    assert tmf.delete(path, headers={"If-Match": '"3"'}).status_code == 204


def test_if_match_compares_strongly_so_a_weak_tag_never_matches(tmf: OfficialSpecClient) -> None:
    path = f"{BASE}/resource/{new_resource(tmf)['id']}"
    response = tmf.patch(path, {"description": "x"}, headers={"If-Match": 'W/"1"'})
    assert_tmf_error(response, 412, "PRECONDITION_FAILED")


@pytest.mark.parametrize("value", ["1", '"1', "W/1", '"1" "2"', "", ","])
def test_a_malformed_if_match_is_a_400_naming_the_header(tmf: OfficialSpecClient, value: str) -> None:
    path = f"{BASE}/resource/{new_resource(tmf)['id']}"
    response = tmf.patch(path, {"description": "x"}, headers={"If-Match": value})
    body = assert_tmf_error(response, 400, "INVALID_ENTITY_TAG")
    assert "If-Match" in body["message"]


def test_if_match_on_an_unknown_resource_is_still_a_404(tmf: OfficialSpecClient) -> None:
    # RFC 9110 §13.2.1: a failure detected before the preconditions takes precedence.
    assert_tmf_error(tmf.delete(f"{BASE}/resource/no-such-id", headers={"If-Match": '"1"'}), 404)


def test_if_none_match_answers_304_without_content_while_the_resource_is_unchanged(tmf: OfficialSpecClient) -> None:
    path = f"{BASE}/resource/{new_resource(tmf)['id']}"
    for value in ('"1"', 'W/"1"', '"0", "1"', "*"):
        not_modified = tmf.get(path, headers={"If-None-Match": value})
        assert not_modified.status_code == 304, value
        assert not_modified.headers["etag"] == '"1"' and not_modified.content == b""
    tmf.patch(path, {"description": "changed"})
    modified = tmf.get(path, headers={"If-None-Match": '"1"'})
    assert modified.status_code == 200 and modified.headers["etag"] == '"2"'
    assert modified.json()["description"] == "changed"


def test_if_none_match_star_on_a_write_is_a_412(tmf: OfficialSpecClient) -> None:
    path = f"{BASE}/resource/{new_resource(tmf)['id']}"
    assert_tmf_error(tmf.patch(path, {"description": "x"}, headers={"If-None-Match": "*"}), 412)


def test_stale_if_match_on_patch_publishes_no_event(tmf: OfficialSpecClient, clean_db: Engine) -> None:
    path = f"{BASE}/resource/{new_resource(tmf)['id']}"
    tmf.patch(path, {"description": "v2"})
    events_before = len(outbox(clean_db))
    tmf.patch(path, {"resourceStatus": "reserved"}, headers={"If-Match": '"1"'})
    assert len(outbox(clean_db)) == events_before


@pytest.fixture
def if_match_required() -> Iterator[None]:
    container = deps.container()
    previous = container.settings
    container.settings = dataclasses.replace(previous, require_if_match=True)
    try:
        yield
    finally:
        container.settings = previous


@pytest.mark.usefixtures("if_match_required")
def test_required_if_match_makes_a_blind_write_a_428(tmf: OfficialSpecClient, clean_db: Engine) -> None:
    path = f"{BASE}/resource/{new_resource(tmf)['id']}"
    before = counts(clean_db)
    assert_tmf_error(tmf.patch(path, {"description": "blind"}), 428, "PRECONDITION_REQUIRED")
    assert_tmf_error(tmf.delete(path), 428, "PRECONDITION_REQUIRED")
    assert counts(clean_db) == before
    assert tmf.patch(path, {"description": "seen"}, headers={"If-Match": '"1"'}).status_code == 200
    assert tmf.delete(path, headers={"If-Match": '"2"'}).status_code == 204
