"""OAuth2 bearer JWTs (issue 15): signature against the JWKS served on 127.0.0.1, iss, aud, exp, nbf with a
bounded clock skew, scopes from scope/scp; every forged or stale token refused with a 401."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import pytest
from joserfc.jwk import RSAKey
from starlette.testclient import TestClient

from server.auth.jwt import JwksSource
from tests.support.auth import JwksServer, TestIdentityProvider

RI = "/tmf-api/resourceInventoryManagement/v4"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unsigned(header: dict[str, Any], claims: dict[str, Any], signature: bytes = b"") -> str:
    return ".".join([_b64(json.dumps(header).encode()), _b64(json.dumps(claims).encode()), _b64(signature)])


def test_a_valid_jwt_reads_and_its_subject_is_the_actor(
    client: TestClient, identity_provider: TestIdentityProvider
) -> None:
    token = identity_provider.token(sub="crm-7", scope="resourceInventory:read resourceInventory:write")
    created = client.post(f"{RI}/resource", json={"name": "by jwt"}, headers=bearer(token))
    assert created.status_code == 201, created.text
    records = client.get("/provisio/audit/v1/auditRecord", params={"entityId": created.json()["id"]}).json()
    assert [record["actor"] for record in records] == ["crm-7"]


def test_scopes_are_read_from_an_scp_list_too(client: TestClient, identity_provider: TestIdentityProvider) -> None:
    token = identity_provider.token(scope=None, scp=["resourceInventory:read"])
    assert client.get(f"{RI}/resource", headers=bearer(token)).status_code == 200
    assert client.post(f"{RI}/resource", json={"name": "x"}, headers=bearer(token)).status_code == 403


def _forged(provider: TestIdentityProvider) -> dict[str, str]:
    now = int(time.time())
    public_pem = provider.key.as_pem(private=False)
    confusion_header = {"alg": "HS256", "kid": provider.kid, "typ": "JWT"}
    confusion_claims = provider.claims()
    signing_input = f"{_b64(json.dumps(confusion_header).encode())}.{_b64(json.dumps(confusion_claims).encode())}"
    confusion = f"{signing_input}.{_b64(hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest())}"
    genuine = provider.token(scope="resourceInventory:read")
    header, _payload, signature = genuine.split(".")
    tampered_claims = provider.claims(scope="resourceInventory:read auth:admin")
    other_key = RSAKey.generate_key(2048, parameters={"kid": "someone-else"})
    return {
        "expired": provider.token(exp=now - 3600, iat=now - 7200, nbf=now - 7200),
        "not yet valid": provider.token(nbf=now + 3600),
        "wrong audience": provider.token(aud="another-service"),
        "wrong issuer": provider.token(iss="https://evil.example"),
        "unknown key id": provider.token(header={"kid": "someone-else"}),
        "signed by another key under our kid": TestIdentityProvider(kid=provider.kid, key=other_key).token(),
        "alg none": _unsigned({"alg": "none", "typ": "JWT"}, provider.claims()),
        "HS256 signed with the public key": confusion,
        "tampered payload": f"{header}.{_b64(json.dumps(tampered_claims).encode())}.{signature}",
        "no exp": provider.token(exp=None),
        "garbage": "not-a-jwt",
    }


CASES = [
    "expired",
    "not yet valid",
    "wrong audience",
    "wrong issuer",
    "unknown key id",
    "signed by another key under our kid",
    "alg none",
    "HS256 signed with the public key",
    "tampered payload",
    "no exp",
    "garbage",
]


@pytest.mark.parametrize("case", CASES)
def test_a_bad_jwt_is_refused_with_401(client: TestClient, identity_provider: TestIdentityProvider, case: str) -> None:
    response = client.get(f"{RI}/resource", headers=bearer(_forged(identity_provider)[case]))
    assert response.status_code == 401, (case, response.text)
    assert response.json()["code"] == "INVALID_CREDENTIAL"
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_clock_skew_within_the_setting_is_tolerated(
    client: TestClient, identity_provider: TestIdentityProvider
) -> None:
    now = int(time.time())
    slightly_early = identity_provider.token(nbf=now + 20, iat=now + 20)  # PROVISIO_JWT_CLOCK_SKEW is 60 s
    assert client.get(f"{RI}/resource", headers=bearer(slightly_early)).status_code == 200


def test_jwks_is_refreshed_in_the_background_after_an_unknown_key_id(monkeypatch: pytest.MonkeyPatch) -> None:
    """Key rotation: the first token signed with the new key fails at once (no request waits on the network)
    and asks the background thread for a refresh; once it has run, the new key verifies."""
    old, new = (
        TestIdentityProvider(kid="old"),
        TestIdentityProvider(kid="new", key=RSAKey.generate_key(2048, parameters={"kid": "new"})),
    )
    server = JwksServer(old.jwks()).start()
    monkeypatch.setattr("server.auth.jwt.MIN_REFRESH", 0.0)
    source = JwksSource(server.url, refresh_interval=3600)
    try:
        assert source.load_now() and source.key_for("new") is None
        source.start()
        server.document = {"keys": old.jwks()["keys"] + new.jwks()["keys"]}
        requests_before = server.requests
        source.request_refresh()
        assert source.wait_for_loads(2, timeout=10)
        assert source.key_for("new") is not None and server.requests == requests_before + 1
    finally:
        source.stop()
        server.stop()


def test_jwks_failure_keeps_the_keys_already_loaded(tmp_path: Any) -> None:
    provider = TestIdentityProvider(kid="file-key", key=RSAKey.generate_key(2048, parameters={"kid": "file-key"}))
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(provider.jwks()))
    source = JwksSource(str(path))
    assert source.load_now()
    path.write_text("{not json")
    assert not source.load_now()
    assert source.key_for("file-key") is not None
