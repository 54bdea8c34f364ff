"""The ``reservation``, ``reservation_item`` and ``reservation_hold`` tables (TMF685 Reservation).

A reservation is one row with its state and validity; each item one row (its @type, pool, quantity and
criteria); each resource an item holds one ``reservation_hold`` row (the provider's id and value), so a
commit or a release hands the provider back exactly what it held. Nothing here refers to an inventory's
tables: providers own those.

The sweeper finds due holds from ``ix_reservation_state_expirable_valid_until`` (``reserved``, expirable,
ending before now) without scanning committed or released history.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from common.audit import Audited
from common.orm import Base, JSONType, UTCDateTime, id_column_type, new_id


class ReservationRow(Audited, Base):
    __tablename__ = "reservation"
    __audit_entity_type__ = "reservation"
    __table_args__ = (
        Index("ix_reservation_created_at_id", "created_at", "id"),
        Index("ix_reservation_state_expirable_valid_until", "state", "expirable", "valid_until"),
    )

    id: Mapped[str] = mapped_column(id_column_type(), primary_key=True, default=new_id)
    state: Mapped[str] = mapped_column(String(16), index=True)  # reservationState
    description: Mapped[str | None] = mapped_column(Text)
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    valid_until: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    # False while an entity in delivery holds it (domain.never_expires): the sweeper leaves it alone.
    expirable: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    # relatedParty, relatedEntity (TMF716: what holds it), channelRef, requestedPeriod, productOfferingRef,
    # @schemaLocation: TMF JSON (JSONB on PostgreSQL), filtered by common.tmf's JSON paths.
    document: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict, server_default=text("'{}'"))
    state_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    state_change_reason: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    row_version: Mapped[int] = mapped_column(Integer, server_default=text("1"))

    items: Mapped[list[ReservationItemRow]] = relationship(
        back_populates="reservation", order_by="ReservationItemRow.position", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": row_version}


class ReservationItemRow(Audited, Base):
    __tablename__ = "reservation_item"
    __audit_entity_type__ = "reservation_item"

    id: Mapped[str] = mapped_column(id_column_type(), primary_key=True, default=new_id)
    reservation_id: Mapped[str] = mapped_column(ForeignKey("reservation.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(64))  # the item's @type, which names its provider
    provider: Mapped[str] = mapped_column(String(64))
    pool_id: Mapped[str | None] = mapped_column(String(64), index=True)
    quantity: Mapped[int] = mapped_column(Integer)
    criteria: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    schema_location: Mapped[str | None] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16))  # subReservationState

    reservation: Mapped[ReservationRow] = relationship(back_populates="items")
    holds: Mapped[list[ReservationHoldRow]] = relationship(
        back_populates="item", order_by="ReservationHoldRow.id", cascade="all, delete-orphan"
    )


class ReservationHoldRow(Audited, Base):
    __tablename__ = "reservation_hold"
    __audit_entity_type__ = "reservation_hold"
    __table_args__ = (Index("ix_reservation_hold_resource_id", "resource_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    item_id: Mapped[str] = mapped_column(ForeignKey("reservation_item.id", ondelete="CASCADE"), index=True)
    resource_id: Mapped[str] = mapped_column(String(255))  # the provider's id (a TMF639 id where there is one)
    value: Mapped[str] = mapped_column(String(255))
    resource_type: Mapped[str] = mapped_column(String(64))
    pool_id: Mapped[str] = mapped_column(String(64))

    item: Mapped[ReservationItemRow] = relationship(back_populates="holds")
