"""OAuth2 bearer JWTs from the carrier's identity provider, verified with joserfc (RFC 7515/7517/7519).

- ``JwksSource`` holds the identity provider's public keys (JWKS, RFC 7517 §5) from a file or an http(s)
  URL. It is loaded at start-up and refreshed by a background thread every ``PROVISIO_JWKS_REFRESH``
  seconds, and sooner (at most every ``MIN_REFRESH`` seconds) after a token named a key id it does not
  know (key rotation). A request never waits for it: a token signed with a key not loaded yet is a 401.
- ``JwtVerifier.verify`` checks, in this order: the compact form; the ``alg`` is one of the configured
  asymmetric algorithms (so ``none`` and ``HS256`` signed with the public key, the algorithm-confusion
  attack, are refused before any key is touched); the ``kid`` names a loaded key; the signature; then
  ``iss``, ``aud``, ``exp`` (required), ``nbf`` and ``iat`` with ``PROVISIO_JWT_CLOCK_SKEW`` of leeway.
- Scopes come from ``scope`` (RFC 8693 §4.2, space-separated) or ``scp`` (a list or a string).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jws import extract_compact

from common.redaction import redact_url

logger = logging.getLogger(__name__)

MIN_REFRESH = 30.0  # seconds between refreshes asked for by unknown key ids
FETCH_TIMEOUT = httpx.Timeout(5.0, connect=2.0)


class JwtRejected(Exception):
    """Why a JWT was refused (never the token itself)."""


class JwksSource:
    def __init__(self, location: str, refresh_interval: float = 300.0) -> None:
        self.location = location
        self.refresh_interval = max(refresh_interval, 1.0)
        self._keys: dict[str | None, Any] = {}
        self._lock = threading.Lock()
        self._loaded = threading.Condition()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_load = 0.0
        self.loads = 0  # successful loads (tests watch the background refresh with it)

    @property
    def is_url(self) -> bool:
        return self.location.startswith(("http://", "https://"))

    def load_now(self) -> bool:
        """Fetch and replace the key set; on failure keep the keys already loaded. True when loaded."""
        self._last_load = time.monotonic()
        try:
            document = self._fetch()
            key_set = KeySet.import_key_set(document)  # type: ignore[arg-type]  # checked by _fetch
        except (OSError, ValueError, httpx.HTTPError, JoseError) as error:
            logger.warning("JWKS %s not loaded: %s", self._display(), error)
            return False
        keys: dict[str | None, Any] = {}
        for key in key_set.keys:
            if key.is_private:
                logger.warning("JWKS %s holds a private key; it should publish public keys only", self._display())
            keys[key.kid] = key
        with self._lock:
            self._keys = keys
        with self._loaded:
            self.loads += 1
            self._loaded.notify_all()
        logger.info("JWKS %s loaded: %d key(s)", self._display(), len(keys))
        return True

    def _fetch(self) -> dict[str, Any]:
        if self.is_url:
            response = httpx.get(self.location, timeout=FETCH_TIMEOUT, follow_redirects=False)
            response.raise_for_status()
            document: Any = response.json()
        else:
            document = json.loads(Path(self.location).read_text(encoding="utf-8"))
        if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
            raise ValueError("not a JWKS document (no keys array)")
        return document

    def _display(self) -> str:
        return redact_url(self.location) if self.is_url else self.location

    def wait_for_loads(self, count: int, timeout: float) -> bool:
        """Wait until ``count`` loads have succeeded (tests and start-up checks)."""
        with self._loaded:
            return self._loaded.wait_for(lambda: self.loads >= count, timeout)

    def key_for(self, kid: str | None) -> Any | None:
        with self._lock:
            if kid is None and len(self._keys) == 1:
                return next(iter(self._keys.values()))
            return self._keys.get(kid)

    def request_refresh(self) -> None:
        """Ask the background thread for an early refresh (rate-limited); never blocks."""
        if time.monotonic() - self._last_load >= MIN_REFRESH:
            self._wake.set()

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._refresh_loop, name="jwks-refresh", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def _refresh_loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.refresh_interval)
            self._wake.clear()
            if self._stop.is_set():
                return
            self.load_now()


@dataclass(frozen=True)
class VerifiedJwt:
    subject: str
    scopes: frozenset[str]
    expires_at: float
    claims: dict[str, Any]


class JwtVerifier:
    def __init__(
        self, source: JwksSource, *, issuer: str, audience: str, algorithms: Collection[str], clock_skew: float
    ) -> None:
        self.source = source
        self.issuer = issuer
        self.audience = audience
        self.algorithms = frozenset(algorithms)
        self.clock_skew = int(clock_skew)

    def verify(self, token: str) -> VerifiedJwt:
        try:
            header = extract_compact(token.encode("ascii")).headers()
        except (JoseError, ValueError, UnicodeError) as error:
            raise JwtRejected(f"not a compact JWS ({type(error).__name__})") from None
        algorithm = header.get("alg")
        if algorithm not in self.algorithms:
            raise JwtRejected(f"algorithm {str(algorithm)[:20]!r} is not accepted")
        kid = header.get("kid")
        key = self.source.key_for(kid if isinstance(kid, str) else None)
        if key is None:
            self.source.request_refresh()
            raise JwtRejected(f"unknown key id {str(kid)[:64]!r}")
        try:
            decoded = jwt.decode(token, key, algorithms=[algorithm])
        except JoseError as error:
            raise JwtRejected(f"signature not valid ({error.error})") from None
        claims = decoded.claims
        registry = jwt.JWTClaimsRegistry(
            leeway=self.clock_skew,
            iss={"essential": True, "value": self.issuer},
            aud={"essential": True, "value": self.audience},
            exp={"essential": True},
        )
        try:
            registry.validate(claims)
        except JoseError as error:
            raise JwtRejected(f"claims not valid: {error.error} {error.description or ''}".strip()) from None
        subject = claims.get("sub") or claims.get("client_id") or claims.get("azp")
        if not isinstance(subject, str) or not subject:
            raise JwtRejected("no sub claim")
        return VerifiedJwt(subject=subject, scopes=scopes_of(claims), expires_at=float(claims["exp"]), claims=claims)


def scopes_of(claims: dict[str, Any]) -> frozenset[str]:
    """``scope`` (space-separated, RFC 8693 §4.2) or ``scp`` (a list, as some providers send it)."""
    value = claims.get("scope", claims.get("scp", ""))
    if isinstance(value, str):
        return frozenset(value.split())
    if isinstance(value, list):
        return frozenset(item for item in value if isinstance(item, str))
    return frozenset()
