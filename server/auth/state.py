"""The per-process side of authentication: the server secret, the verified-token cache, the JWT verifier
and the failed-attempt counter, one ``AuthState`` per application (``server.app.create_app``).

**Verified-token cache.** A request with an API token costs one HMAC and one dict lookup: the token's row
is read once (in a worker thread, off the event loop), then trusted for ``PROVISIO_TOKEN_CACHE_TTL``
seconds (default 5). Expiry is checked on every request against the cached ``expires_at``, so an expired
token fails at once; a revocation is seen at once by the process that revoked it (it drops its entry) and
within the TTL by every other process, which reads the row again when its entry is older (the bounded-TTL
design of issue 15). Verified JWTs are cached the same way, never past their ``exp``.

**Failed attempts.** Every failed authentication adds one to ``auth_failure`` (client address, minute
window) in the database, so every API process counts the same attempts. The process that sees the count
reach ``PROVISIO_AUTH_MAX_FAILURES`` blocks the address in memory until the window ends: every attempt
from it, right or wrong, is a 429 with ``Retry-After``. Another process learns it at the address's next
failure there (the shared count is already over the cap), so across N processes an address gets at most
N - 1 attempts beyond the cap per window. The client address is the TCP peer, or, when the peer is one of
``PROVISIO_TRUSTED_PROXIES``, the right-most address of its ``X-Forwarded-For`` that is not a trusted proxy.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import math
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any, cast

import yaml
from sqlalchemy import Table, delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, sessionmaker
from starlette.datastructures import Headers
from starlette.types import Scope

from server.apis import APIS, OPENAPI_DIR
from server.auth import tokens
from server.auth.errors import AuthenticationFailed, TooManyAttempts
from server.auth.jwt import JwksSource, JwtRejected, JwtVerifier
from server.auth.models import AuthFailure
from server.auth.settings import AuthSettings
from server.resolver import snake_case

logger = logging.getLogger("provisio.auth")

WINDOW_SECONDS = 60
CACHE_SIZE = 10_000
FAILURE_RETENTION = timedelta(hours=1)
OAUTH2_SCHEME = "oauth2"


@dataclass(frozen=True)
class Credential:
    """Who is calling, as authenticated: ``kind`` is ``token`` (API token) or ``jwt``."""

    kind: str
    subject: str
    scopes: frozenset[str]
    token_id: str | None = None
    expires_at: datetime | None = None


class TokenCache:
    """Bounded LRU of verified credentials, each trusted for ``ttl`` seconds (and never past its expiry)."""

    def __init__(self, ttl: float, size: int = CACHE_SIZE) -> None:
        self.ttl = ttl
        self.size = size
        self._entries: OrderedDict[str, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> Any | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry[0] <= time.monotonic():
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return entry[1]

    def put(self, key: str, value: Any, *, ttl: float | None = None) -> None:
        with self._lock:
            self._entries[key] = (time.monotonic() + min(self.ttl, ttl if ttl is not None else self.ttl), value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def discard_token(self, token_id: str) -> None:
        """Forget every entry of one API token (this process revoked it)."""
        with self._lock:
            for key in [k for k, (_, value) in self._entries.items() if getattr(value, "token_id", None) == token_id]:
                del self._entries[key]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


class FailureCounter:
    def __init__(self, session_factory: sessionmaker[Session], cap: int) -> None:
        self.session_factory = session_factory
        self.cap = cap
        self._blocked: dict[str, float] = {}  # address -> end of its window (epoch seconds)
        self._lock = threading.Lock()

    def check(self, address: str) -> None:
        """429 if this process knows the address is over the cap (pure in-memory)."""
        with self._lock:
            until = self._blocked.get(address)
            if until is None:
                return
            remaining = until - time.time()
            if remaining <= 0:
                del self._blocked[address]
                return
        raise TooManyAttempts(max(1, math.ceil(remaining)))

    def record(self, address: str) -> int:
        """Count one failure of ``address`` in the current window, in the database; returns the count.
        Blocks the address in this process once the count reaches the cap. Runs in a worker thread."""
        now = time.time()
        window_start = math.floor(now / WINDOW_SECONDS) * WINDOW_SECONDS
        start = datetime.fromtimestamp(window_start, UTC)
        with self.session_factory() as session, session.begin():
            count = self._increment(session, address, start)
            session.execute(delete(AuthFailure).where(AuthFailure.window_start < start - FAILURE_RETENTION))
        if count >= self.cap:
            with self._lock:
                self._blocked[address] = window_start + WINDOW_SECONDS
        return count

    @staticmethod
    def _increment(session: Session, address: str, start: datetime) -> int:
        table = cast(Table, AuthFailure.__table__)
        insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        statement = (
            insert(table)
            .values(client_address=address, window_start=start, count=1)
            .on_conflict_do_update(
                index_elements=[table.c.client_address, table.c.window_start], set_={"count": table.c.count + 1}
            )
            .returning(table.c.count)
        )
        return int(session.execute(statement).scalar_one())

    def clear(self) -> None:
        with self._lock:
            self._blocked.clear()


class AuthState:
    def __init__(
        self,
        settings: AuthSettings,
        secret: bytes,
        session_factory: sessionmaker[Session],
        read_session_factory: sessionmaker[Session] | None = None,
    ) -> None:
        self.settings = settings
        self.secret = secret
        self.session_factory = session_factory
        # Reads of the token table: on SQLite a deferred transaction, which never queues behind writers.
        self.read_session_factory = read_session_factory or session_factory
        self.cache = TokenCache(settings.token_cache_ttl)
        self.failures = FailureCounter(session_factory, settings.max_failures_per_minute)
        self.trusted = settings.trusted_networks
        self.jwks: JwksSource | None = None
        self.jwt: JwtVerifier | None = None
        if settings.jwks and settings.jwt_issuer and settings.jwt_audience:
            self.jwks = JwksSource(settings.jwks, settings.jwks_refresh)
            self.jwt = JwtVerifier(
                self.jwks,
                issuer=settings.jwt_issuer,
                audience=settings.jwt_audience,
                algorithms=settings.jwt_algorithms,
                clock_skew=settings.clock_skew,
            )

    # --- lifecycle: the JWKS is loaded before the first request and refreshed in the background

    async def start(self) -> None:
        if self.jwks is not None:
            await asyncio.to_thread(self.jwks.load_now)
            self.jwks.start()

    async def stop(self) -> None:
        if self.jwks is not None:
            await asyncio.to_thread(self.jwks.stop)

    # --- the client address and the failure path

    def is_trusted_proxy(self, address: str) -> bool:
        return _in_networks(address, self.trusted)

    def client_address(self, scope: Scope) -> str:
        peer = str((scope.get("client") or ("", 0))[0] or "unknown")
        if not self.is_trusted_proxy(peer):
            return peer[:64]
        forwarded = [part.strip() for part in (Headers(scope=scope).get("x-forwarded-for") or "").split(",")]
        forwarded = [part for part in forwarded if part]
        for address in reversed(forwarded):
            if not self.is_trusted_proxy(address):
                return address[:64]
        return (forwarded[0] if forwarded else peer)[:64]

    async def fail(self, address: str, kind: str, reason: str) -> AuthenticationFailed | TooManyAttempts:
        """Count and log a failed authentication (never the credential); the problem to raise."""
        count = await asyncio.to_thread(self.failures.record, address)
        logger.warning("authentication failed from %s (%s): %s [%d this minute]", address, kind, reason, count)
        if count > self.failures.cap:
            try:
                self.failures.check(address)
            except TooManyAttempts as problem:
                return problem
        return AuthenticationFailed(f"The {kind} is not valid: {reason}.")

    # --- API tokens

    async def verify_api_token(self, key: str, address: str) -> Credential:
        self.failures.check(address)
        digest = tokens.key_hash(self.secret, key)
        verified = self.cache.get(digest)
        if verified is None:
            verified = await asyncio.to_thread(self._load_token, digest)
            if verified is None:
                raise await self.fail(address, "API token", "unknown token")
            self.cache.put(digest, verified)
        if verified.revoked:
            raise await self.fail(address, "API token", "revoked")
        if verified.expires_at is not None and verified.expires_at <= datetime.now(UTC):
            raise await self.fail(address, "API token", "expired")
        return Credential("token", verified.subject, verified.scopes, verified.token_id, verified.expires_at)

    def _load_token(self, digest: str) -> tokens.VerifiedToken | None:
        with self.read_session_factory() as session, session.begin():
            return tokens.lookup(session, digest)

    # --- JWTs

    async def verify_jwt(self, token: str, address: str) -> Credential:
        self.failures.check(address)
        credential = self.cache.get(token)
        if credential is not None:
            if credential.expires_at is not None and credential.expires_at <= datetime.now(UTC):
                raise await self.fail(address, "bearer token", "expired")
            return credential  # type: ignore[no-any-return]
        if self.jwt is None:
            raise await self.fail(address, "bearer token", "no identity provider is configured (PROVISIO_JWKS)")
        try:
            verified = self.jwt.verify(token)
        except JwtRejected as rejected:
            raise await self.fail(address, "bearer token", str(rejected)) from None
        expires_at = datetime.fromtimestamp(verified.expires_at, UTC)
        credential = Credential("jwt", verified.subject, verified.scopes, None, expires_at)
        self.cache.put(token, credential, ttl=max(0.0, verified.expires_at - time.time()))
        return credential

    # --- scopes an operation requires, from the served documents

    def required_scopes(self, scope: Scope) -> frozenset[str]:
        routing = scope.get("extensions", {}).get("connexion_routing", {})
        key = (str(routing.get("api_base_path") or "").rstrip("/"), str(routing.get("operation_id") or ""))
        return required_scopes_table().get(key, frozenset())


def _in_networks(address: str, networks: tuple[Any, ...]) -> bool:
    if not networks:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


@cache
def required_scopes_table() -> dict[tuple[str, str], frozenset[str]]:
    """(base path, operationId) -> the scopes of the operation's ``oauth2`` requirement, for every served
    document: the API-token schemes (OpenAPI 3.0 gives them no scopes) check the same ones."""
    table: dict[tuple[str, str], frozenset[str]] = {}
    for api in APIS:
        document = yaml.safe_load((OPENAPI_DIR / api.spec).read_text(encoding="utf-8"))
        for item in (document.get("paths") or {}).values():
            for operation in item.values():
                if not isinstance(operation, dict) or "operationId" not in operation:
                    continue
                scopes: set[str] = set()
                for requirement in operation.get("security") or ():
                    scopes |= set(requirement.get(OAUTH2_SCHEME) or ())
                # connexion's routing context names the operation by the function it resolved to.
                resolved = f"{api.module}.{snake_case(operation['operationId'])}"
                table[(api.base_path.rstrip("/"), resolved)] = frozenset(scopes)
    return table
