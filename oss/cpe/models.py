"""The CPE tables: models, stock levels (one per model and warehouse), units, holds and unit history.

Warehouse sites, customer sites and ports are ids of ``oss/site`` kept as strings (no foreign key into
another context's tables: the two contexts are built and migrated independently).

``cpe_stock`` is the concurrency design: every change that moves a unit into or out of ``inStock`` at a
warehouse, and every hold, locks that model's stock row there (``FOR UPDATE`` on PostgreSQL; SQLite
serialises writers with ``BEGIN IMMEDIATE``) and keeps its two counters exact: ``in_stock`` (units in
stock) and ``held`` (units counted by holds and not yet picked). Two orders racing for the last unit
queue on that row; the second one sees ``in_stock - held == 0`` and is refused.

``cpe_unit_history`` is not ``Audited``: history rows are themselves the trail (append-only, never changed).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from common.audit import Audited
from common.orm import Base, UTCDateTime, id_column_type, new_id

_BIG_ID = BigInteger().with_variant(Integer(), "sqlite")  # SQLite autoincrements INTEGER PRIMARY KEY only

MODEL_UNIQUE_CONSTRAINT = "uq_cpe_model_manufacturer_model"
STOCK_UNIQUE_CONSTRAINT = "uq_cpe_stock_model_warehouse"
SERIAL_UNIQUE_CONSTRAINT = "uq_cpe_unit_serial"
MAC_UNIQUE_CONSTRAINT = "uq_cpe_unit_mac"


class CpeModelRow(Audited, Base):
    __tablename__ = "cpe_model"
    __audit_entity_type__ = "cpeModel"
    __table_args__ = (UniqueConstraint("manufacturer", "model", name=MODEL_UNIQUE_CONSTRAINT),)

    id: Mapped[str] = mapped_column(id_column_type(), primary_key=True, default=new_id)
    manufacturer: Mapped[str] = mapped_column(String(128))
    model: Mapped[str] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CpeStockRow(Audited, Base):
    """The stock of one model at one warehouse site: counters kept under this row's lock, and its threshold."""

    __tablename__ = "cpe_stock"
    __audit_entity_type__ = "cpeStockLevel"
    __table_args__ = (UniqueConstraint("model_id", "warehouse_id", name=STOCK_UNIQUE_CONSTRAINT),)

    id: Mapped[str] = mapped_column(id_column_type(), primary_key=True, default=new_id)
    model_id: Mapped[str] = mapped_column(ForeignKey("cpe_model.id", ondelete="RESTRICT"))
    warehouse_id: Mapped[str] = mapped_column(String(128), index=True)
    in_stock: Mapped[int] = mapped_column(Integer, default=0)
    held: Mapped[int] = mapped_column(Integer, default=0)
    threshold: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CpeHoldRow(Audited, Base):
    """A TMF685 reservation item's hold: ``quantity`` units of a model at a warehouse, ``picked`` of them bound."""

    __tablename__ = "cpe_hold"
    __audit_entity_type__ = "cpeHold"

    id: Mapped[str] = mapped_column(id_column_type(), primary_key=True, default=new_id)
    stock_id: Mapped[str] = mapped_column(ForeignKey("cpe_stock.id", ondelete="RESTRICT"), index=True)
    reservation_id: Mapped[str] = mapped_column(String(64), index=True)
    reservation_item_id: Mapped[str] = mapped_column(String(64), unique=True)
    order_item_id: Mapped[str | None] = mapped_column(String(128))
    quantity: Mapped[int] = mapped_column(Integer)
    picked: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[str] = mapped_column(String(16))
    hold_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CpeUnitRow(Audited, Base):
    """One unit (its id is also its TMF639 resource id once it has one)."""

    __tablename__ = "cpe_unit"
    __audit_entity_type__ = "cpeUnit"
    __table_args__ = (
        UniqueConstraint("serial", name=SERIAL_UNIQUE_CONSTRAINT),
        UniqueConstraint("mac", name=MAC_UNIQUE_CONSTRAINT),
        Index("ix_cpe_unit_model_warehouse_state", "model_id", "warehouse_id", "state"),
    )

    id: Mapped[str] = mapped_column(id_column_type(), primary_key=True, default=new_id)
    model_id: Mapped[str] = mapped_column(ForeignKey("cpe_model.id", ondelete="RESTRICT"))
    serial: Mapped[str] = mapped_column(String(64))
    mac: Mapped[str] = mapped_column(String(17))
    state: Mapped[str] = mapped_column(String(16), index=True)
    warehouse_id: Mapped[str] = mapped_column(String(128))
    hold_id: Mapped[str | None] = mapped_column(ForeignKey("cpe_hold.id", ondelete="SET NULL"), index=True)
    reservation_id: Mapped[str | None] = mapped_column(String(64), index=True)
    order_item_id: Mapped[str | None] = mapped_column(String(128), index=True)
    carrier: Mapped[str | None] = mapped_column(String(64))
    tracking_reference: Mapped[str | None] = mapped_column(String(128))
    customer_site_id: Mapped[str | None] = mapped_column(String(128), index=True)
    port_id: Mapped[str | None] = mapped_column(String(128))
    has_resource: Mapped[bool] = mapped_column(default=False)  # a TMF639 row exists (it left plain stock once)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    row_version: Mapped[int] = mapped_column(Integer, server_default=text("1"))

    __mapper_args__ = {"version_id_col": row_version}


class CpeHistoryRow(Base):
    """One transition of one unit: when, from, to, who, why, for which hold / reservation / order item."""

    __tablename__ = "cpe_unit_history"
    __table_args__ = (Index("ix_cpe_unit_history_unit_id_id", "unit_id", "id"),)

    id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True, autoincrement=True)
    unit_id: Mapped[str] = mapped_column(ForeignKey("cpe_unit.id", ondelete="CASCADE"))
    serial: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(128))
    reason: Mapped[str | None] = mapped_column(String(255))
    reservation_id: Mapped[str | None] = mapped_column(String(64))
    hold_id: Mapped[str | None] = mapped_column(String(64))
    order_item_id: Mapped[str | None] = mapped_column(String(128))
