"""Queries on the CPE tables. Never commits (the use case does).

``lock_stock`` is the one lock of the context: the stock row of a model at a warehouse, created on first
use with an insert that ignores a concurrent twin (``ON CONFLICT DO NOTHING``), then read ``FOR UPDATE``.
Every hold, pick and move into or out of ``inStock`` takes it, so its counters are exact. A use case that
needs two stock rows (a swap at install across warehouses) locks them in id order, one global order.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Row, Table, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from common import clock, tmf
from common.orm import new_id
from common.tmf import DATETIME, INTEGER, column, enum_of
from oss.cpe.domain import STATES
from oss.cpe.models import CpeHistoryRow, CpeHoldRow, CpeModelRow, CpeStockRow, CpeUnitRow

SPEC = Path(__file__).resolve().parents[2] / "openapi" / "cpe.yaml"
MODEL: Table = CpeModelRow.__table__  # type: ignore[assignment]
STOCK: Table = CpeStockRow.__table__  # type: ignore[assignment]
UNIT: Table = CpeUnitRow.__table__  # type: ignore[assignment]
HOLD: Table = CpeHoldRow.__table__  # type: ignore[assignment]
HISTORY: Table = CpeHistoryRow.__table__  # type: ignore[assignment]

MODEL_QUERY = tmf.QuerySpec(
    attributes=(
        column("id", MODEL.c.id),
        column("manufacturer", MODEL.c.manufacturer),
        column("model", MODEL.c.model),
        column("name", MODEL.c.name),
        column("createdAt", MODEL.c.created_at, DATETIME),
    ),
    default_order=(MODEL.c.manufacturer, MODEL.c.model),
    tiebreaker=MODEL.c.id,
    members=tmf.schema_members(SPEC, "CpeModel"),
)
UNIT_QUERY = tmf.QuerySpec(
    attributes=(
        column("id", UNIT.c.id),
        column("modelId", UNIT.c.model_id),
        column("serialNumber", UNIT.c.serial),
        column("macAddress", UNIT.c.mac),
        column("state", UNIT.c.state, enum_of(*STATES)),
        column("warehouseId", UNIT.c.warehouse_id),
        column("reservationId", UNIT.c.reservation_id),
        column("holdId", UNIT.c.hold_id),
        column("orderItemId", UNIT.c.order_item_id),
        column("carrier", UNIT.c.carrier),
        column("trackingReference", UNIT.c.tracking_reference),
        column("customerSiteId", UNIT.c.customer_site_id),
        column("portId", UNIT.c.port_id),
        column("createdAt", UNIT.c.created_at, DATETIME),
        column("updatedAt", UNIT.c.updated_at, DATETIME),
    ),
    default_order=(UNIT.c.serial,),
    tiebreaker=UNIT.c.id,
    members=tmf.schema_members(SPEC, "CpeUnit"),
)
STOCK_QUERY = tmf.QuerySpec(
    attributes=(
        column("id", STOCK.c.id),
        column("modelId", STOCK.c.model_id),
        column("warehouseId", STOCK.c.warehouse_id),
        column("inStock", STOCK.c.in_stock, INTEGER),
        column("held", STOCK.c.held, INTEGER),
        column("threshold", STOCK.c.threshold, INTEGER),
        column("updatedAt", STOCK.c.updated_at, DATETIME),
    ),
    default_order=(STOCK.c.model_id, STOCK.c.warehouse_id),
    tiebreaker=STOCK.c.id,
    members=tmf.schema_members(SPEC, "StockLevel"),
)
HISTORY_QUERY = tmf.QuerySpec(
    attributes=(
        column("fromState", HISTORY.c.from_state, enum_of(*STATES)),
        column("toState", HISTORY.c.to_state, enum_of(*STATES)),
        column("actor", HISTORY.c.actor),
        column("reservationId", HISTORY.c.reservation_id),
        column("holdId", HISTORY.c.hold_id),
        column("orderItemId", HISTORY.c.order_item_id),
        column("at", HISTORY.c.at, DATETIME),
    ),
    default_order=(HISTORY.c.id,),
    tiebreaker=HISTORY.c.id,
    members=tmf.schema_members(SPEC, "CpeUnitHistory"),
)

_MODEL_LISTS = tmf.ListStatements(MODEL, MODEL_QUERY)
_UNIT_LISTS = tmf.ListStatements(UNIT, UNIT_QUERY)
_STOCK_LISTS = tmf.ListStatements(STOCK, STOCK_QUERY)


def list_page(session: Session, lists: tmf.ListStatements, query: tmf.ListQuery) -> tuple[list[Row[Any]], int]:
    count, page, params = lists.for_query(query)
    connection = session.connection()
    total = connection.scalar(count, params) or 0
    if query.limit == 0 or query.offset >= total:
        return [], total
    return list(connection.execute(page, params)), total


def list_models(session: Session, query: tmf.ListQuery) -> tuple[list[Row[Any]], int]:
    return list_page(session, _MODEL_LISTS, query)


def list_units(session: Session, query: tmf.ListQuery) -> tuple[list[Row[Any]], int]:
    return list_page(session, _UNIT_LISTS, query)


def list_stock(session: Session, query: tmf.ListQuery) -> tuple[list[Row[Any]], int]:
    return list_page(session, _STOCK_LISTS, query)


def list_history(session: Session, unit_id: str, query: tmf.ListQuery) -> tuple[list[Row[Any]], int]:
    condition = tmf.where_clause(query) & (HISTORY.c.unit_id == unit_id)
    connection = session.connection()
    total = connection.scalar(select(func.count()).select_from(HISTORY).where(condition)) or 0
    ordering = tmf.order_by(query, HISTORY_QUERY) if query.sort else [HISTORY.c.id]
    page = select(HISTORY).where(condition).order_by(*ordering).offset(query.offset).limit(query.limit)
    return list(connection.execute(page)), total


def lock_stock(session: Session, model_id: str, warehouse_id: str) -> CpeStockRow:
    """The stock row of ``model_id`` at ``warehouse_id``, created if missing, locked for the transaction."""
    found = _locked(session, model_id, warehouse_id)
    if found is not None:
        return found
    now = clock.now()
    values = {
        "id": new_id(),
        "model_id": model_id,
        "warehouse_id": warehouse_id,
        "in_stock": 0,
        "held": 0,
        "threshold": 0,
        "created_at": now,
        "updated_at": now,
    }
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(insert(STOCK).values(**values).on_conflict_do_nothing(index_elements=["model_id", "warehouse_id"]))
    created = _locked(session, model_id, warehouse_id)
    assert created is not None  # inserted now or by the concurrent twin this insert waited for
    return created


def _locked(session: Session, model_id: str, warehouse_id: str) -> CpeStockRow | None:
    statement = (
        select(CpeStockRow)
        .where(CpeStockRow.model_id == model_id, CpeStockRow.warehouse_id == warehouse_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return session.execute(statement).scalar_one_or_none()


def lock_stock_by_id(session: Session, stock_id: str) -> CpeStockRow | None:
    statement = (
        select(CpeStockRow)
        .where(CpeStockRow.id == stock_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return session.execute(statement).scalar_one_or_none()


def lock_unit(session: Session, unit_id: str) -> CpeUnitRow | None:
    statement = (
        select(CpeUnitRow).where(CpeUnitRow.id == unit_id).with_for_update().execution_options(populate_existing=True)
    )
    return session.execute(statement).scalar_one_or_none()


def unit_by_serial(session: Session, serial: str) -> CpeUnitRow | None:
    return session.execute(select(CpeUnitRow).where(CpeUnitRow.serial == serial)).scalar_one_or_none()


def lock_hold(session: Session, hold_id: str) -> CpeHoldRow | None:
    statement = (
        select(CpeHoldRow).where(CpeHoldRow.id == hold_id).with_for_update().execution_options(populate_existing=True)
    )
    return session.execute(statement).scalar_one_or_none()


def hold_of_item(session: Session, reservation_item_id: str) -> CpeHoldRow | None:
    return session.execute(
        select(CpeHoldRow).where(CpeHoldRow.reservation_item_id == reservation_item_id)
    ).scalar_one_or_none()


def units_of_hold(session: Session, hold_id: str) -> list[CpeUnitRow]:
    statement = select(CpeUnitRow).where(CpeUnitRow.hold_id == hold_id).order_by(CpeUnitRow.id).with_for_update()
    return list(session.execute(statement).scalars())
