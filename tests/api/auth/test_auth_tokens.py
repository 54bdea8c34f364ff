"""API tokens through HTTP (issue 15): created with scopes or a role and shown once, stored as an HMAC,
listed, revoked (refused at once in this process), expired (refused at once); identity from the credential,
X-User believed only from a trusted proxy; failed attempts counted per client address with a 429 cap;
no secret in responses, logs or the audit trail."""

from __future__ import annotations

import logging
import stat
import time
from typing import Any

import pytest
from sqlalchemy import Engine, select
from starlette.testclient import TestClient

from common.audit import AuditRecord
from server.auth.models import ApiToken, AuthFailure
from server.auth.tokens import SECRET_FILE
from server.settings import Settings
from tests.support.auth import TRUSTED_PROXY, token_headers

RI = "/tmf-api/resourceInventoryManagement/v4"
AUDIT = "/provisio/audit/v1"
AUTH = "/provisio/auth/v1"


def only_key(key: str) -> dict[str, str]:
    """``X-API-Key`` alone: the client's default ``Authorization`` credential blanked out."""
    return {"Authorization": "", "X-API-Key": key}


def create(client: TestClient, **body: object) -> dict[str, object]:
    response = client.post(f"{AUTH}/token", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, object] = response.json()
    return created


def test_create_shows_the_key_once_and_stores_only_its_hmac(client: TestClient, clean_db: Engine) -> None:
    created = create(client, user="crm", role="order-system")
    key = str(created["key"])
    assert created["scope"] == ["resourceInventory:read", "resourcePool:read", "resourcePool:write"]
    assert created["role"] == "order-system"
    listed = client.get(f"{AUTH}/token", params={"user": "crm"})
    assert [token["id"] for token in listed.json()] == [created["id"]]
    assert key not in listed.text and key not in client.get(f"{AUTH}/token/{created['id']}").text
    with clean_db.connect() as connection:
        stored = connection.execute(select(ApiToken.key_hash).where(ApiToken.id == created["id"])).scalar_one()
    assert key not in stored and len(stored) == 64
    assert client.get(f"{RI}/resource", headers=token_headers(key)).status_code == 200
    assert client.get(f"{RI}/resource", headers=only_key(key)).status_code == 200


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"user": "x", "scope": ["resourceInventory:delete"]}, "UNKNOWN_SCOPE"),
        ({"user": "x", "role": "superuser"}, "UNKNOWN_ROLE"),
        ({"user": "x"}, "INVALID_TOKEN_REQUEST"),
        ({"user": "x", "scope": ["audit:read"], "expiresAt": "2001-01-01T00:00:00Z"}, "INVALID_TOKEN_REQUEST"),
    ],
)
def test_a_bad_token_request_is_a_400_and_creates_nothing(
    client: TestClient, body: dict[str, object], code: str
) -> None:
    response = client.post(f"{AUTH}/token", json=body)
    assert response.status_code == 400 and response.json()["code"] == code, response.text
    assert client.get(f"{AUTH}/token", params={"user": "x"}).json() == []


def test_a_revoked_token_is_refused_at_once_by_this_process(client: TestClient) -> None:
    created = create(client, user="ops", scope=["resourceInventory:read"])
    headers = token_headers(str(created["key"]))
    assert client.get(f"{RI}/resource", headers=headers).status_code == 200  # now cached
    assert client.delete(f"{AUTH}/token/{created['id']}").status_code == 204
    refused = client.get(f"{RI}/resource", headers=headers)
    assert refused.status_code == 401 and "revoked" in refused.json()["message"]
    assert "revokedAt" in client.get(f"{AUTH}/token/{created['id']}").json()
    assert client.delete(f"{AUTH}/token/{created['id']}").status_code == 204  # idempotent
    assert client.delete(f"{AUTH}/token/no-such-token").status_code == 404


def test_an_expired_token_is_refused_at_once_even_when_cached(client: TestClient, make_token: Any) -> None:
    _, key = make_token(expires_in=1.5)
    assert client.get(f"{RI}/resource", headers=token_headers(key)).status_code == 200  # cached for 5 s now
    cached_at = time.monotonic()
    response = client.get(f"{RI}/resource", headers=token_headers(key))
    while response.status_code == 200 and time.monotonic() - cached_at < 4.5:
        response = client.get(f"{RI}/resource", headers=token_headers(key))
    assert response.status_code == 401 and "expired" in response.json()["message"]
    assert time.monotonic() - cached_at < 4.5  # refused at its expiry, not when the cache entry ran out


