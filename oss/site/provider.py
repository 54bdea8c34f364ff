"""The reservation provider of ports (``oss.reservation.ReservationProvider``): TMF685 reservation items of
``@type`` ``PortReservationItem`` hold interface ports of a device at quote time.

A pool is a device (its id is the pool id): capacity its interface ports, available those nobody holds.
Criteria (closed): ``quantity``, ``port`` (a port id), ``portName``, ``type`` (``1000base-t``), ``minSpeed``
(kbit/s). Lowest name first; rows are locked (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so two holds on one
device take different ports; SQLite serialises writers). A port's hold state goes available -> reserved ->
assigned (commit) and back to available on release or expiry (the reservation context expires holds); its
TMF639 row follows in the same transaction (resourceStatus reserved, usageState busy once assigned).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from common import clock
from oss import resource_inventory
from oss.reservation import (
    Availability,
    HeldResource,
    HoldOwner,
    ItemRequest,
    PoolView,
    ResourcePoolNotFound,
    Unavailable,
)
from oss.site.errors import InvalidCable
from oss.site.models import DeviceRow, PortRow

ITEM_TYPE = "PortReservationItem"
RESOURCE_TYPE = "Port"
CONTEXT = "site"
MAX_QUANTITY = 1024
AVAILABLE, RESERVED, ASSIGNED = "available", "reserved", "assigned"
TMF639_HOLD_STATUS: Mapping[str, tuple[str, str]] = {
    AVAILABLE: ("available", "idle"),
    RESERVED: ("reserved", "idle"),
    ASSIGNED: ("reserved", "busy"),
}
ITEM_SCHEMA: Mapping[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "quantity": {"type": "integer", "minimum": 1, "maximum": MAX_QUANTITY},
        "port": {"type": "string", "maxLength": 64},
        "portName": {"type": "string", "maxLength": 64},
        "type": {"type": "string", "maxLength": 64},
        "minSpeed": {"type": "integer", "minimum": 0},
    },
}


class InvalidPortCriteria(InvalidCable):
    code = "INVALID_CRITERIA"


def _criteria(request: ItemRequest) -> dict[str, Any]:
    raw = dict(request.criteria)
    unknown = sorted(set(raw) - set(ITEM_SCHEMA["properties"]))
    if unknown:
        raise InvalidPortCriteria(f"{ITEM_TYPE} has no criterion {unknown[0]!r}.")
    quantity = raw.get("quantity", request.quantity)
    if not isinstance(quantity, int) or isinstance(quantity, bool) or not 1 <= quantity <= MAX_QUANTITY:
        raise InvalidPortCriteria(f"quantity must be an integer from 1 to {MAX_QUANTITY}, not {quantity!r}.")
    return {**raw, "quantity": quantity}


def _candidates(device_id: str, criteria: Mapping[str, Any]) -> Any:
    statement = select(PortRow).where(
        PortRow.device_id == device_id, PortRow.port_class == "interface", PortRow.hold_state == AVAILABLE
    )
    if "port" in criteria:
        statement = statement.where(PortRow.id == criteria["port"])
    if "portName" in criteria:
        statement = statement.where(PortRow.name == criteria["portName"])
    if "type" in criteria:
        statement = statement.where(PortRow.type == criteria["type"])
    if "minSpeed" in criteria:
        statement = statement.where(PortRow.speed >= criteria["minSpeed"])
    return statement.order_by(PortRow.name, PortRow.id)


def _set_state(
    session: Session, ports: Sequence[PortRow], state: str, owner: HoldOwner | None, until: datetime | None
) -> None:
    now = clock.now()
    for port in ports:
        port.hold_state = state
        port.reservation_id = owner.reservation_id if owner and state != AVAILABLE else None
        port.reservation_item_id = owner.reservation_item_id if owner and state != AVAILABLE else None
        port.hold_until = until if state == RESERVED else None
        port.updated_at = now
    session.flush()
    for port in ports:
        status, usage = TMF639_HOLD_STATUS[state]
        resource_inventory.patch_resource_in(
            session, port.id, {"resourceStatus": status, "usageState": usage}, acting_context=CONTEXT
        )


class PortProvider:
    """Interface ports of devices for TMF685 reservations."""

    name = "site"

    @property
    def item_schemas(self) -> Mapping[str, Mapping[str, Any]]:
        return {ITEM_TYPE: ITEM_SCHEMA}

    def pools(self, session: Session) -> Sequence[PoolView]:
        devices = session.execute(select(DeviceRow).order_by(DeviceRow.name)).scalars()
        return [self._view(session, device) for device in devices]

    def pool(self, session: Session, pool_id: str) -> PoolView | None:
        device = session.get(DeviceRow, pool_id)
        return self._view(session, device) if device is not None else None

    def _view(self, session: Session, device: DeviceRow) -> PoolView:
        counts = dict(
            session.execute(
                select(PortRow.hold_state, func.count())
                .where(PortRow.device_id == device.id, PortRow.port_class == "interface")
                .group_by(PortRow.hold_state)
            ).all()
        )
        return PoolView(
            id=device.id,
            name=device.name,
            resource_type=RESOURCE_TYPE,
            capacity=int(sum(counts.values())),
            available=int(counts.get(AVAILABLE, 0)),
            provider=self.name,
            description=f"Interface ports of device {device.name}",
        )

    def _device_ids(self, session: Session, request: ItemRequest) -> list[str]:
        if request.pool_id is not None:
            if session.get(DeviceRow, request.pool_id) is None:
                raise ResourcePoolNotFound(request.pool_id)
            return [request.pool_id]
        return [view.id for view in self.pools(session)]

    def check(self, session: Session, request: ItemRequest) -> Availability:
        criteria = _criteria(request)
        best: Availability | None = None
        for device_id in self._device_ids(session, request):
            ports = list(session.execute(_candidates(device_id, criteria).limit(MAX_QUANTITY)).scalars())
            found = Availability(device_id, criteria["quantity"], len(ports), tuple(p.name for p in ports[:5]))
            if request.pool_id is not None or len(ports) >= criteria["quantity"]:
                return found
            if best is None or found.available > best.available:
                best = found
        return best or Availability(request.pool_id, criteria["quantity"], 0)

    def hold(self, session: Session, request: ItemRequest, owner: HoldOwner, until: datetime) -> Sequence[HeldResource]:
        criteria = _criteria(request)
        quantity = criteria["quantity"]
        for device_id in self._device_ids(session, request):
            statement = _candidates(device_id, criteria).limit(quantity).with_for_update(skip_locked=True)
            ports = list(session.execute(statement).scalars())
            if len(ports) < quantity:
                # SKIP LOCKED passes over ports another transaction holds for a moment (a PATCH, a cable, a
                # hold that may still roll back): before calling the device short, wait for those rows (a
                # blocking lock in the candidates' order; PostgreSQL re-checks each row once it is free).
                waited = _candidates(device_id, criteria).limit(quantity).with_for_update()
                ports = list(session.execute(waited.execution_options(populate_existing=True)).scalars())
            if len(ports) < quantity:
                continue
            _set_state(session, ports, RESERVED, owner, until)
            return [HeldResource(port.id, port.name, RESOURCE_TYPE, device_id) for port in ports]
        availability = self.check(session, request)
        raise Unavailable(
            f"No device has {quantity} free interface port(s) matching the item (best: {availability.available}).",
            availability,
        )

    def _ports(self, session: Session, held: Sequence[HeldResource]) -> list[PortRow]:
        ids = sorted(h.resource_id for h in held)
        return list(
            session.execute(select(PortRow).where(PortRow.id.in_(ids)).order_by(PortRow.id).with_for_update()).scalars()
        )

    def extend(self, session: Session, held: Sequence[HeldResource], owner: HoldOwner, until: datetime) -> None:
        for port in self._ports(session, held):
            if port.hold_state == RESERVED:
                port.hold_until = until
        session.flush()

    def commit(self, session: Session, held: Sequence[HeldResource], owner: HoldOwner) -> None:
        _set_state(session, self._ports(session, held), ASSIGNED, owner, None)

    def release(self, session: Session, held: Sequence[HeldResource], owner: HoldOwner, *, reason: str) -> None:
        mine = [p for p in self._ports(session, held) if p.reservation_id in (None, owner.reservation_id)]
        _set_state(session, mine, AVAILABLE, None, None)


PORT_PROVIDER = PortProvider()
