"""A bounded, seeded fuzz of every served operation: random JSON bodies, raw bytes, query strings and path
parameters (Unicode digits among them) never give a 5xx, and every 4xx is a TMF Error. (schemathesis is
not a dependency; hypothesis drives the client.)

The operations come from ``server.apis.APIS`` and the OpenAPI documents it names (``tests.support.served``),
so an API is fuzzed the day it is added to the table."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from tests.support.served import body_operations, item_operations, list_operations

RI = "/tmf-api/resourceInventoryManagement/v4"
LISTS = list_operations()
ITEMS = item_operations()
BODIES = body_operations()
FUZZ = settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

_text = st.text(max_size=12)  # any code point, surrogates and NUL included
_scalar = st.none() | st.booleans() | st.integers() | st.floats() | _text
_json = st.recursive(
    _scalar, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_text, inner, max_size=3), max_leaves=12
)
_tmf_key = st.sampled_from(
    [
        "name",
        "@type",
        "category",
        "resourceStatus",
        "usageState",
        "startOperatingDate",
        "resourceCharacteristic",
        "note",
        "place",
        "value",
        "id",
        "href",
        "callback",
        "query",
    ]
)
# Bodies that look like a resource often enough to get past the schema and reach the use case.
_resource_like = st.dictionaries(_tmf_key, _json, max_size=5)
_body = _json | _resource_like
_query_name = st.sampled_from(
    [
        "name",
        "limit",
        "offset",
        "fields",
        "sort",
        "resourceStatus",
        "resourceStatus.ne",
        "startOperatingDate.gt",
        "resourceCharacteristic.value",
        "place.id",
        "colour",
        "actor",
        "recordedAt.gte",
        "action",
        "state",
        "api",
        "eventType",
        "attempts.gt",
        "createdAt.lt",
        "lastStatus",
        "id",
    ]
) | st.text(max_size=8)
_query = st.lists(st.tuples(_query_name, st.text(max_size=10) | st.integers().map(str)), max_size=4)
_content_type = st.sampled_from(["application/json", "application/merge-patch+json", "text/plain", None])


def assert_client_error_or_success(response: httpx.Response) -> None:
    assert response.status_code < 500, (response.status_code, response.text)
    if response.status_code >= 400:
        body: dict[str, Any] = response.json()
        assert body["@type"] == "Error" and body["status"] == str(response.status_code), body
        assert body["code"] and body["reason"] and body["message"]


def encode_query(pairs: list[tuple[str, str]]) -> str:
    return "&".join(f"{quote(name, safe='')}={quote(value, safe='')}" for name, value in pairs)


def _body_request(client: TestClient, method: str, path: str, body: Any, content_type: str | None) -> httpx.Response:
    raw = json.dumps(body).encode()  # Python's JSON: NaN, Infinity, "\ud800", "\u0000" all get through
    headers = {"content-type": content_type} if content_type else {}
    return client.request(method, path, content=raw, headers=headers)


@seed(639)
@FUZZ
@given(body=_body, content_type=_content_type)
def test_bodies_never_answer_5xx(client: TestClient, body: Any, content_type: str | None) -> None:
    for operation in BODIES:
        url = operation.url(**{name: "fuzz-id" for name in operation.path_parameters})
        assert_client_error_or_success(_body_request(client, operation.method, url, body, content_type))


@seed(7396)
@FUZZ
@given(body=_body, content_type=_content_type)
def test_patch_never_answers_5xx(client: TestClient, body: Any, content_type: str | None) -> None:
    created = client.post(f"{RI}/resource", json={"name": "fuzz target"})
    assert created.status_code == 201
    target = f"{RI}/resource/{created.json()['id']}"
    assert_client_error_or_success(_body_request(client, "PATCH", target, body, content_type))


@seed(630)
@FUZZ
@given(pairs=_query, raw=st.binary(max_size=16))
def test_list_queries_never_answer_5xx(client: TestClient, pairs: list[tuple[str, str]], raw: bytes) -> None:
    query = encode_query(pairs)
    for operation in LISTS:
        assert_client_error_or_success(client.get(f"{operation.url()}?{query}"))
        # Raw bytes in the query string, percent-escaped as a browser would send them.
        assert_client_error_or_success(client.get(f"{operation.url()}?name={quote(raw, safe='')}"))


# Every non-ASCII character that str.isdigit() accepts: int() refuses some ("¹") and reads others ("٣" is 3).
_NON_ASCII_DIGITS = [chr(code) for code in range(0x80, 0x110000) if chr(code).isdigit()]
_unicode_digits = st.text(alphabet=st.sampled_from(_NON_ASCII_DIGITS), min_size=1, max_size=3)
_identifier = st.text(min_size=1, max_size=40) | _unicode_digits | st.integers(0, 2**70).map(str)


@pytest.fixture
def client_with_records(client: TestClient) -> TestClient:
    """Three resources, hence audit records 1-3: an id that int() reads as 3 would find one."""
    for name in ("a", "b", "c"):
        assert client.post(f"{RI}/resource", json={"name": name}).status_code == 201
    return client


@seed(688)
@FUZZ
@given(identifier=_identifier, other_method=st.sampled_from(["GET", "DELETE", "PUT", "POST", "PATCH"]))
def test_item_paths_never_answer_5xx(client_with_records: TestClient, identifier: str, other_method: str) -> None:
    client = client_with_records
    escaped = quote(identifier.encode("utf-8", "surrogatepass"), safe="")
    for operation in ITEMS:
        url = operation.url(**{name: escaped for name in operation.path_parameters})
        for method in (operation.method, other_method):
            response = client.request(method, url)
            assert_client_error_or_success(response)
            if not identifier.isascii():
                assert response.status_code >= 400, (method, url, response.text)  # no id is a Unicode digit
