"""Credentials for tests: API tokens written straight into the database (no audit record, so tests that
count audit records see only their own), and JWTs signed by a test identity provider whose JWKS is
served on 127.0.0.1."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from joserfc import jwt
from joserfc.jwk import RSAKey
from sqlalchemy import Engine, insert

from common import clock
from common.orm import new_id
from server.auth import tokens
from server.auth.models import ApiToken
from server.auth.settings import SCOPES
from server.settings import Settings

ALL_SCOPES = tuple(SCOPES)
JWT_ISSUER = "https://idp.test.example"
JWT_AUDIENCE = "provisio-test"
TRUSTED_PROXY = "192.0.2.10"  # TestClient(client=(TRUSTED_PROXY, ...)) plays a reverse proxy


def issue_token(
    engine: Engine,
    settings: Settings,
    *,
    user: str = "test-user",
    scopes: tuple[str, ...] | list[str] = ALL_SCOPES,
    expires_in: float | None = None,
) -> tuple[str, str]:
    """(token id, key) of a new API token for ``user`` with exactly ``scopes``."""
    key = tokens.new_key()
    token_id = new_id()
    secret = tokens.server_secret(settings.data_dir, settings.auth.secret_key)
    now = clock.now()
    with engine.begin() as connection:
        connection.execute(
            insert(ApiToken.__table__).values(
                id=token_id,
                subject=user,
                scopes=sorted(scopes),
                key_hash=tokens.key_hash(secret, key),
                created_at=now,
                created_by="tests",
                expires_at=now + timedelta(seconds=expires_in) if expires_in is not None else None,
            )
        )
    return token_id, key


def token_headers(key: str) -> dict[str, str]:
    return {"Authorization": f"Token {key}"}


@dataclass
class TestIdentityProvider:
    """An RSA signing key published as a JWKS, and a JWT factory with sane defaults for every claim."""

    kid: str = "test-rsa-1"
    key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, parameters={"kid": "test-rsa-1"}))

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.key.as_dict(private=False)]}

    def claims(self, **overrides: Any) -> dict[str, Any]:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": JWT_ISSUER,
            "aud": JWT_AUDIENCE,
            "sub": "order-system-1",
            "iat": now,
            "nbf": now,
            "exp": now + 300,
            "scope": " ".join(ALL_SCOPES),
        }
        claims.update(overrides)
        return {name: value for name, value in claims.items() if value is not None}

    def token(self, header: dict[str, Any] | None = None, **claims: Any) -> str:
        return jwt.encode({"alg": "RS256", "kid": self.kid, **(header or {})}, self.claims(**claims), self.key)


class JwksServer:
    """Serves a JWKS document on 127.0.0.1:<ephemeral> (``document`` may be changed while it runs)."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.requests = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.requests += 1
                body = json.dumps(outer.document).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args: Any) -> None:
                return

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/.well-known/jwks.json"
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="jwks-server", daemon=True)

    def start(self) -> JwksServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def write_jwks(path: Path, document: dict[str, Any]) -> Path:
    path.write_text(json.dumps(document), encoding="utf-8")
    return path
