"""The reservation provider of CPE stock (``oss.reservation.ReservationProvider``): TMF685 reservation items
of ``@type`` ``CpeReservationItem`` hold a count of units of a model at a warehouse, not serials.

The item names its stock either as the TMF685 ``resourceCapacity.resourcePool`` (a pool is a stock level:
``GET /resourcePool`` lists them) or with the criteria ``modelId`` and ``warehouseId``; ``orderItemId`` is
optional. A hold locks the stock row (``repository.lock_stock``) and counts ``quantity`` units, or raises
``Unavailable`` (409 ``CPE_OUT_OF_STOCK``) whose message names the model and the stock. Serials are bound
later, one per pick (``POST /provisio/cpe/v1/cpePick``); commit allocates the picked units, release and
expiry give back the count and the picked units that have not left ``reserved``.

Every held "resource" is one counted unit of the hold: ``<hold id>:<n>`` with ``@referredType`` ``CpeStockHold``
(no TMF639 row: a count has no serial until it is picked).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from oss.cpe import repository, service
from oss.cpe.domain import MAX_QUANTITY
from oss.cpe.errors import InvalidCriteria, OutOfStock
from oss.cpe.models import CpeModelRow, CpeStockRow
from oss.reservation import (
    Availability,
    HeldResource,
    HoldOwner,
    ItemRequest,
    PoolView,
    ResourcePoolNotFound,
    Unavailable,
)

ITEM_TYPE = "CpeReservationItem"
HELD_TYPE = "CpeStockHold"
ITEM_SCHEMA: Mapping[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "quantity": {"type": "integer", "minimum": 1, "maximum": MAX_QUANTITY},
        "modelId": {"type": "string", "minLength": 1, "maxLength": 64},
        "warehouseId": {"type": "string", "minLength": 1, "maxLength": 128},
        "orderItemId": {"type": "string", "minLength": 1, "maxLength": 128},
    },
}


def _criteria(request: ItemRequest) -> tuple[int, str | None, str | None, str | None]:
    raw = dict(request.criteria)
    unknown = sorted(set(raw) - set(ITEM_SCHEMA["properties"]))
    if unknown:
        raise InvalidCriteria(f"{ITEM_TYPE} has no criterion {unknown[0]!r}.")
    quantity = raw.get("quantity", request.quantity)
    if not isinstance(quantity, int) or isinstance(quantity, bool) or not 1 <= quantity <= MAX_QUANTITY:
        raise InvalidCriteria(f"quantity must be an integer from 1 to {MAX_QUANTITY}, not {quantity!r}.")
    model_id, warehouse_id = raw.get("modelId"), raw.get("warehouseId")
    if request.pool_id is None and not (model_id and warehouse_id):
        raise InvalidCriteria(
            f"A {ITEM_TYPE} names its stock: resourceCapacity.resourcePool (a stock level), or modelId and warehouseId."
        )
    return quantity, model_id, warehouse_id, raw.get("orderItemId")


class CpeProvider:
    """CPE stock for TMF685 reservations."""

    name = "cpe"

    @property
    def item_schemas(self) -> Mapping[str, Mapping[str, Any]]:
        return {ITEM_TYPE: ITEM_SCHEMA}

    def pools(self, session: Session) -> Sequence[PoolView]:
        rows = session.execute(select(CpeStockRow).order_by(CpeStockRow.model_id, CpeStockRow.warehouse_id)).scalars()
        return [self._view(session, row) for row in rows]

    def pool(self, session: Session, pool_id: str) -> PoolView | None:
        row = session.get(CpeStockRow, pool_id)
        return self._view(session, row) if row is not None else None

    def _view(self, session: Session, row: CpeStockRow) -> PoolView:
        model = session.get(CpeModelRow, row.model_id)
        label = f"{model.manufacturer} {model.model}" if model is not None else row.model_id
        return PoolView(
            id=row.id,
            name=f"{label} at {row.warehouse_id}",
            resource_type="Cpe",
            capacity=row.in_stock,
            available=row.in_stock - row.held,
            provider=self.name,
            description=f"CPE model {row.model_id} in stock at warehouse site {row.warehouse_id}",
        )

    def _stock(
        self, session: Session, request: ItemRequest, model_id: str | None, warehouse_id: str | None
    ) -> CpeStockRow | None:
        stock = service.stock_for(session, request.pool_id, model_id, warehouse_id)
        if request.pool_id is not None:
            if stock is None:
                raise ResourcePoolNotFound(request.pool_id)
            if (model_id and model_id != stock.model_id) or (warehouse_id and warehouse_id != stock.warehouse_id):
                raise InvalidCriteria("modelId and warehouseId, when given, must be those of the resourcePool.")
        elif session.get(CpeModelRow, model_id) is None:
            raise InvalidCriteria(f"No CPE model with id {model_id!r}.")
        return stock

    def check(self, session: Session, request: ItemRequest) -> Availability:
        quantity, model_id, warehouse_id, _ = _criteria(request)
        stock = self._stock(session, request, model_id, warehouse_id)
        if stock is None:
            return Availability(request.pool_id, quantity, 0)
        return Availability(stock.id, quantity, stock.in_stock - stock.held)

    def hold(self, session: Session, request: ItemRequest, owner: HoldOwner, until: datetime) -> Sequence[HeldResource]:
        quantity, model_id, warehouse_id, order_item = _criteria(request)
        found = self._stock(session, request, model_id, warehouse_id)
        if found is not None:
            stock = repository.lock_stock_by_id(session, found.id)
        else:
            stock = repository.lock_stock(session, str(model_id), str(warehouse_id))
        assert stock is not None
        try:
            hold = service.hold_stock(
                session,
                stock,
                quantity,
                reservation_id=owner.reservation_id,
                reservation_item_id=owner.reservation_item_id,
                order_item_id=order_item or _order_item(owner),
                until=until,
            )
        except OutOfStock as refused:
            available = int(refused.details.get("available", 0))
            raise Unavailable(
                refused.message, Availability(stock.id, quantity, max(available, 0)), code=refused.code
            ) from None
        model = session.get(CpeModelRow, stock.model_id)
        label = f"{model.manufacturer} {model.model}" if model is not None else stock.model_id
        value = f"{label} at {stock.warehouse_id}"
        return [HeldResource(f"{hold.id}:{n}", value, HELD_TYPE, stock.id) for n in range(1, quantity + 1)]

    def extend(self, session: Session, held: Sequence[HeldResource], owner: HoldOwner, until: datetime) -> None:
        service.extend_hold(session, owner.reservation_item_id, until)

    def commit(self, session: Session, held: Sequence[HeldResource], owner: HoldOwner) -> None:
        service.commit_hold(session, owner.reservation_item_id, _order_item(owner))

    def release(self, session: Session, held: Sequence[HeldResource], owner: HoldOwner, *, reason: str) -> None:
        service.release_hold(session, owner.reservation_item_id, reason)


def _order_item(owner: HoldOwner) -> str | None:
    return next(
        (str(e.get("id")) for e in owner.related_entity if "OrderItem" in str(e.get("@referredType", ""))), None
    )


CPE_PROVIDER = CpeProvider()
