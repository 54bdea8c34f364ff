"""What a client can send but nothing downstream can store or parse: always a TMF Error (checked against the
official schema), never a 500, and the database is left as it was. Each case here was a 500 or a 503 on
one database or the other before the request guard (server.middleware) and the use-case checks."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from oss.resource_inventory import service
from tests.api.resource_inventory.helpers_tmf639 import (
    BASE,
    MERGE_PATCH,
    OfficialSpecClient,
    assert_tmf_error,
    counts,
    new_resource,
)

JSON = {"content-type": "application/json"}


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        (b'{"name": "x", "value": NaN}', "NaN"),
        (b'{"name": "x", "value": Infinity}', "Infinity"),
        (b'{"name": "x", "value": 1e999}', "out of range"),
        (b'{"name": "a\\u0000b"}', "NUL"),
        (b'{"name": "\\ud800"}', "surrogate"),
        (b'{"name": "x", "note": ' + b"[" * 40 + b"]" * 40 + b"}", "nested"),
        (b'{"name": "x", "note": ' + b"[" * 5000 + b"]" * 5000 + b"}", "nested"),
        (b'{"name": "x", "na\\u0000me": 1}', "NUL"),
    ],
)
def test_create_with_a_body_no_database_can_store_is_400(
    tmf: OfficialSpecClient, clean_db: Engine, raw: bytes, fragment: str
) -> None:
    before = counts(clean_db)
    error = assert_tmf_error(tmf.post(f"{BASE}/resource", content=raw, headers=JSON), 400, "MALFORMED_BODY")
    assert fragment in error["message"]
    assert counts(clean_db) == before


def test_body_larger_than_the_limit_is_413(tmf: OfficialSpecClient, clean_db: Engine) -> None:
    before = counts(clean_db)
    huge = b'{"name": "x", "description": "' + b"a" * (1024 * 1024) + b'"}'
    assert_tmf_error(tmf.post(f"{BASE}/resource", content=huge, headers=JSON), 413, "PAYLOAD_TOO_LARGE")
    assert counts(clean_db) == before


def test_streamed_body_larger_than_the_limit_is_413(tmf: OfficialSpecClient, clean_db: Engine) -> None:
    def chunks() -> Iterator[bytes]:  # no Content-Length: the guard counts as the body streams in
        yield b'{"name": "x", "description": "'
        for _ in range(80):
            yield b"a" * 16384
        yield b'"}'

    response = tmf.post(f"{BASE}/resource", content=chunks(), headers=JSON)
    assert_tmf_error(response, 413, "PAYLOAD_TOO_LARGE")
    assert counts(clean_db)["resource"] == 0


def test_body_without_content_type_is_415(tmf: OfficialSpecClient, clean_db: Engine) -> None:
    assert_tmf_error(tmf.post(f"{BASE}/resource", content=b'{"name": "x"}'), 415, "UNSUPPORTED_MEDIA_TYPE")
    assert counts(clean_db)["resource"] == 0


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", "application/json-patch+json"])
def test_create_with_a_wrong_content_type_is_415(tmf: OfficialSpecClient, content_type: str) -> None:
    response = tmf.post(f"{BASE}/resource", content=b'{"name": "x"}', headers={"content-type": content_type})
    assert_tmf_error(response, 415)


@pytest.mark.parametrize(("attribute", "width"), [("name", 255), ("category", 255), ("resourceVersion", 64)])
def test_value_wider_than_its_column_is_400_on_every_database(
    tmf: OfficialSpecClient, clean_db: Engine, attribute: str, width: int
) -> None:
    body = {"name": "x", attribute: "a" * (width + 1)}
    error = assert_tmf_error(tmf.post(f"{BASE}/resource", json=body), 400, "INVALID_ATTRIBUTE_VALUE")
    assert attribute in error["message"]
    created = new_resource(tmf)
    before = counts(clean_db)
    assert_tmf_error(tmf.patch(f"{BASE}/resource/{created['id']}", {attribute: "a" * (width + 1)}), 400)
    assert counts(clean_db) == before
    assert tmf.post(f"{BASE}/resource", json={"name": "x", attribute: "a" * width}).status_code == 201


def test_date_outside_the_years_a_database_holds_is_400(tmf: OfficialSpecClient, clean_db: Engine) -> None:
    body = {"name": "x", "startOperatingDate": "0001-01-01T00:00:00+05:00"}
    assert_tmf_error(tmf.post(f"{BASE}/resource", json=body), 400, "INVALID_ATTRIBUTE_VALUE")
    assert counts(clean_db)["resource"] == 0


@pytest.mark.parametrize(
    "query",
    [
        "startOperatingDate.gt=0001-01-01T00:00:00%2B05:00",
        "name=%00",
        "resourceCharacteristic.value=a%00",
        "offset=%C2%B2",
        "offset=99999999999999999999999999",
    ],
)
def test_list_query_no_database_can_run_is_400(tmf: OfficialSpecClient, query: str) -> None:
    new_resource(tmf, resourceCharacteristic=[{"name": "vlan", "value": 1}])
    assert_tmf_error(tmf.get(f"{BASE}/resource?{query}"), 400)


@pytest.mark.parametrize("value", ["NaN", "Infinity", "1e999", "-1e999"])
def test_json_filter_on_a_non_finite_number_matches_text_only(tmf: OfficialSpecClient, value: str) -> None:
    new_resource(tmf, resourceCharacteristic=[{"name": "vlan", "value": value}])
    new_resource(tmf, resourceCharacteristic=[{"name": "vlan", "value": 1}])
    response = tmf.get(f"{BASE}/resource", params={"resourceCharacteristic.value": value})
    assert response.status_code == 200
    assert [item["resourceCharacteristic"][0]["value"] for item in response.json()] == [value]


def test_nul_in_the_id_is_400(tmf: OfficialSpecClient) -> None:
    assert_tmf_error(tmf.get(f"{BASE}/resource/a%00b"), 400)


@pytest.mark.parametrize("raw", [b"[1]", b'"x"', b"null", b"42", b""])
def test_patch_with_a_body_that_is_not_an_object_is_400(tmf: OfficialSpecClient, clean_db: Engine, raw: bytes) -> None:
    created = new_resource(tmf)
    before = counts(clean_db)
    assert_tmf_error(tmf.request("PATCH", f"{BASE}/resource/{created['id']}", content=raw, headers=MERGE_PATCH), 400)
    assert counts(clean_db) == before
    assert tmf.get(f"{BASE}/resource/{created['id']}").json() == created


def test_patch_with_malformed_or_non_utf8_json_is_400(tmf: OfficialSpecClient, clean_db: Engine) -> None:
    created = new_resource(tmf)
    before = counts(clean_db)
    for raw in (b'{"name": ', '{"name": "é"}'.encode("latin-1")):
        response = tmf.request("PATCH", f"{BASE}/resource/{created['id']}", content=raw, headers=MERGE_PATCH)
        assert_tmf_error(response, 400, "MALFORMED_BODY")
    assert counts(clean_db) == before


def test_user_header_wider_than_the_audit_trail_is_400(tmf: OfficialSpecClient, clean_db: Engine) -> None:
    response = tmf.post(f"{BASE}/resource", json={"name": "x"}, headers={"X-User": "u" * 129})
    assert_tmf_error(response, 400)
    assert counts(clean_db)["resource"] == 0
    assert tmf.post(f"{BASE}/resource", json={"name": "x"}, headers={"X-User": "u" * 128}).status_code == 201


def test_long_request_id_is_cut_to_what_the_audit_trail_stores(tmf: OfficialSpecClient) -> None:
    response = tmf.post(f"{BASE}/resource", json={"name": "x"}, headers={"X-Request-ID": "r" * 300})
    assert response.status_code == 201
    assert response.headers["X-Request-ID"] == "r" * 128


@pytest.mark.parametrize(
    ("callback", "code"),
    [
        ("http://[::1/listener", "INVALID_CALLBACK"),
        ("http://127.0.0.1/" + "a" * 2048, "INVALID_CALLBACK"),
        ("ftp://127.0.0.1/listener", "INVALID_CALLBACK"),
        ("http://127.0.0.1:99999/listener", "INVALID_CALLBACK"),
    ],
)
def test_hub_with_an_unusable_callback_is_400(
    tmf: OfficialSpecClient, clean_db: Engine, callback: str, code: str
) -> None:
    assert_tmf_error(tmf.post(f"{BASE}/hub", json={"callback": callback}), 400, code)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({}, "INVALID_REQUEST"),
        ({"callback": 5}, "INVALID_REQUEST"),
        ({"callback": "http://127.0.0.1/l", "query": "eventType=NoSuchEvent"}, "INVALID_QUERY"),
        ({"callback": "http://127.0.0.1/l", "query": "no-equals-sign"}, "INVALID_QUERY"),
    ],
)
def test_hub_with_a_bad_body_is_400(tmf: OfficialSpecClient, body: dict[str, object], code: str) -> None:
    assert_tmf_error(tmf.post(f"{BASE}/hub", json=body), 400, code)


def test_hub_unknown_id_is_404_for_delete_and_get(tmf: OfficialSpecClient) -> None:
    assert_tmf_error(tmf.delete(f"{BASE}/hub/no-such-listener"), 404, "SUBSCRIPTION_NOT_FOUND")
    assert_tmf_error(tmf.get(f"{BASE}/hub/no-such-listener"), 404, "SUBSCRIPTION_NOT_FOUND")


def test_unexpected_failure_is_a_500_without_trace_or_detail(
    tmf: OfficialSpecClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    created = new_resource(tmf)

    def broken(*_args: object, **_kwargs: object) -> None:
        # What a bug would leak if the error handler passed it on: SQL and a secret.
        raise RuntimeError("SELECT password FROM credentials WHERE device = 'pe1'")

    monkeypatch.setattr(service, "retrieve_resource", broken)
    response = tmf.get(f"{BASE}/resource/{created['id']}", headers={"X-Request-ID": "req-boom"})
    error = assert_tmf_error(response, 500, "INTERNAL_ERROR")
    assert "req-boom" in error["message"]
    for leak in ("SELECT", "password", "RuntimeError", "Traceback", 'File "'):
        assert leak not in response.text


def test_href_uses_the_first_host_of_a_proxy_chain(tmf: OfficialSpecClient) -> None:
    created = new_resource(tmf)
    headers = {"X-Forwarded-Host": "inventory.example.net, edge.internal", "X-Forwarded-Proto": "https, http"}
    listed = tmf.get(f"{BASE}/resource", headers=headers).json()
    assert listed[0]["href"] == f"https://inventory.example.net{BASE}/resource/{created['id']}"


def test_list_with_fields_none_returns_only_identity(tmf: OfficialSpecClient) -> None:
    created = new_resource(tmf, category="vlan", description="d")
    assert tmf.get(f"{BASE}/resource", params={"fields": "none"}).json() == [
        {"id": created["id"], "href": created["href"], "@type": "LogicalResource"}
    ]
