"""Authentication settings, read from the environment with the rest (``server.settings``).

- ``PROVISIO_AUTH`` (``on``): ``off`` serves every API without credentials (local experiments only; the
  banner says so in red).
- ``PROVISIO_SECRET_KEY`` (``<data dir>/secret.key``, created with mode 0600): the server secret API tokens
  are HMAC'd with; set the same value on every host of a deployment.
- ``PROVISIO_JWKS`` (none: JWTs refused): the identity provider's JWKS, an http(s) URL (fetched in the
  background) or a file; ``PROVISIO_JWT_ISSUER`` / ``PROVISIO_JWT_AUDIENCE``: the ``iss`` and ``aud`` a JWT
  must carry (both required with a JWKS); ``PROVISIO_JWT_ALGORITHMS`` (RS/PS/ES256-512, EdDSA): accepted
  algorithms, asymmetric only; ``PROVISIO_JWT_CLOCK_SKEW`` (60, at most 300): seconds of leeway on
  ``exp``/``nbf``/``iat``; ``PROVISIO_JWKS_REFRESH`` (300): seconds between background refreshes.
- ``PROVISIO_OAUTH_TOKEN_URL`` (``<issuer>/oauth2/token``): the token URL in every document's oauth2 scheme.
- ``PROVISIO_TOKEN_CACHE_TTL`` (5): seconds a verified API token is trusted before it is read again, which
  bounds how long a revocation takes to reach the other API processes.
- ``PROVISIO_AUTH_MAX_FAILURES`` (20): failed authentications per client address per minute before every
  attempt from it is a 429 for the rest of the minute.
- ``PROVISIO_TRUSTED_PROXIES`` (none): comma-separated addresses or networks of reverse proxies whose
  ``X-Forwarded-For`` (client address) and ``X-User`` (identity) are believed.
- ``PROVISIO_AUTH_ROLES`` (the four built-in roles): a JSON object ``{"role": ["scope", ...]}`` adding or
  replacing roles.
"""

from __future__ import annotations

import ipaddress
import json
import os
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

# Every scope an operation can require. Each served document's oauth2 scheme lists the ones it uses;
# tests/api/test_auth_matrix.py checks that every scope an operation names is in this table.
SCOPES: dict[str, str] = {
    "resourceInventory:read": "Read TMF639 resources and listen to their events (hub)",
    "resourceInventory:write": "Create, change and delete TMF639 resources",
    "numberInventory:read": "Read number pools, blocks and numbers; listen to their events (hub)",
    "numberInventory:write": "Create pools and blocks; change numbers' states",
    "cpeInventory:read": "Read CPE models, units, history and stock levels; listen to their events (hub)",
    "cpeInventory:write": "Create models and units, move units along their lifecycle, pick, set thresholds",
    "ipam:read": "Read VRFs, prefixes, pools and addresses; listen to their events (hub)",
    "ipam:write": "Create and delete VRFs, prefixes, pools and addresses; allocate next-available",
    "resourcePool:read": "Read TMF685 pools, reservations and availability; listen to reservation events (hub)",
    "resourcePool:write": "Create TMF685 reservations; commit, release, extend and transfer them",
    "geographicSite:read": "Read TMF674 geographic sites; listen to their events (hub)",
    "geographicSite:write": "Create, change and delete TMF674 geographic sites",
    "dcim:read": "Read racks, device types, devices, ports, cables and traces; listen to their events (hub)",
    "dcim:write": "Create racks, device types, devices and cables; change devices and ports; remove cables",
    "audit:read": "Read the audit trail",
    "productCatalog:read": "Read TMF620 product specifications, offerings and prices; listen to their events (hub)",
    "productCatalog:write": "Create and change TMF620 product specifications, offerings and prices",
    "serviceCatalog:read": "Read TMF633 service specifications; listen to their events (hub)",
    "serviceCatalog:write": "Create and change TMF633 service specifications",
    "resourceCatalog:read": "Read TMF634 resource specifications; listen to their events (hub)",
    "resourceCatalog:write": "Create and change TMF634 resource specifications",
    "events:admin": "See every hub listener and event delivery; redeliver dead letters",
    "steps:admin": "See durable steps and sweepers; retry dead steps",
    "auth:admin": "Create, list and revoke API tokens",
}

# Named bundles of scopes (issue 15). The order system holds, commits and releases reservations (TMF685) and
# gets its ordering scopes when that API is served.
DEFAULT_ROLES: dict[str, tuple[str, ...]] = {
    "order-system": ("resourceInventory:read", "resourcePool:read", "resourcePool:write"),
    "noc": (
        "resourceInventory:read",
        "numberInventory:read",
        "cpeInventory:read",
        "ipam:read",
        "resourcePool:read",
        "audit:read",
        "geographicSite:read",
        "dcim:read",
    ),
    "operator": (
        "resourceInventory:read",
        "resourceInventory:write",
        "numberInventory:read",
        "numberInventory:write",
        "cpeInventory:read",
        "cpeInventory:write",
        "ipam:read",
        "ipam:write",
        "resourcePool:read",
        "resourcePool:write",
        "audit:read",
        "geographicSite:read",
        "geographicSite:write",
        "dcim:read",
        "dcim:write",
    ),
    "admin": tuple(SCOPES),
}

