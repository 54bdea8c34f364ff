"""Tables of authentication: API tokens and the failed-attempt counter.

- ``api_token``: one row per API token. The key itself is never stored: ``key_hash`` is its HMAC-SHA256
  under the server secret (``server.auth.tokens``), so a copy of the database lets no one in. Revoked
  tokens stay (``revoked_at``) so that the audit trail and ``GET /token`` still say who had what. The table
  opts into the audit trail with ``key_hash`` masked: who created or revoked a token is an audit question.
- ``auth_failure``: failed authentications per client address per minute window, in the database so that
  every API process counts the same attempts (README "Authentication").
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from common.audit import Audited
from common.orm import Base, JSONType, UTCDateTime, new_id
from common.request_context import IDENTITY_MAX_LENGTH


class ApiToken(Audited, Base):
    __tablename__ = "api_token"
    __audit_entity_type__ = "apiToken"
    __audit_exclude__ = frozenset({"key_hash"})

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    subject: Mapped[str] = mapped_column(String(IDENTITY_MAX_LENGTH), index=True)
    scopes: Mapped[list[str]] = mapped_column(JSONType)
    role: Mapped[str | None] = mapped_column(String(64), nullable=True)
    description: Mapped[str | None] = mapped_column(String(255), nullable=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(IDENTITY_MAX_LENGTH))
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class AuthFailure(Base):
    __tablename__ = "auth_failure"
    __table_args__ = (Index("ix_auth_failure_window_start", "window_start"),)

    client_address: Mapped[str] = mapped_column(String(64), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
