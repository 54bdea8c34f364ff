"""HTTP semantics every API shares (issue 14 items 10, 15, 21): identity text, 204 without a media type,
and the Allow header of a 405 naming what the path really serves."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from server.apis import APIS
from server.errors import allowed_methods

RI = "/tmf-api/resourceInventoryManagement/v4"
AUDIT = "/provisio/audit/v1"


def test_x_user_in_utf8_is_stored_and_found_as_typed(proxy_client: TestClient) -> None:
    client = proxy_client  # X-User is believed from a trusted proxy only
    created = client.post(f"{RI}/resource", json={"name": "x"}, headers={"X-User": "jürgen".encode()})
    assert created.status_code == 201
    records = client.get(f"{AUDIT}/auditRecord?actor=j%C3%BCrgen").json()
    assert [(record["actor"], record["entityId"]) for record in records] == [("jürgen", created.json()["id"])]


def test_x_user_as_rfc8187_ext_value_is_the_same_actor(proxy_client: TestClient) -> None:
    client = proxy_client  # X-User is believed from a trusted proxy only
    client.post(f"{RI}/resource", json={"name": "x"}, headers={"X-User": "UTF-8''j%C3%BCrgen"})
    assert [record["actor"] for record in client.get(f"{AUDIT}/auditRecord?actor=j%C3%BCrgen").json()] == ["jürgen"]


def test_x_user_length_is_counted_in_characters(proxy_client: TestClient) -> None:
    client = proxy_client  # X-User is believed from a trusted proxy only
    name = "ü" * 100  # 200 bytes of UTF-8, 100 characters: fits the 128-character column
    assert client.post(f"{RI}/resource", json={"name": "x"}, headers={"X-User": name.encode()}).status_code == 201
    too_long = client.post(f"{RI}/resource", json={"name": "x"}, headers={"X-User": ("ü" * 129).encode()})
    assert too_long.status_code == 400 and too_long.json()["@type"] == "Error"


def test_x_user_with_a_control_character_is_a_400(client: TestClient) -> None:
    response = client.get(f"{RI}/resource", headers={"X-User": "eve\u0085".encode()})
    assert response.status_code == 400 and response.json()["code"] == "INVALID_REQUEST"


def test_204_answers_carry_no_content_type(client: TestClient) -> None:
    created = client.post(f"{RI}/resource", json={"name": "x"}).json()
    deleted = client.delete(f"{RI}/resource/{created['id']}")
    listener = client.post(f"{RI}/hub", json={"callback": "http://127.0.0.1:9/x"}).json()
    unregistered = client.delete(f"{RI}/hub/{listener['id']}")
    for response in (deleted, unregistered):
        assert response.status_code == 204
        assert "content-type" not in response.headers and response.content == b""


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("OPTIONS", f"{RI}/resource", "GET, HEAD, POST"),
        ("PUT", f"{RI}/resource", "GET, HEAD, POST"),
        ("POST", f"{RI}/resource/some-id", "GET, HEAD, PATCH, DELETE"),
        ("PUT", f"{RI}/hub", "POST"),
        ("POST", f"{RI}/hub/some-id", "GET, HEAD, DELETE"),
        ("DELETE", f"{AUDIT}/auditRecord", "GET, HEAD"),
        ("GET", f"{AUDIT}/eventDelivery/1/redeliver", "POST"),
    ],
)
def test_405_allow_lists_every_method_the_path_serves(client: TestClient, method: str, path: str, allow: str) -> None:
    response = client.request(method, path)
    assert response.status_code == 405
    assert response.headers["allow"] == allow
    assert response.json()["code"] == "METHOD_NOT_ALLOWED"


def test_allow_is_derived_from_every_served_document() -> None:
    # A later API gets correct 405s the day its document is served: every declared path resolves.
    import yaml

    from server.apis import OPENAPI_DIR

    for api in APIS:
        document = yaml.safe_load((OPENAPI_DIR / api.spec).read_text())
        for template, item in document["paths"].items():
            concrete = api.base_path + template.replace("{id}", "x")
            declared = {method.upper() for method in item if method != "parameters"}
            assert declared <= set(allowed_methods(concrete)), (api.name, template)


def test_x_request_id_in_utf8_is_recorded_as_typed_and_echoed_in_ascii(client: TestClient) -> None:
    created = client.post(f"{RI}/resource", json={"name": "x"}, headers={"X-Request-ID": "李-42".encode()})
    assert created.status_code == 201
    assert created.headers["x-request-id"] == "UTF-8''%E6%9D%8E-42"  # RFC 8187: reads back as the same text
    [record] = client.get(f"{AUDIT}/auditRecord?requestId=%E6%9D%8E-42").json()
    assert record["requestId"] == "李-42"
