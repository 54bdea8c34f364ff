"""API tokens: created for a user with scopes (or a role) and an optional expiry, shown once, stored as an
HMAC-SHA256 of the key under the server secret, listable and revocable.

Why HMAC and not a password KDF: the key is 256 random bits (``secrets.token_urlsafe(32)``), so there is
nothing to stretch; a keyed hash makes a stolen table useless without the secret, and costs a microsecond,
which is what lets every request be checked (README "Authentication", ``auth.overhead``).

The server secret is ``PROVISIO_SECRET_KEY`` or ``<data dir>/secret.key``, created on first use with mode
0600. Every process that verifies tokens must have the same secret (same data dir, or the same variable).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from common import clock, request_context
from server.auth.errors import InvalidTokenRequest, TokenNotFound, UnknownRole, UnknownScope
from server.auth.models import ApiToken
from server.auth.settings import SCOPES

logger = logging.getLogger(__name__)

KEY_PREFIX = "pvo_"  # lets secret scanners and people recognise a Provisio key
SECRET_FILE = "secret.key"


def server_secret(data_dir: Path, configured: str | None = None) -> bytes:
    """The secret API tokens are HMAC'd with: ``configured`` (PROVISIO_SECRET_KEY), else the data dir's
    ``secret.key``, created (mode 0600, exclusively: two processes starting together agree) when absent."""
    if configured:
        return configured.encode("utf-8")
    path = data_dir / SECRET_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        if path.stat().st_mode & 0o077:
            logger.warning("%s is readable by other users: chmod 600 it", path)
        return path.read_text(encoding="ascii").strip().encode("ascii")
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(secrets.token_hex(32) + "\n")
    return path.read_text(encoding="ascii").strip().encode("ascii")


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def key_hash(secret: bytes, key: str) -> str:
    return hmac.new(secret, key.encode("utf-8", "surrogateescape"), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class VerifiedToken:
    """What a request needs to know about a token, cached by ``server.auth.state``."""

    token_id: str
    subject: str
    scopes: frozenset[str]
    expires_at: datetime | None
    revoked: bool


def resolve_scopes(
    scopes: Iterable[str], role: str | None, roles: Mapping[str, Sequence[str]]
) -> tuple[list[str], str | None]:
    """The token's scopes: the role's bundle plus the named scopes, each one known (400 otherwise)."""
    wanted = {scope.strip() for scope in scopes if scope and scope.strip()}
    unknown = sorted(wanted - set(SCOPES))
    if unknown:
        raise UnknownScope(f"Unknown scope {', '.join(unknown)}; known scopes: {', '.join(SCOPES)}.")
    if role:
        if role not in roles:
            raise UnknownRole(f"Unknown role {role}; roles: {', '.join(roles)}.")
        wanted |= set(roles[role])
    if not wanted:
        raise InvalidTokenRequest("A token needs at least one scope or a role.")
    return sorted(wanted), role or None


def _check_subject(subject: str) -> str:
    subject = unicodedata.normalize("NFC", subject.strip())
    if not subject:
        raise InvalidTokenRequest("A token needs a user.")
    if len(subject) > request_context.IDENTITY_MAX_LENGTH:
        raise InvalidTokenRequest(f"user is longer than {request_context.IDENTITY_MAX_LENGTH} characters.")
    if any(unicodedata.category(char) == "Cc" for char in subject):
        raise InvalidTokenRequest("user contains a control character.")
    return subject


def create_token(
    session: Session,
    secret: bytes,
    *,
    subject: str,
    scopes: Iterable[str] = (),
    role: str | None = None,
    roles: Mapping[str, Sequence[str]],
    expires_at: datetime | None = None,
    description: str | None = None,
) -> tuple[ApiToken, str]:
    """Add a token to the caller's transaction; returns the row and the key (the only time it exists)."""
    subject = _check_subject(subject)
    granted, role = resolve_scopes(scopes, role, roles)
    now = clock.now()
    if expires_at is not None and expires_at <= now:
        raise InvalidTokenRequest("expiresAt is in the past.")
    if description is not None and len(description) > 255:
        raise InvalidTokenRequest("description is longer than 255 characters.")
    key = new_key()
    token = ApiToken(
        subject=subject,
        scopes=granted,
        role=role,
        description=description,
        key_hash=key_hash(secret, key),
        created_at=now,
        created_by=request_context.current().actor,
        expires_at=expires_at,
    )
    session.add(token)
    session.flush()
    logger.info("API token %s created for %s with scopes %s", token.id, subject, " ".join(granted))
    return token, key


def revoke_token(session: Session, token_id: str) -> ApiToken:
    """Mark a token revoked (idempotent); every process refuses it within the token cache TTL."""
    token = session.get(ApiToken, token_id, with_for_update=True)
    if token is None:
        raise TokenNotFound(f"No API token with id {token_id}.")
    if token.revoked_at is None:
        token.revoked_at = clock.now()
        session.flush()
        logger.info("API token %s of %s revoked", token.id, token.subject)
    return token


def find_token(session: Session, token_id: str) -> ApiToken:
    token = session.get(ApiToken, token_id)
    if token is None:
        raise TokenNotFound(f"No API token with id {token_id}.")
    return token


def lookup(session: Session, digest: str) -> VerifiedToken | None:
    """The token whose key hashes to ``digest``, revoked and expired ones included (the caller decides)."""
    row = session.execute(
        select(ApiToken.id, ApiToken.subject, ApiToken.scopes, ApiToken.expires_at, ApiToken.revoked_at).where(
            ApiToken.key_hash == digest
        )
    ).one_or_none()
    if row is None:
        return None
    return VerifiedToken(
        token_id=row.id,
        subject=row.subject,
        scopes=frozenset(row.scopes or ()),
        expires_at=row.expires_at,
        revoked=row.revoked_at is not None,
    )


def token_state(session: Session, token_id: str) -> VerifiedToken | None:
    token = session.get(ApiToken, token_id)
    if token is None:
        return None
    return VerifiedToken(
        token.id, token.subject, frozenset(token.scopes or ()), token.expires_at, token.revoked_at is not None
    )
