"""The reservation provider of IP space (``oss.reservation.ReservationProvider``): TMF685 reservation items of
``@type`` ``IpAddressReservationItem`` hold the next free addresses of a pool, ``IpPrefixReservationItem``
the next free child prefix of a length in a pool's prefix.

Criteria (validated against the schemas, closed): addresses ``quantity`` (or ``count``), ``address`` (a
specific one), ``dnsName``, ``role``; prefixes ``prefixLength`` and ``policy`` (``firstFit``/``bestFit``).
A hold is an address (or prefix) of status ``reserved`` naming the reservation; commit makes it ``active``,
release (or expiry, which the reservation context drives) gives the space back. Everything runs in the
reservation's session: a hold and the reservation that holds it commit together.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from common import clock
from common.errors import Conflict
from oss import resource_inventory
from oss.ip_pool import domain, mapping, repository, service
from oss.ip_pool.errors import InvalidAllocation
from oss.ip_pool.models import IpAddressRow, IpPoolRow, IpPrefixRow
from oss.reservation import (
    Availability,
    HeldResource,
    HoldOwner,
    ItemRequest,
    PoolView,
    ResourcePoolNotFound,
    Unavailable,
)

INT64_MAX = 2**63 - 1
ADDRESS_ITEM = "IpAddressReservationItem"
PREFIX_ITEM = "IpPrefixReservationItem"
ADDRESS_SCHEMA: Mapping[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "quantity": {"type": "integer", "minimum": 1, "maximum": service.MAX_QUANTITY},
        "count": {"type": "integer", "minimum": 1, "maximum": service.MAX_QUANTITY},
        "address": {"type": "string", "maxLength": 64},
        "dnsName": {"type": "string", "maxLength": 255},
        "role": {"type": "string", "enum": list(domain.ADDRESS_ROLES)},
    },
}
PREFIX_SCHEMA: Mapping[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "quantity": {"type": "integer", "minimum": 1, "maximum": 64},
        "prefixLength": {"type": "integer", "minimum": 1, "maximum": 128},
        "policy": {"type": "string", "enum": list(domain.POLICIES)},
    },
}


def _criteria(request: ItemRequest) -> dict[str, Any]:
    schema = ADDRESS_SCHEMA if request.item_type == ADDRESS_ITEM else PREFIX_SCHEMA
    raw = dict(request.criteria)
    unknown = sorted(set(raw) - set(schema["properties"]))
    if unknown:
        raise InvalidAllocation(f"{request.item_type} has no criterion {unknown[0]!r}.")
    quantity = raw.get("quantity", raw.get("count", request.quantity))
    if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1:
        raise InvalidAllocation(f"quantity must be a positive integer, not {quantity!r}.")
    raw["quantity"] = quantity
    if request.item_type == PREFIX_ITEM and not isinstance(raw.get("prefixLength"), int):
        raise InvalidAllocation("An IpPrefixReservationItem needs an integer prefixLength.")
    return raw


class IpProvider:
    """IP addresses and prefixes for TMF685 reservations, from the IPAM pools."""

    name = "ip_pool"

    @property
    def item_schemas(self) -> Mapping[str, Mapping[str, Any]]:
        return {ADDRESS_ITEM: ADDRESS_SCHEMA, PREFIX_ITEM: PREFIX_SCHEMA}

    def pools(self, session: Session) -> Sequence[PoolView]:
        rows = session.execute(select(IpPoolRow).order_by(IpPoolRow.name)).scalars()
        return [self._view(session, row) for row in rows]

    def pool(self, session: Session, pool_id: str) -> PoolView | None:
        row = session.get(IpPoolRow, pool_id)
        return self._view(session, row) if row is not None else None

    def _view(self, session: Session, row: IpPoolRow) -> PoolView:
        _prefix, capacity, available = service.pool_capacity(session, row)
        return PoolView(
            id=row.id,
            name=row.name,
            resource_type=mapping.ADDRESS_TYPE,
            capacity=min(capacity, INT64_MAX),  # an IPv6 /64 pool holds 2^64: TMF685 counts are int64
            available=min(available, INT64_MAX),
            provider=self.name,
            description=row.description,
        )

    def _pools(self, session: Session, request: ItemRequest) -> list[IpPoolRow]:
        if request.pool_id is not None:
            row = session.get(IpPoolRow, request.pool_id)
            if row is None:
                raise ResourcePoolNotFound(request.pool_id)
            return [row]
        return list(session.execute(select(IpPoolRow).order_by(IpPoolRow.name)).scalars())

    def check(self, session: Session, request: ItemRequest) -> Availability:
        criteria = _criteria(request)
        quantity = int(criteria["quantity"])
        best = 0
        for row in self._pools(session, request):
            if request.item_type == ADDRESS_ITEM:
                available = min(service.pool_capacity(session, row)[2], INT64_MAX)
                sample = tuple(service.preview_addresses_in(session, row.prefix_id, min(quantity, 5)))
            else:
                sample = tuple(service.preview_prefixes_in(session, row.prefix_id, int(criteria["prefixLength"]), 5))
                available = len(sample)
            if request.pool_id is not None or available >= quantity:
                return Availability(row.id, quantity, available, sample)
            best = max(best, available)
        return Availability(request.pool_id, quantity, best)

    def hold(self, session: Session, request: ItemRequest, owner: HoldOwner, until: datetime) -> Sequence[HeldResource]:
        criteria = _criteria(request)
        last: Conflict | None = None
        for row in self._pools(session, request):
            try:
                with session.begin_nested():
                    return self._hold_in(session, row, request.item_type, criteria, owner)
            except Conflict as error:
                last = error
        availability = self.check(session, request)
        message = last.message if last is not None else "No IP pool can satisfy the item."
        raise Unavailable(message, availability, code=getattr(last, "code", "POOL_EXHAUSTED"))

    def _hold_in(
        self, session: Session, pool: IpPoolRow, item_type: str, criteria: Mapping[str, Any], owner: HoldOwner
    ) -> list[HeldResource]:
        if item_type == ADDRESS_ITEM:
            request = service.AddressRequest(
                status="reserved",
                role=criteria.get("role"),
                dns_name=criteria.get("dnsName"),
                reservation_id=owner.reservation_id,
            )
            if criteria.get("address"):
                found = [service.take_address_in(session, pool.prefix_id, str(criteria["address"]), request)]
            else:
                found = service.allocate_addresses_in(session, pool.prefix_id, int(criteria["quantity"]), request)
            return [HeldResource(a.id, a.address, mapping.ADDRESS_TYPE, pool.id) for a in found]
        held = []
        for _ in range(int(criteria["quantity"])):
            row = service.allocate_prefix_in(
                session,
                pool.prefix_id,
                int(criteria["prefixLength"]),
                str(criteria.get("policy", domain.FIRST_FIT)),
                status="reserved",
                description=f"reservation {owner.reservation_id}",
            )
            held.append(HeldResource(row.id, row.prefix, mapping.PREFIX_TYPE, pool.id))
        return held

    def extend(self, session: Session, held: Sequence[HeldResource], owner: HoldOwner, until: datetime) -> None:
        return None  # the reservation keeps the expiry; a held address has none of its own

    def commit(self, session: Session, held: Sequence[HeldResource], owner: HoldOwner) -> None:
        now = clock.now()
        for item in held:
            if item.resource_type == mapping.ADDRESS_TYPE:
                address = session.get(IpAddressRow, item.resource_id, with_for_update=True)
                if address is None:
                    continue
                address.status, address.updated_at = "active", now
                session.flush()
                data = service.address_data(address)
                resource_inventory.patch_resource_in(
                    session, address.id, mapping.address_resource_patch(data), acting_context=service.CONTEXT
                )
            else:
                prefix = session.get(IpPrefixRow, item.resource_id, with_for_update=True)
                if prefix is None:
                    continue
                prefix.status, prefix.updated_at = "active", now
                session.flush()
                status, usage = domain.TMF639_STATUS["active"]
                resource_inventory.patch_resource_in(
                    session,
                    prefix.id,
                    {"resourceStatus": status, "usageState": usage},
                    acting_context=service.CONTEXT,
                )

    def release(self, session: Session, held: Sequence[HeldResource], owner: HoldOwner, *, reason: str) -> None:
        addresses = [item.resource_id for item in held if item.resource_type == mapping.ADDRESS_TYPE]
        service.release_addresses_in(session, addresses)
        for item in held:
            if item.resource_type == mapping.PREFIX_TYPE:
                service.delete_prefix_in(session, item.resource_id, cascade=True)


IP_PROVIDER = IpProvider()
del repository