DEFAULT_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA")
MAX_CLOCK_SKEW = 300.0
PLACEHOLDER_TOKEN_URL = "https://identity-provider.invalid/oauth2/token"


@dataclass(frozen=True)
class AuthSettings:
    enabled: bool = True
    secret_key: str | None = None
    jwks: str | None = None
    jwt_issuer: str | None = None
    jwt_audience: str | None = None
    jwt_algorithms: tuple[str, ...] = DEFAULT_ALGORITHMS
    clock_skew: float = 60.0
    jwks_refresh: float = 300.0
    token_url: str = PLACEHOLDER_TOKEN_URL
    token_cache_ttl: float = 5.0
    max_failures_per_minute: int = 20
    trusted_proxies: tuple[str, ...] = ()
    roles: MappingProxyType[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType(DEFAULT_ROLES))

    def __post_init__(self) -> None:
        if not 0 <= self.clock_skew <= MAX_CLOCK_SKEW:
            raise ValueError(f"PROVISIO_JWT_CLOCK_SKEW={self.clock_skew}: between 0 and {MAX_CLOCK_SKEW:.0f} seconds")
        if self.jwks and not (self.jwt_issuer and self.jwt_audience):
            raise ValueError("PROVISIO_JWKS needs PROVISIO_JWT_ISSUER and PROVISIO_JWT_AUDIENCE")
        if self.token_cache_ttl < 0 or self.max_failures_per_minute < 1:
            raise ValueError("PROVISIO_TOKEN_CACHE_TTL must be >= 0 and PROVISIO_AUTH_MAX_FAILURES >= 1")
        for proxy in self.trusted_proxies:
            ipaddress.ip_network(proxy, strict=False)  # raises ValueError on a typo, at start-up
        for role, scopes in self.roles.items():
            unknown = set(scopes) - set(SCOPES)
            if unknown:
                raise ValueError(f"role {role!r} names unknown scopes: {', '.join(sorted(unknown))}")

    @property
    def trusted_networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        return tuple(ipaddress.ip_network(proxy, strict=False) for proxy in self.trusted_proxies)

    @classmethod
    def from_env(cls) -> AuthSettings:
        env = os.environ
        issuer = env.get("PROVISIO_JWT_ISSUER") or None
        token_url = env.get("PROVISIO_OAUTH_TOKEN_URL") or (
            f"{issuer.rstrip('/')}/oauth2/token" if issuer and issuer.startswith("http") else PLACEHOLDER_TOKEN_URL
        )
        return cls(
            enabled=_switch(env.get("PROVISIO_AUTH", "on")),
            secret_key=env.get("PROVISIO_SECRET_KEY") or None,
            jwks=env.get("PROVISIO_JWKS") or None,
            jwt_issuer=issuer,
            jwt_audience=env.get("PROVISIO_JWT_AUDIENCE") or None,
            jwt_algorithms=_list(env.get("PROVISIO_JWT_ALGORITHMS")) or DEFAULT_ALGORITHMS,
            clock_skew=float(env.get("PROVISIO_JWT_CLOCK_SKEW", "60")),
            jwks_refresh=float(env.get("PROVISIO_JWKS_REFRESH", "300")),
            token_url=token_url,
            token_cache_ttl=float(env.get("PROVISIO_TOKEN_CACHE_TTL", "5")),
            max_failures_per_minute=int(env.get("PROVISIO_AUTH_MAX_FAILURES", "20")),
            trusted_proxies=_list(env.get("PROVISIO_TRUSTED_PROXIES")),
            roles=MappingProxyType(_roles(env.get("PROVISIO_AUTH_ROLES"))),
        )


def _switch(value: str) -> bool:
    text = value.strip().lower()
    if text in ("", "on", "1", "true", "yes"):
        return True
    if text in ("off", "0", "false", "no"):
        return False
    raise ValueError(f"PROVISIO_AUTH={value!r}: use on or off")


def _list(value: str | None) -> tuple[str, ...]:
    return tuple(item.strip() for item in (value or "").split(",") if item.strip())


def _roles(value: str | None) -> dict[str, tuple[str, ...]]:
    roles = dict(DEFAULT_ROLES)
    if value:
        extra: Any = json.loads(value)
        if not isinstance(extra, dict) or not all(isinstance(scopes, list) for scopes in extra.values()):
            raise ValueError('PROVISIO_AUTH_ROLES must be a JSON object {"role": ["scope", ...]}')
        roles.update({str(name): tuple(str(scope) for scope in scopes) for name, scopes in extra.items()})
    return roles
