"""The ``idempotency_key`` table: one row per (user, Idempotency-Key) that changed something.

Written in two steps (README "Idempotency-Key"):

1. in the use case's own transaction, just before its commit (``common.uow`` hook): the key, the request's
   fingerprint (method, path, query, body), and the reference to the effect: the table and id of the first
   row the transaction created, and the path a GET of it answers (``effect_path``);
2. right after the commit, once the handler has rendered its answer: ``status``, ``headers`` and ``body``.

A row with step 1 and without step 2 is a request whose answer was lost (the process died between the two
writes, or it is being rendered right now): a retry renders the answer again from the effect.

Not audited: it is bookkeeping of requests, not an entity, and an answer may hold a secret shown once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from common.orm import Base, JSONType, UTCDateTime
from common.request_context import IDENTITY_MAX_LENGTH

MAX_KEY_LENGTH = 255
PATH_MAX_LENGTH = 2048


class IdempotencyRecord(Base):
    __tablename__ = "idempotency_key"
    __table_args__ = (Index("ix_idempotency_key_expires_at", "expires_at"),)

    actor: Mapped[str] = mapped_column(String(IDENTITY_MAX_LENGTH), primary_key=True)
    key: Mapped[str] = mapped_column(String(MAX_KEY_LENGTH), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    request_id: Mapped[str] = mapped_column(String(IDENTITY_MAX_LENGTH))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    effect_type: Mapped[str | None] = mapped_column(String(64), nullable=True)
    effect_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    effect_path: Mapped[str | None] = mapped_column(String(PATH_MAX_LENGTH), nullable=True)
    status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    headers: Mapped[list[Any] | None] = mapped_column(JSONType, nullable=True)
    body: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
