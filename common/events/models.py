"""Tables of the transactional outbox (TMF630 hub/listener notifications, TMF688 event shape).

- ``event_subscription``: one row per listener registered on an API's hub (``POST /hub``).
- ``event_outbox``: one row per event, written in the same transaction as the change it reports, so an
  event exists if and only if the change committed. ``seq`` orders events.
- ``event_delivery``: one row per (event, matching subscription) or (event, internal consumer), created
  at publish time. The dispatcher claims due rows (``state='pending' AND next_attempt_at <= now``), and a
  claim is a lease: ``next_attempt_at`` is pushed forward, so a worker that dies mid-delivery loses nothing.
  A row goes to exactly one of a hub subscription (``subscription_id``, POSTed to its callback) or an
  internal consumer (``consumer``, a handler registered by a context's facade, ``common.events.consumers``);
  each of them is one ordered line (head of line per subscription, per consumer).

None of these tables opts into the audit trail: they are machinery, and auditing them would write an
audit row for every delivery attempt.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from common.events.signing import new_secret
from common.orm import Base, JSONType, UTCDateTime, new_id
from common.redaction import redact_url

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a bigint identity.
BigId = BigInteger().with_variant(Integer(), "sqlite")

PENDING = "pending"
DELIVERED = "delivered"
DEAD = "dead"
DELIVERY_STATES = (PENDING, DELIVERED, DEAD)


def _shown_callback(context: Any) -> str:
    return redact_url(context.get_current_parameters()["callback"])


class EventSubscription(Base):
    """A listener registered on one API's hub (TMF630 Part 1 §"Notifications", TMF688 EventSubscription).

    ``signing_secret`` keys the HMAC of every delivery (``common.events.signing``). It is kept as made,
    since signing needs the key itself (a hash of it could not sign), and it leaves the server only
    once, in the 201 of ``POST /hub``: no representation, log line or audit record shows it.
    """

    __tablename__ = "event_subscription"
    # The table is not audited; should it ever opt in (common.audit.Audited), the secret stays masked.
    __audit_exclude__ = frozenset({"signing_secret"})

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    api: Mapped[str] = mapped_column(String(64), index=True)  # server.apis ApiEntry.name
    callback: Mapped[str] = mapped_column(String(2048))
    # The callback as every reader sees it (``common.redaction.redact_url``). Lists filter and sort on this
    # column, never on ``callback``: a filter or a sort on the stored URL would let a caller confirm a guessed
    # credential one request at a time.
    callback_shown: Mapped[str] = mapped_column(String(2048), default=_shown_callback)
    query: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(128))
    signing_secret: Mapped[str] = mapped_column(String(64), default=new_secret)
    # The credential that registered the listener (issue 15): a listener sees only events that credential
    # could read, checked at each delivery (``server.auth.hub_gate``). kind: token, jwt or none (auth off).
    credential_kind: Mapped[str | None] = mapped_column(String(16), nullable=True)
    credential_subject: Mapped[str | None] = mapped_column(String(128), nullable=True)
    credential_token_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    credential_scopes: Mapped[list[str] | None] = mapped_column(JSONType, nullable=True)
    credential_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class OutboxEvent(Base):
    """One TMF event as it will be POSTed to listeners (``payload``), kept with its order (``seq``)."""

    __tablename__ = "event_outbox"

    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    api: Mapped[str] = mapped_column(String(64))
    event_type: Mapped[str] = mapped_column(String(128))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class EventDelivery(Base):
    """The delivery of one event to one subscription: a durable work item (ARCHITECTURE.md §3)."""

    __tablename__ = "event_delivery"
    __table_args__ = (
        UniqueConstraint("event_seq", "subscription_id", name="uq_event_delivery_event_seq_subscription_id"),
        UniqueConstraint("event_seq", "consumer", name="uq_event_delivery_event_seq_consumer"),
        CheckConstraint("state IN ('pending', 'delivered', 'dead')", name="state"),
        # Exactly one target: a hub subscription or an internal consumer.
        CheckConstraint("(subscription_id IS NULL) <> (consumer IS NULL)", name="one_target"),
        # The dispatcher's claim query: due pending rows.
        Index("ix_event_delivery_state_next_attempt_at", "state", "next_attempt_at"),
        # Per-subscription ordering (head of line) and the ON DELETE CASCADE from the subscription.
        Index("ix_event_delivery_subscription_id_state_event_seq", "subscription_id", "state", "event_seq"),
        # The same for internal consumers.
        Index("ix_event_delivery_consumer_state_event_seq", "consumer", "state", "event_seq"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    event_seq: Mapped[int] = mapped_column(
        BigId, ForeignKey("event_outbox.seq", ondelete="CASCADE", name="fk_event_delivery_event_seq_event_outbox")
    )
    subscription_id: Mapped[str | None] = mapped_column(
        String(36),
        ForeignKey(
            "event_subscription.id", ondelete="CASCADE", name="fk_event_delivery_subscription_id_event_subscription"
        ),
        nullable=True,
    )
    # The name of an internal consumer (``common.events.register_consumer``); no table of its own: the
    # registry lives in code, loaded by every process from the contexts' facades.
    consumer: Mapped[str | None] = mapped_column(String(64), nullable=True)
    state: Mapped[str] = mapped_column(String(16), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(500), nullable=True)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
