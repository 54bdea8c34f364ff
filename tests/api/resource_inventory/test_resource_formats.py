"""Every format the served documents declare is enforced on request bodies (issue 14 item 20): a value that
breaks its ``format`` is a 400 TMF Error naming the field, and changes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from tests.api.resource_inventory.helpers_tmf639 import BASE, OfficialSpecClient, assert_tmf_error, counts, new_resource


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x", "resourceSpecification": {"id": "s", "href": "not a uri"}}, "resourceSpecification.href"),
        ({"name": "x", "@schemaLocation": "AAA"}, "@schemaLocation"),
        ({"name": "x", "relatedParty": [{"id": "p", "@referredType": "Organization", "href": "a b"}]}, "href"),
        ({"name": "x", "note": [{"text": "t", "date": "yesterday"}]}, "note.0.date"),
        ({"name": "x", "attachment": [{"name": "a", "content": "not base64!"}]}, "attachment.0.content"),
    ],
)
def test_create_with_a_value_breaking_its_format_is_400_naming_the_field(
    tmf: OfficialSpecClient, clean_db: Engine, body: dict[str, object], field: str
) -> None:
    before = counts(clean_db)
    error = assert_tmf_error(tmf.post(f"{BASE}/resource", json=body), 400)
    assert field in error["message"]
    assert counts(clean_db) == before


def test_patch_with_a_relative_schema_location_is_400_and_changes_nothing(
    tmf: OfficialSpecClient, clean_db: Engine
) -> None:
    created = new_resource(tmf)
    before = counts(clean_db)
    response = tmf.patch(f"{BASE}/resource/{created['id']}", {"@schemaLocation": "AAA"})
    error = assert_tmf_error(response, 400)
    assert "@schemaLocation" in error["message"] and "'uri'" in error["message"]
    assert counts(clean_db) == before
    assert tmf.get(f"{BASE}/resource/{created['id']}").json() == created


def test_values_that_keep_their_formats_are_accepted_and_answered_back(tmf: OfficialSpecClient) -> None:
    body = {
        "name": "formats",
        "@schemaLocation": "https://example.com/schemas/Router.json",
        "resourceSpecification": {"id": "s", "href": "urn:example:spec:router"},
        "note": [{"text": "t", "date": "2026-12-03T10:00:00Z"}],
        "attachment": [{"name": "a", "content": "aGVsbG8="}],
    }
    created = new_resource(tmf, **body)
    for key, value in body.items():
        assert created[key] == value


def test_a_create_is_validated_without_a_second_parse_of_the_body(
    tmf: OfficialSpecClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from connexion.validators import JSONRequestBodyValidator

    async def no_second_parse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("connexion parsed the body again")

    monkeypatch.setattr(JSONRequestBodyValidator, "_parse", no_second_parse)
    assert new_resource(tmf, name="parsed once")["name"] == "parsed once"
