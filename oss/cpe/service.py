"""CPE use cases: models, units and their lifecycle, stock levels, holds (the TMF685 provider's half).

One public ``uow`` function = one transaction. The functions taking a ``session`` (``hold_stock``,
``check_stock``, ``commit_hold``, ``release_hold``, ``extend_hold``) join the caller's transaction: the
reservation provider calls them inside the reservation's unit of work, so a hold and the reservation that
holds it commit or roll back together.

Every change of a unit writes, in the same transaction: its row, a history row, its TMF639 resource
(``oss.resource_inventory.create_resource_in`` / ``patch_resource_in``, owner ``cpe``; a unit gets one the
first time it leaves plain stock), a ``CpeUnitStateChangeEvent`` and its audit record. Every change of a
stock level's counters is made under that level's row lock (``repository.lock_stock``); when the available
count falls under the threshold a ``StockLevelLowEvent`` is published with it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from common import clock, events, request_context
from common.orm import new_id
from common.tmf import ListQuery, Page, parse_list_query
from common.uow import UnitOfWork, retried_on_conflict
from oss import resource_inventory
from oss.cpe import domain, mapping, repository
from oss.cpe.domain import (
    ALLOCATED,
    COMMITTED,
    HELD,
    IN_STOCK,
    INSTALLED,
    RELEASED,
    RESERVED,
    RETURNED,
    SHIPPED,
    HistoryData,
    ModelData,
    StockData,
    UnitData,
)
from oss.cpe.errors import (
    CpeHoldNotFound,
    CpeModelNotFound,
    CpeModelTaken,
    CpeUnitNotFound,
    HoldExhausted,
    InvalidCpeInput,
    MacTaken,
    OutOfStock,
    SerialMismatch,
    SerialTaken,
    StockLevelNotFound,
)
from oss.cpe.models import CpeHistoryRow, CpeHoldRow, CpeModelRow, CpeStockRow, CpeUnitRow
from oss.cpe.repository import HISTORY_QUERY, MODEL_QUERY, STOCK_QUERY, UNIT_QUERY

logger = logging.getLogger(__name__)
T = TypeVar("T")

CONTEXT = "cpe"
API = "cpeInventory"
MODEL_CREATE_EVENT = "CpeModelCreateEvent"
UNIT_CREATE_EVENT = "CpeUnitCreateEvent"
UNIT_STATE_EVENT = "CpeUnitStateChangeEvent"
STOCK_CHANGE_EVENT = "StockLevelAttributeValueChangeEvent"
STOCK_LOW_EVENT = "StockLevelLowEvent"
events.register_event_types(
    API, (MODEL_CREATE_EVENT, UNIT_CREATE_EVENT, UNIT_STATE_EVENT, STOCK_CHANGE_EVENT, STOCK_LOW_EVENT)
)
events.register_event_schema(
    API,
    {"cpeModel": MODEL_QUERY.members, "cpeUnit": UNIT_QUERY.members, "stockLevel": STOCK_QUERY.members},
)


@dataclass(frozen=True)
class Binding:
    """Why a unit moves: who asks, why, for which reservation / hold / order item."""

    actor: str | None = None
    reason: str | None = None
    reservation_id: str | None = None
    hold_id: str | None = None
    order_item_id: str | None = None


def _retried(attempt: Callable[[], T]) -> T:
    return retried_on_conflict(attempt)


def _actor(binding: Binding) -> str:
    return binding.actor or request_context.current().actor


# --- data -------------------------------------------------------------------------------------------------


def model_data(row: Any) -> ModelData:
    return ModelData(
        id=row.id,
        manufacturer=row.manufacturer,
        model=row.model,
        name=row.name,
        description=row.description,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def stock_data(row: Any) -> StockData:
    return StockData(
        id=row.id,
        model_id=row.model_id,
        warehouse_id=row.warehouse_id,
        in_stock=row.in_stock,
        held=row.held,
        threshold=row.threshold,
        updated_at=row.updated_at,
    )


def unit_data(row: Any) -> UnitData:
    return UnitData(
        id=row.id,
        model_id=row.model_id,
        serial=row.serial,
        mac=row.mac,
        state=row.state,
        warehouse_id=row.warehouse_id,
        hold_id=row.hold_id,
        reservation_id=row.reservation_id,
        order_item_id=row.order_item_id,
        carrier=row.carrier,
        tracking_reference=row.tracking_reference,
        customer_site_id=row.customer_site_id,
        port_id=row.port_id,
        has_resource=bool(row.has_resource),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def history_data(row: Any) -> HistoryData:
    return HistoryData(
        id=row.id,
        unit_id=row.unit_id,
        serial=row.serial,
        at=row.at,
        from_state=row.from_state,
        to_state=row.to_state,
        actor=row.actor,
        reason=row.reason,
        reservation_id=row.reservation_id,
        hold_id=row.hold_id,
        order_item_id=row.order_item_id,
    )


# --- models -----------------------------------------------------------------------------------------------


def _text(document: Mapping[str, Any], key: str, *, required: bool = True, max_length: int = 128) -> str | None:
    value = document.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise InvalidCpeInput(f"{key} is a non-empty string.")
    if len(value) > max_length:
        raise InvalidCpeInput(f"{key} is at most {max_length} characters.")
    return value.strip()


def create_model(uow: UnitOfWork, document: Mapping[str, Any]) -> ModelData:
    """A CPE model: manufacturer and model (unique together), a display name."""
    with uow as tx:
        model = create_model_in(tx.session, document)
        tx.commit()
    return model


def create_model_in(session: Session, document: Mapping[str, Any]) -> ModelData:
    """``create_model`` in the caller's transaction (the API and the importer)."""
    manufacturer = str(_text(document, "manufacturer"))
    model_name = str(_text(document, "model"))
    name = _text(document, "name", required=False, max_length=255) or f"{manufacturer} {model_name}"
    now = clock.now()
    taken = session.execute(
        select(CpeModelRow.id).where(CpeModelRow.manufacturer == manufacturer, CpeModelRow.model == model_name)
    ).first()
    if taken:
        raise CpeModelTaken(f"CPE model {manufacturer} {model_name} exists already (id {taken[0]}).")
    row = CpeModelRow(
        id=new_id(),
        manufacturer=manufacturer,
        model=model_name,
        name=name,
        description=document.get("description"),
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    model = model_data(row)
    events.publish(
        session, api=API, event_type=MODEL_CREATE_EVENT, resource=mapping.model_json(model), payload_key="cpeModel"
    )
    return model


def retrieve_model(uow: UnitOfWork, model_id: str) -> ModelData:
    with uow as tx:
        row = tx.session.get(CpeModelRow, model_id)
        if row is None:
            raise CpeModelNotFound(f"No CPE model with id {model_id!r}.")
        return model_data(row)


def parse_model_query(query_string: str) -> ListQuery:
    return parse_list_query(query_string, MODEL_QUERY)


def list_models(uow: UnitOfWork, query: ListQuery) -> Page[ModelData]:
    with uow as tx:
        rows, total = repository.list_models(tx.session, query)
        return Page(items=[model_data(r) for r in rows], total=total, offset=query.offset, limit=query.limit)


def _model(session: Session, model_id: str) -> CpeModelRow:
    row = session.get(CpeModelRow, model_id)
    if row is None:
        raise CpeModelNotFound(f"No CPE model with id {model_id!r}.")
    return row


# --- stock levels -----------------------------------------------------------------------------------------


def _describe(session: Session, stock: CpeStockRow) -> str:
    model = _model(session, stock.model_id)
    return f"CPE model {model.manufacturer} {model.model} ({model.id}) at warehouse {stock.warehouse_id}"


def adjust_stock(session: Session, stock: CpeStockRow, *, in_stock: int = 0, held: int = 0) -> None:
    """Change a locked stock row's counters; publish ``StockLevelLowEvent`` when ``available`` falls under
    the threshold with this change."""
    before = stock.in_stock - stock.held
    stock.in_stock += in_stock
    stock.held += held
    stock.updated_at = clock.now()
    after = stock.in_stock - stock.held
    if stock.in_stock < 0 or after < 0:  # a bug, never a client's doing: every caller checked first
        raise RuntimeError(f"stock {stock.id} would go negative ({stock.in_stock} in stock, {stock.held} held)")
    session.flush()
    if before >= stock.threshold > after:
        _publish_low(session, stock)


def _publish_low(session: Session, stock: CpeStockRow) -> None:
    level = stock_data(stock)
    logger.info(
        "low stock: %s (%d available, threshold %d)", _describe(session, stock), level.available, level.threshold
    )
    events.publish(
        session, api=API, event_type=STOCK_LOW_EVENT, resource=mapping.stock_json(level), payload_key="stockLevel"
    )


def out_of_stock(session: Session, stock: CpeStockRow, requested: int) -> OutOfStock:
    available = stock.in_stock - stock.held
    return OutOfStock(
        f"{_describe(session, stock)}: {available} available ({stock.in_stock} in stock, {stock.held} held), "
        f"{requested} requested.",
        details={
            "modelId": stock.model_id,
            "warehouseId": stock.warehouse_id,
            "inStock": stock.in_stock,
            "held": stock.held,
            "available": available,
            "requested": requested,
        },
    )


def parse_stock_query(query_string: str) -> ListQuery:
    return parse_list_query(query_string, STOCK_QUERY)


def list_stock(uow: UnitOfWork, query: ListQuery) -> Page[StockData]:
    with uow as tx:
        rows, total = repository.list_stock(tx.session, query)
        return Page(items=[stock_data(r) for r in rows], total=total, offset=query.offset, limit=query.limit)


def retrieve_stock(uow: UnitOfWork, stock_id: str) -> StockData:
    with uow as tx:
        row = tx.session.get(CpeStockRow, stock_id)
        if row is None:
            raise StockLevelNotFound(f"No stock level with id {stock_id!r}.")
        return stock_data(row)


def _threshold(document: Mapping[str, Any]) -> int:
    value = document.get("threshold")
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 1_000_000:
        raise InvalidCpeInput(f"threshold is an integer from 0 to 1000000, not {value!r}.")
    return value


def set_stock_level(uow: UnitOfWork, document: Mapping[str, Any]) -> StockData:
    """The stock level of a model at a warehouse, created if need be, with its threshold."""
    model_id = str(_text(document, "modelId", max_length=64))
    warehouse_id = str(_text(document, "warehouseId"))
    threshold = _threshold(document)

    def attempt() -> StockData:
        with uow as tx:
            _model(tx.session, model_id)
            stock = repository.lock_stock(tx.session, model_id, warehouse_id)
            level = _set_threshold(tx.session, stock, threshold)
            tx.commit()
            return level

    return _retried(attempt)


def patch_stock_level(uow: UnitOfWork, stock_id: str, patch: Mapping[str, Any]) -> StockData:
    unknown = sorted(set(patch) - {"threshold"})
    if unknown:
        raise InvalidCpeInput(f"Only threshold of a stock level can change, not {unknown[0]!r}.")
    threshold = _threshold(patch)

    def attempt() -> StockData:
        with uow as tx:
            stock = repository.lock_stock_by_id(tx.session, stock_id)
            if stock is None:
                raise StockLevelNotFound(f"No stock level with id {stock_id!r}.")
            level = _set_threshold(tx.session, stock, threshold)
            tx.commit()
            return level

    return _retried(attempt)


def _set_threshold(session: Session, stock: CpeStockRow, threshold: int) -> StockData:
    was_low = stock.in_stock - stock.held < stock.threshold
    if stock.threshold != threshold:
        stock.threshold = threshold
        stock.updated_at = clock.now()
        session.flush()
        level = stock_data(stock)
        events.publish(
            session,
            api=API,
            event_type=STOCK_CHANGE_EVENT,
            resource=mapping.stock_json(level),
            payload_key="stockLevel",
        )
        if level.low and not was_low:
            _publish_low(session, stock)
    return stock_data(stock)


# --- units ------------------------------------------------------------------------------------------------


def _check_unique(session: Session, serial: str, mac: str) -> None:
    if session.execute(select(CpeUnitRow.id).where(CpeUnitRow.serial == serial)).first():
        raise SerialTaken(f"A CPE unit with serial {serial} exists already.", details={"serialNumber": serial})
    if session.execute(select(CpeUnitRow.id).where(CpeUnitRow.mac == mac)).first():
        raise MacTaken(f"A CPE unit with MAC address {mac} exists already.", details={"macAddress": mac})


@dataclass(frozen=True)
class NewUnit:
    model_id: str
    serial: str
    mac: str
    warehouse_id: str


def parse_new_unit(document: Mapping[str, Any]) -> NewUnit:
    """A unit's creation document, validated (400 for a bad serial, MAC or missing member)."""
    return NewUnit(
        model_id=str(_text(document, "modelId", max_length=64)),
        serial=domain.normalise_serial(document.get("serialNumber")),
        mac=domain.normalise_mac(document.get("macAddress")),
        warehouse_id=str(_text(document, "warehouseId")),
    )


def create_unit(uow: UnitOfWork, document: Mapping[str, Any]) -> UnitData:
    """A unit received into stock at a warehouse site (serial and MAC unique)."""
    new = parse_new_unit(document)
    return _retried(lambda: _create_unit(uow, new))


def _create_unit(uow: UnitOfWork, new: NewUnit) -> UnitData:
    with uow as tx:
        unit = add_unit_in(tx.session, new, Binding(reason="received into stock"))
        tx.commit()
    return unit


def add_unit_in(session: Session, new: NewUnit, binding: Binding) -> UnitData:
    """Receive a unit into stock in the caller's transaction (the API and the importer)."""
    _model(session, new.model_id)
    _check_unique(session, new.serial, new.mac)
    stock = repository.lock_stock(session, new.model_id, new.warehouse_id)
    now = clock.now()
    row = CpeUnitRow(
        id=new_id(),
        model_id=new.model_id,
        serial=new.serial,
        mac=new.mac,
        state=IN_STOCK,
        warehouse_id=new.warehouse_id,
        has_resource=False,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    adjust_stock(session, stock, in_stock=1)
    _history(session, row, None, IN_STOCK, binding, now)
    unit = unit_data(row)
    events.publish(
        session, api=API, event_type=UNIT_CREATE_EVENT, resource=mapping.unit_json(unit), payload_key="cpeUnit"
    )
    return unit


def retrieve_unit(uow: UnitOfWork, unit_id: str) -> UnitData:
    with uow as tx:
        row = tx.session.get(CpeUnitRow, unit_id)
        if row is None:
            raise CpeUnitNotFound(f"No CPE unit with id {unit_id!r}.")
        return unit_data(row)


def parse_unit_query(query_string: str) -> ListQuery:
    return parse_list_query(query_string, UNIT_QUERY)


def list_units(uow: UnitOfWork, query: ListQuery) -> Page[UnitData]:
    with uow as tx:
        rows, total = repository.list_units(tx.session, query)
        return Page(items=[unit_data(r) for r in rows], total=total, offset=query.offset, limit=query.limit)


def parse_history_query(query_string: str) -> ListQuery:
    return parse_list_query(query_string, HISTORY_QUERY)


def list_history(uow: UnitOfWork, unit_id: str, query: ListQuery) -> Page[HistoryData]:
    with uow as tx:
        if tx.session.get(CpeUnitRow, unit_id) is None:
            raise CpeUnitNotFound(f"No CPE unit with id {unit_id!r}.")
        rows, total = repository.list_history(tx.session, unit_id, query)
        return Page(items=[history_data(r) for r in rows], total=total, offset=query.offset, limit=query.limit)


def _history(
    session: Session, row: CpeUnitRow, from_state: str | None, to_state: str, binding: Binding, now: datetime
) -> None:
    session.add(
        CpeHistoryRow(
            unit_id=row.id,
            serial=row.serial,
            at=now,
            from_state=from_state,
            to_state=to_state,
            actor=_actor(binding)[:128],
            reason=(binding.reason or None) and str(binding.reason)[:255],
            reservation_id=binding.reservation_id or row.reservation_id,
            hold_id=binding.hold_id or row.hold_id,
            order_item_id=binding.order_item_id or row.order_item_id,
        )
    )


def _move(session: Session, row: CpeUnitRow, target: str, binding: Binding, **fields: Any) -> UnitData:
    """Move a locked, checked unit to ``target``: the row, its history, its TMF639 resource, the event."""
    now = clock.now()
    previous = row.state
    row.state = target
    row.updated_at = now
    for key, value in fields.items():
        setattr(row, key, value)
    session.flush()
    _history(session, row, previous, target, binding, now)
    _sync_resource(session, row)
    unit = unit_data(row)
    events.publish(
        session, api=API, event_type=UNIT_STATE_EVENT, resource=mapping.unit_json(unit), payload_key="cpeUnit"
    )
    return unit


def _sync_resource(session: Session, row: CpeUnitRow) -> None:
    """The unit's TMF639 row: created the first time it leaves plain stock, kept up to date afterwards."""
    if row.state == IN_STOCK and not row.has_resource:
        return
    model = model_data(_model(session, row.model_id))
    if not row.has_resource:
        row.has_resource = True
        session.flush()
        resource_inventory.create_resource_in(
            session, mapping.resource_document(unit_data(row), model), acting_context=CONTEXT, resource_id=row.id
        )
    else:
        resource_inventory.patch_resource_in(
            session, row.id, mapping.resource_patch(unit_data(row), model), acting_context=CONTEXT
        )


def _locked_unit(session: Session, unit_id: str) -> CpeUnitRow:
    row = repository.lock_unit(session, unit_id)
    if row is None:
        raise CpeUnitNotFound(f"No CPE unit with id {unit_id!r}.")
    return row


_CLEARED_IN_STOCK = {
    "hold_id": None,
    "reservation_id": None,
    "order_item_id": None,
    "carrier": None,
    "tracking_reference": None,
    "customer_site_id": None,
    "port_id": None,
}


def change_state(uow: UnitOfWork, unit_id: str, target: str, document: Mapping[str, Any]) -> list[UnitData]:
    """Move a unit along its lifecycle (409 naming the current state for a transition it does not have).

    ``allocated`` takes ``orderItemId``; ``shipped`` needs ``carrier`` and ``trackingReference``;
    ``installed`` needs ``customerSiteId``, ``portId`` and ``scannedSerial`` (the technician may scan another
    unit of the same model in stock, which is installed in its place: both units are answered);
    ``inStock`` (from ``refurbished``) may name another ``warehouseId``. ``reason`` is kept in the history.
    """
    if target not in domain.STATES:
        raise InvalidCpeInput(f"Unknown CPE state {target!r}; one of {', '.join(domain.STATES)}.")
    if target == RESERVED:
        raise InvalidCpeInput("A unit becomes reserved by being picked against a hold (POST /cpePick).")
    binding = Binding(reason=_text(document, "reason", required=False, max_length=255))
    fields = _target_fields(target, document)
    return _retried(lambda: _change_state(uow, unit_id, target, fields, document, binding))


def _target_fields(target: str, document: Mapping[str, Any]) -> dict[str, Any]:
    if target == ALLOCATED:
        order_item = _text(document, "orderItemId", required=False)
        return {"order_item_id": order_item} if order_item else {}
    if target == SHIPPED:
        return {
            "carrier": _text(document, "carrier", max_length=64),
            "tracking_reference": _text(document, "trackingReference"),
        }
    if target == INSTALLED:
        domain.normalise_serial(document.get("scannedSerial"))
        return {"customer_site_id": _text(document, "customerSiteId"), "port_id": _text(document, "portId")}
    if target == IN_STOCK:
        warehouse = _text(document, "warehouseId", required=False)
        return {"warehouse_id": warehouse} if warehouse else {}
    return {}


def _change_state(
    uow: UnitOfWork,
    unit_id: str,
    target: str,
    fields: dict[str, Any],
    document: Mapping[str, Any],
    binding: Binding,
) -> list[UnitData]:
    with uow as tx:
        session = tx.session
        row = _locked_unit(session, unit_id)
        if target == INSTALLED:
            scanned = domain.normalise_serial(document.get("scannedSerial"))
            if scanned != row.serial:
                changed = _swap_at_install(session, row, scanned, fields, binding)
                tx.commit()
                return changed
        domain.check_transition(row.serial, row.state, target)
        if target == IN_STOCK:
            changed = [_back_to_stock(session, row, fields, binding)]
        elif row.state == IN_STOCK:  # leaving stock unpicked (rma, scrapped): only what no hold counts
            stock = repository.lock_stock(session, row.model_id, row.warehouse_id)
            if stock.in_stock - stock.held < 1:
                raise out_of_stock(session, stock, 1)
            adjust_stock(session, stock, in_stock=-1)
            changed = [_move(session, row, target, binding, **fields)]
        else:
            changed = [_move(session, row, target, binding, **fields)]
        tx.commit()
    return changed


def _back_to_stock(session: Session, row: CpeUnitRow, fields: Mapping[str, Any], binding: Binding) -> UnitData:
    """A unit re-enters stock: a picked one's hold counts it again (still unpicked), a refurbished one is
    simply stock again (at ``warehouseId`` when given)."""
    picked = row.state in (RESERVED, ALLOCATED)  # still counted by its hold, which counts it again unpicked
    hold = repository.lock_hold(session, row.hold_id) if row.hold_id and picked else None
    warehouse = fields.get("warehouse_id", row.warehouse_id)
    stock = repository.lock_stock(session, row.model_id, warehouse)
    if hold is not None and hold.state != RELEASED:
        hold.picked -= 1
        hold.updated_at = clock.now()
        adjust_stock(session, stock, in_stock=1, held=1)
    else:
        adjust_stock(session, stock, in_stock=1)
    return _move(session, row, IN_STOCK, binding, **{**_CLEARED_IN_STOCK, "warehouse_id": warehouse})


def _swap_at_install(
    session: Session, planned: CpeUnitRow, scanned_serial: str, fields: Mapping[str, Any], binding: Binding
) -> list[UnitData]:
    """The technician installs another unit of the same model from stock (their van's warehouse, say): it
    takes over the planned unit's hold and order item and is installed; the planned one is returned."""
    domain.check_transition(planned.serial, planned.state, INSTALLED)
    found = repository.unit_by_serial(session, scanned_serial)
    mismatch = {"expectedSerial": planned.serial, "scannedSerial": scanned_serial}
    if found is None or found.model_id != planned.model_id or found.state != IN_STOCK:
        why = (
            "is no known unit"
            if found is None
            else "is another model"
            if found.model_id != planned.model_id
            else f"is {found.state}, not inStock"
        )
        raise SerialMismatch(
            f"Scanned serial {scanned_serial} does not match CPE unit {planned.serial}, and {why}: "
            "only a unit of the same model in stock can be swapped in.",
            details={**mismatch, "currentState": planned.state},
        )
    swapped_in = _locked_unit(session, found.id)
    if swapped_in.state != IN_STOCK:  # changed between the read and the lock
        raise SerialMismatch(f"Scanned unit {scanned_serial} is {swapped_in.state}, not inStock.", details=mismatch)
    stock = repository.lock_stock(session, swapped_in.model_id, swapped_in.warehouse_id)
    if stock.in_stock - stock.held < 1:
        raise out_of_stock(session, stock, 1)
    adjust_stock(session, stock, in_stock=-1)
    carried = {
        "hold_id": planned.hold_id,
        "reservation_id": planned.reservation_id,
        "order_item_id": planned.order_item_id,
        "carrier": planned.carrier,
        "tracking_reference": planned.tracking_reference,
    }
    installed = _move(
        session,
        swapped_in,
        INSTALLED,
        Binding(binding.actor, f"swapped in at install for {planned.serial}"),
        **carried,
        **fields,
    )
    returned = _move(
        session,
        planned,
        RETURNED,
        Binding(binding.actor, f"swapped out at install for {scanned_serial}"),
        hold_id=None,
        order_item_id=None,
        reservation_id=None,
    )
    return [installed, returned]


# --- picking ----------------------------------------------------------------------------------------------


def pick(uow: UnitOfWork, document: Mapping[str, Any]) -> UnitData:
    """Bind a unit (by serial) to a hold (by TMF685 reservation item id or hold id): inStock -> reserved
    (and on to allocated when the reservation is committed already)."""
    serial = domain.normalise_serial(document.get("serialNumber"))
    item_id = _text(document, "reservationItemId", required=False, max_length=64)
    hold_id = _text(document, "holdId", required=False, max_length=64)
    if bool(item_id) == bool(hold_id):
        raise InvalidCpeInput("A pick names exactly one of reservationItemId and holdId.")
    return _retried(lambda: _pick(uow, serial, item_id, hold_id))


def _pick(uow: UnitOfWork, serial: str, item_id: str | None, hold_id: str | None) -> UnitData:
    with uow as tx:
        session = tx.session
        found = repository.hold_of_item(session, item_id) if item_id else None
        hold = repository.lock_hold(session, found.id if found is not None else str(hold_id))
        if hold is None:
            raise CpeHoldNotFound(f"No CPE hold for {'reservation item' if item_id else 'id'} {item_id or hold_id!r}.")
        if hold.state == RELEASED or hold.picked >= hold.quantity:
            raise HoldExhausted(
                f"CPE hold {hold.id} is {hold.state} with {hold.picked} of {hold.quantity} picked: "
                "nothing left to pick.",
                details={"holdState": hold.state, "quantity": hold.quantity, "picked": hold.picked},
            )
        unit = repository.unit_by_serial(session, serial)
        if unit is None:
            raise CpeUnitNotFound(f"No CPE unit with serial {serial}.")
        row = _locked_unit(session, unit.id)
        stock = repository.lock_stock_by_id(session, hold.stock_id)
        assert stock is not None  # RESTRICT: a hold's stock row is never deleted
        if row.model_id != stock.model_id or row.warehouse_id != stock.warehouse_id:
            raise InvalidCpeInput(
                f"CPE unit {serial} is not of the hold's stock ({_describe(session, stock)}).",
                code="CPE_UNIT_NOT_OF_HOLD",
            )
        domain.check_transition(row.serial, row.state, RESERVED)
        hold.picked += 1
        hold.updated_at = clock.now()
        adjust_stock(session, stock, in_stock=-1, held=-1)
        binding = Binding(reason="picked against hold", reservation_id=hold.reservation_id, hold_id=hold.id)
        unit_data_ = _move(
            session,
            row,
            RESERVED,
            binding,
            hold_id=hold.id,
            reservation_id=hold.reservation_id,
            order_item_id=hold.order_item_id,
        )
        if hold.state == COMMITTED:
            unit_data_ = _move(session, row, ALLOCATED, Binding(reason="reservation committed"))
        tx.commit()
    return unit_data_


# --- holds (the provider's half, in the reservation's transaction) ----------------------------------------


def stock_for(
    session: Session, pool_id: str | None, model_id: str | None, warehouse_id: str | None
) -> CpeStockRow | None:
    """The stock row a reservation item names (by pool id, or model and warehouse), unlocked; None when none."""
    if pool_id is not None:
        return session.get(CpeStockRow, pool_id)
    return session.execute(
        select(CpeStockRow).where(CpeStockRow.model_id == model_id, CpeStockRow.warehouse_id == warehouse_id)
    ).scalar_one_or_none()


def hold_stock(
    session: Session,
    stock: CpeStockRow,
    quantity: int,
    *,
    reservation_id: str,
    reservation_item_id: str,
    order_item_id: str | None,
    until: datetime,
) -> CpeHoldRow:
    """Count ``quantity`` units of a locked stock row for a reservation item, or raise ``OutOfStock``."""
    if stock.in_stock - stock.held < quantity:
        raise out_of_stock(session, stock, quantity)
    now = clock.now()
    hold = CpeHoldRow(
        id=new_id(),
        stock_id=stock.id,
        reservation_id=reservation_id,
        reservation_item_id=reservation_item_id,
        order_item_id=order_item_id,
        quantity=quantity,
        picked=0,
        state=HELD,
        hold_until=until,
        created_at=now,
        updated_at=now,
    )
    session.add(hold)
    session.flush()
    adjust_stock(session, stock, held=quantity)
    return hold


def extend_hold(session: Session, reservation_item_id: str, until: datetime) -> None:
    hold = repository.hold_of_item(session, reservation_item_id)
    if hold is not None:
        hold.hold_until = until
        hold.updated_at = clock.now()


def commit_hold(session: Session, reservation_item_id: str, order_item_id: str | None) -> None:
    """The reservation is committed: its picked units become allocated; later picks are allocated at once."""
    found = repository.hold_of_item(session, reservation_item_id)
    if found is None:
        return
    hold = repository.lock_hold(session, found.id)
    assert hold is not None
    hold.state = COMMITTED
    hold.order_item_id = order_item_id or hold.order_item_id
    hold.updated_at = clock.now()
    for row in repository.units_of_hold(session, hold.id):
        if row.state == RESERVED:
            _move(session, row, ALLOCATED, Binding(reason="reservation committed"), order_item_id=hold.order_item_id)


def release_hold(session: Session, reservation_item_id: str, reason: str) -> None:
    """Let go: the unpicked count returns to stock, picked units still only reserved go back to inStock."""
    found = repository.hold_of_item(session, reservation_item_id)
    if found is None:
        return
    hold = repository.lock_hold(session, found.id)
    assert hold is not None
    if hold.state == RELEASED:
        return
    units = [row for row in repository.units_of_hold(session, hold.id) if row.state == RESERVED]
    stock = repository.lock_stock_by_id(session, hold.stock_id)
    assert stock is not None
    unpicked = hold.quantity - hold.picked
    hold.state = RELEASED
    hold.updated_at = clock.now()
    adjust_stock(session, stock, in_stock=len(units), held=-unpicked)
    for row in units:
        _move(session, row, IN_STOCK, Binding(reason=f"reservation {reason}"), **_CLEARED_IN_STOCK)


__all__ = [
    "API",
    "CONTEXT",
    "Binding",
    "NewUnit",
    "add_unit_in",
    "change_state",
    "commit_hold",
    "create_model",
    "create_model_in",
    "create_unit",
    "hold_stock",
    "list_history",
    "list_models",
    "list_stock",
    "list_units",
    "patch_stock_level",
    "pick",
    "release_hold",
    "retrieve_model",
    "retrieve_stock",
    "retrieve_unit",
    "set_stock_level",
]