def test_x_user_is_ignored_unless_a_trusted_proxy_sends_it(client: TestClient, proxy_client: TestClient) -> None:
    direct = client.post(f"{RI}/resource", json={"name": "d"}, headers={"X-User": "mallory"}).json()
    proxied = proxy_client.post(f"{RI}/resource", json={"name": "p"}, headers={"X-User": "alice"}).json()
    actors = {
        record["entityId"]: record["actor"]
        for record in client.get(f"{AUDIT}/auditRecord", params={"entityType": "resource"}).json()
    }
    assert actors == {direct["id"]: "test-user", proxied["id"]: "alice"}


def test_failed_attempts_are_capped_per_address_with_429(
    client: TestClient, clean_db: Engine, auth_state: Any, make_token: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(auth_state.failures, "cap", 3)
    _, good = make_token(scopes=["resourceInventory:read"])
    statuses = [client.get(f"{RI}/resource", headers=only_key(f"wrong-{n}")).status_code for n in range(3)]
    assert statuses == [401, 401, 401]
    blocked = client.get(f"{RI}/resource", headers=only_key(good))  # even a good key, while blocked
    assert blocked.status_code == 429 and blocked.json()["code"] == "TOO_MANY_AUTHENTICATION_FAILURES"
    assert 1 <= int(blocked.headers["Retry-After"]) <= 60
    with clean_db.connect() as connection:  # counted where every API process sees it
        counted = connection.execute(select(AuthFailure.client_address, AuthFailure.count)).all()
    assert [tuple(row) for row in counted] == [("testclient", 3)]


def test_another_process_blocks_an_address_over_the_shared_count(
    client: TestClient, auth_state: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The count is the database's: a process that never saw the address still refuses its next failure."""
    monkeypatch.setattr(auth_state.failures, "cap", 2)
    for _ in range(2):
        auth_state.failures.record("testclient")  # as another process would have counted them
    auth_state.failures.clear()  # this process has no memory of them
    response = client.get(f"{RI}/resource", headers=only_key("wrong"))
    assert response.status_code == 429


def test_the_client_address_comes_from_a_trusted_proxy_only(
    client: TestClient, proxy_client: TestClient, clean_db: Engine
) -> None:
    client.get(f"{RI}/resource", headers={**only_key("wrong"), "X-Forwarded-For": "198.51.100.7"})
    proxy_client.get(f"{RI}/resource", headers={**only_key("wrong"), "X-Forwarded-For": "203.0.113.9, 198.51.100.1"})
    with clean_db.connect() as connection:
        addresses = set(connection.execute(select(AuthFailure.client_address)).scalars())
    assert addresses == {"testclient", "198.51.100.1"}  # the spoofed header of a direct client is ignored
    assert TRUSTED_PROXY not in addresses


def test_no_secret_in_responses_logs_or_audit(
    client: TestClient, clean_db: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    created = create(client, user="grep-me", scope=["resourceInventory:read", "resourceInventory:write"])
    key = str(created["key"])
    bodies = []
    for headers in (token_headers(key), only_key(key), only_key(key + "x"), token_headers(key[:-1])):
        bodies.append(client.post(f"{RI}/resource", json={"name": "grep"}, headers=headers).text)
        bodies.append(client.get(f"{RI}/resource", headers=headers).text)
    client.delete(f"{AUTH}/token/{created['id']}")
    bodies.append(client.get(f"{RI}/resource", headers=token_headers(key)).text)
    bodies += [client.get(f"{AUTH}/token").text, client.get(f"{AUDIT}/auditRecord").text]
    with clean_db.connect() as connection:
        audit = [str((row.entity_type, row.before, row.after)) for row in connection.execute(select(AuditRecord))]
    secret_part = key.removeprefix("pvo_")
    for where, texts in (("responses", bodies), ("logs", [caplog.text]), ("audit", audit)):
        assert not [text for text in texts if secret_part[:16] in text], f"the key leaked into the {where}"
    assert "authentication failed" in caplog.text  # the failures were logged, without the key
    assert any("apiToken" in text for text in audit) and any("***" in text for text in audit)


def test_the_server_secret_file_is_private(settings: Settings, client: TestClient) -> None:
    mode = stat.S_IMODE((settings.data_dir / SECRET_FILE).stat().st_mode)
    assert mode == 0o600
