"""IPAM use cases: VRFs, prefixes with their computed hierarchy, pools, addresses, next-available addresses
and prefixes. One public ``uow`` function = one transaction; the ``*_in`` functions join the caller's
(the TMF685 provider calls them inside the reservation's unit of work).

Every address and prefix written here also writes, in the same transaction, its TMF639 resource (``@type``
``IpAddress`` / ``IpPrefix``, owner ``ip_pool``, the same id), a hub event of the IPAM API, and its audit
record; a failed use case leaves nothing behind.

Allocation locks the prefix it carves (a blocking row lock: parallel requests on one /24 wait for each
other and each sees what the previous one committed), then reads at most three free blocks
(``repository.candidates``): ``POOL_EXHAUSTED`` means nothing is free, never "someone else holds the row".
Lock order: a parent prefix before its child (creating, allocating or deleting a child locks the parent
first), so two use cases never wait on each other in a cycle.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from common import clock, events
from common.orm import new_id
from common.tmf import ListQuery, Page, parse_list_query
from common.uow import UnitOfWork
from oss import resource_inventory
from oss.ip_pool import domain, mapping, repository
from oss.ip_pool.domain import FIRST_FIT, Block, key
from oss.ip_pool.errors import (
    AddressNotFound,
    AddressOutsidePrefix,
    AddressTaken,
    DuplicatePrefix,
    InvalidAllocation,
    PoolExhausted,
    PoolNameTaken,
    PoolNotFound,
    PoolShrink,
    PrefixInUse,
    PrefixNotFound,
    VrfInUse,
    VrfNameTaken,
    VrfNotFound,
)
from oss.ip_pool.models import IpAddressRow, IpPoolRow, IpPrefixRow, VrfRow
from oss.ip_pool.repository import ADDRESS_QUERY, POOL_QUERY, PREFIX_QUERY, VRF_QUERY

logger = logging.getLogger(__name__)

API = "ipam"
CONTEXT = "ip_pool"
VRF_CREATE_EVENT = "VrfCreateEvent"
VRF_DELETE_EVENT = "VrfDeleteEvent"
PREFIX_CREATE_EVENT = "IpPrefixCreateEvent"
PREFIX_DELETE_EVENT = "IpPrefixDeleteEvent"
ADDRESS_CREATE_EVENT = "IpAddressCreateEvent"
ADDRESS_CHANGE_EVENT = "IpAddressAttributeValueChangeEvent"
ADDRESS_DELETE_EVENT = "IpAddressDeleteEvent"
POOL_CREATE_EVENT = "IpPoolCreateEvent"
POOL_CHANGE_EVENT = "IpPoolAttributeValueChangeEvent"
POOL_DELETE_EVENT = "IpPoolDeleteEvent"
EVENT_TYPES = (
    VRF_CREATE_EVENT,
    VRF_DELETE_EVENT,
    PREFIX_CREATE_EVENT,
    PREFIX_DELETE_EVENT,
    ADDRESS_CREATE_EVENT,
    ADDRESS_CHANGE_EVENT,
    ADDRESS_DELETE_EVENT,
    POOL_CREATE_EVENT,
    POOL_CHANGE_EVENT,
    POOL_DELETE_EVENT,
)
events.register_event_types(API, EVENT_TYPES)
events.register_event_schema(
    API,
    {
        "vrf": VRF_QUERY.members,
        "ipPrefix": PREFIX_QUERY.members,
        "ipAddress": ADDRESS_QUERY.members,
        "ipPool": POOL_QUERY.members,
    },
)

MAX_QUANTITY = 1024
MAX_PREVIEW = 1000
GLOBAL = ""  # the vrf_key of the global table


# ------------------------------------------------------------------------------------------- data


@dataclass(frozen=True)
class VrfData:
    id: str
    name: str
    rd: str | None
    import_targets: tuple[str, ...]
    export_targets: tuple[str, ...]
    enforce_unique: bool
    description: str | None
    created_at: datetime
    prefix_count: int | None = None


@dataclass(frozen=True)
class PrefixData:
    id: str
    prefix: str
    family: int
    length: int
    vrf_id: str | None
    parent_id: str | None
    depth: int
    status: str
    description: str | None
    created_at: datetime
    size: int
    free: int | None = None
    children: int | None = None
    addresses: int | None = None
    pool_id: str | None = None

    @property
    def used(self) -> int | None:
        return None if self.free is None else self.size - self.free

    @property
    def utilization(self) -> float | None:
        return None if self.free is None else round(100.0 * (self.size - self.free) / self.size, 4)


@dataclass(frozen=True)
class AddressData:
    id: str
    address: str
    family: int
    vrf_id: str | None
    prefix_id: str
    status: str
    role: str | None
    dns_name: str | None
    interface_id: str | None
    service_id: str | None
    reservation_id: str | None
    description: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class PoolData:
    id: str
    name: str
    prefix_id: str
    prefix: str
    reserved_head: int
    reserved_tail: int
    description: str | None
    created_at: datetime
    capacity: int
    available: int | None = None


@dataclass(frozen=True)
class AddressRequest:
    """What an allocated address is for (the body of ``availableIp`` or a reservation item)."""

    status: str = "active"
    role: str | None = None
    dns_name: str | None = None
    interface_id: str | None = None
    service_id: str | None = None
    reservation_id: str | None = None
    description: str | None = None


def request_of(document: Mapping[str, Any], *, status: str = "active") -> AddressRequest:
    return AddressRequest(
        status=str(document.get("status", status)),
        role=document.get("role"),
        dns_name=document.get("dnsName"),
        interface_id=document.get("interfaceId"),
        service_id=document.get("serviceId"),
        description=document.get("description"),
    )


# ------------------------------------------------------------------------------------------- VRFs


def create_vrf(uow: UnitOfWork, document: Mapping[str, Any]) -> VrfData:
    """A VRF: route distinguisher, import/export route targets, and whether its space may overlap."""
    now = clock.now()
    with uow as tx:
        if repository.vrf_by_name(tx.session, document["name"]) is not None:
            raise VrfNameTaken(f"A VRF named {document['name']!r} exists already.")
        row = VrfRow(
            id=new_id(),
            name=document["name"],
            rd=document.get("rd"),
            import_targets=list(document.get("importTargets") or []),
            export_targets=list(document.get("exportTargets") or []),
            enforce_unique=bool(document.get("enforceUnique", True)),
            description=document.get("description"),
            created_at=now,
            updated_at=now,
        )
        tx.session.add(row)
        tx.session.flush()
        vrf = _vrf_data(row, 0)
        _publish(tx.session, VRF_CREATE_EVENT, "vrf", mapping.vrf_json(vrf))
        tx.commit()
    return vrf


def retrieve_vrf(uow: UnitOfWork, vrf_id: str) -> VrfData:
    with uow as tx:
        row = _vrf(tx.session, vrf_id)
        count = tx.session.scalar(select(func.count()).where(repository.PREFIX.c.vrf_id == row.id))
        return _vrf_data(row, int(count or 0))


def list_vrfs(uow: UnitOfWork, query: ListQuery) -> Page[VrfData]:
    with uow as tx:
        rows, total = repository.list_page(tx.session, "vrf", query)
        return Page(items=[_vrf_data(row) for row in rows], total=total, offset=query.offset, limit=query.limit)


def delete_vrf(uow: UnitOfWork, vrf_id: str) -> None:
    with uow as tx:
        row = _vrf(tx.session, vrf_id, lock=True)
        if tx.session.execute(select(IpPrefixRow.id).where(IpPrefixRow.vrf_id == row.id).limit(1)).first():
            raise VrfInUse(f"VRF {row.name!r} still holds prefixes: delete them first.")
        vrf = _vrf_data(row, 0)
        tx.session.delete(row)
        tx.session.flush()
        _publish(tx.session, VRF_DELETE_EVENT, "vrf", mapping.vrf_json(vrf))
        tx.commit()


def _vrf(session: Session, vrf_id: str, *, lock: bool = False) -> VrfRow:
    row = session.get(VrfRow, vrf_id, with_for_update=lock)
    if row is None:
        raise VrfNotFound(f"No VRF with id {vrf_id!r}.")
    return row


def _vrf_data(row: Any, prefix_count: int | None = None) -> VrfData:
    return VrfData(
        id=row.id,
        name=row.name,
        rd=row.rd,
        import_targets=tuple(row.import_targets or ()),
        export_targets=tuple(row.export_targets or ()),
        enforce_unique=bool(row.enforce_unique),
        description=row.description,
        created_at=row.created_at,
        prefix_count=prefix_count,
    )


def _scope(session: Session, vrf_id: str | None) -> tuple[str | None, str, bool]:
    """(vrf_id, vrf_key, enforce_unique) of a VRF id or the global table (unique, never NULL)."""
    if vrf_id is None:
        return None, GLOBAL, True
    vrf = _vrf(session, vrf_id)
    return vrf.id, vrf.id, bool(vrf.enforce_unique)


# --------------------------------------------------------------------------------------- prefixes


def create_prefix(uow: UnitOfWork, document: Mapping[str, Any]) -> PrefixData:
    """A prefix; its parent is the deepest prefix of its VRF holding it, computed, and the prefixes and
    addresses under that parent which it now holds move under it. 409 ``DUPLICATE_PREFIX`` in a VRF that does
    not allow overlapping space (the global table is one)."""
    block = domain.block_of(domain.network(document["prefix"]))
    with uow as tx:
        vrf_id, vrf_key, enforce = _scope(tx.session, document.get("vrfId"))
        row = create_prefix_in(
            tx.session,
            block,
            vrf_id=vrf_id,
            vrf_key=vrf_key,
            enforce=enforce,
            status=str(document.get("status", "active")),
            description=document.get("description"),
        )
        prefix = _prefix_with_counts(tx.session, row)
        tx.commit()
    logger.info("created prefix %s (%s)", prefix.prefix, prefix.id)
    return prefix


def create_prefix_in(
    session: Session,
    block: Block,
    *,
    vrf_id: str | None,
    vrf_key: str,
    enforce: bool,
    status: str,
    description: str | None,
    parent: IpPrefixRow | None = None,
    carved: bool = False,
) -> IpPrefixRow:
    """Insert a prefix in the caller's transaction. ``carved``: the caller took ``block`` out of ``parent``'s
    free space already (next-available), so it is simply all free."""
    if not carved:
        if enforce and repository.same_prefix(session, vrf_key, block) is not None:
            raise DuplicatePrefix(f"{block.cidr()} exists already in this VRF, which does not allow overlapping space.")
        for _ in range(3):  # the parent found, locked, and still the parent once locked
            parent = repository.smallest_containing(session, vrf_key, block, strictly=enforce)
            if parent is None:
                break
            repository.lock_prefix(session, parent.id)
            again = repository.smallest_containing(session, vrf_key, block, strictly=enforce)
            if again is not None and again.id == parent.id:
                break
    now = clock.now()
    row = IpPrefixRow(
        id=new_id(),
        vrf_id=vrf_id,
        vrf_key=vrf_key,
        enforce_unique=enforce,
        family=block.family,
        prefix=block.cidr(),
        start_key=key(block.start),
        end_key=key(block.end),
        length=block.length,
        parent_id=parent.id if parent is not None else None,
        depth=parent.depth + 1 if parent is not None else 0,
        status=status,
        description=description,
        created_at=now,
        updated_at=now,
    )
    moving = [] if carved else repository.children_inside(session, vrf_key, row.parent_id, block)
    moving = [child for child in moving if child.id != row.id]
    session.add(row)
    session.flush()
    if carved:
        repository.insert_blocks(session, row.id, [block])
    elif parent is not None:
        _take_from_parent(session, parent, row, block)
    else:
        taken = [domain.Block(domain.unkey(c.start_key), c.length, block.bits) for c in moving]
        repository.insert_blocks(session, row.id, domain.subtract(block, taken))
    if moving:
        # The prefixes it now holds become its children, and everything under them one level deeper.
        ids = [child.id for child in moving]
        session.execute(update(IpPrefixRow).where(IpPrefixRow.id.in_(ids)).values(parent_id=row.id))
        session.execute(
            update(IpPrefixRow)
            .where(
                IpPrefixRow.vrf_key == vrf_key,
                IpPrefixRow.family == block.family,
                IpPrefixRow.start_key >= row.start_key,
                IpPrefixRow.end_key <= row.end_key,
                IpPrefixRow.id != row.id,
                IpPrefixRow.depth >= row.depth,
            )
            .values(depth=IpPrefixRow.depth + 1)
        )
        session.expire_all()
    resource_inventory.create_resource_in(
        session, mapping.prefix_resource(row), acting_context=CONTEXT, resource_id=row.id
    )
    _publish(session, PREFIX_CREATE_EVENT, "ipPrefix", mapping.prefix_json(_prefix_data(row)))
    return row


def _take_from_parent(session: Session, parent: IpPrefixRow, row: IpPrefixRow, block: Block) -> None:
    """Move ``block``'s free space (and the addresses in it) from ``parent`` to the new prefix ``row``."""
    bits = block.bits
    holder = repository.holder(session, parent.id, block)
    if holder is not None and holder.length <= block.length:
        repository.delete_block(session, parent.id, holder)
        repository.insert_blocks(session, parent.id, domain.carve(holder, block))
        repository.insert_blocks(session, row.id, [block])
        return
    repository.move_blocks_inside(session, parent.id, row.id, block)
    session.execute(
        update(IpAddressRow)
        .where(
            IpAddressRow.prefix_id == parent.id,
            IpAddressRow.value_key >= row.start_key,
            IpAddressRow.value_key <= row.end_key,
        )
        .values(prefix_id=row.id)
    )
    del bits


def retrieve_prefix(uow: UnitOfWork, prefix_id: str) -> PrefixData:
    with uow as tx:
        return _prefix_with_counts(tx.session, _prefix(tx.session, prefix_id))


def list_prefixes(uow: UnitOfWork, query: ListQuery) -> Page[PrefixData]:
    with uow as tx:
        rows, total = repository.list_page(tx.session, "prefix", query)
        return Page(items=[_prefix_data(row) for row in rows], total=total, offset=query.offset, limit=query.limit)


def delete_prefix(uow: UnitOfWork, prefix_id: str, *, cascade: bool = False) -> None:
    """Delete a prefix and give its space back to its parent. With child prefixes or addresses: 409
    ``PREFIX_IN_USE`` unless ``cascade``, which deletes them (and their TMF639 resources) too."""
    with uow as tx:
        delete_prefix_in(tx.session, prefix_id, cascade=cascade)
        tx.commit()


def delete_prefix_in(session: Session, prefix_id: str, *, cascade: bool = False) -> None:
    row = session.get(IpPrefixRow, prefix_id)
    if row is None:
        raise PrefixNotFound(f"No IP prefix with id {prefix_id!r}.")
    parent = repository.lock_prefix(session, row.parent_id) if row.parent_id else None
    row = repository.lock_prefix(session, prefix_id) or row
    below = repository.descendants(session, row)
    addresses = repository.address_count(session, row.id) + sum(
        repository.address_count(session, child.id) for child in below
    )
    if (below or addresses) and not cascade:
        raise PrefixInUse(
            f"{row.prefix} holds {len(below)} prefixes and {addresses} addresses: delete them first or ask to cascade.",
            details={"prefixes": len(below), "addresses": addresses},
        )
    whole = _block_of_row(row)
    for prefix in sorted([row, *below], key=lambda p: -p.depth):
        for address in list(session.execute(select(IpAddressRow).where(IpAddressRow.prefix_id == prefix.id)).scalars()):
            _delete_address_row(session, address)
        pool = repository.pool_of_prefix(session, prefix.id)
        if pool is not None:
            _delete_pool_row(session, pool)
        session.execute(repository.FREE.delete().where(repository.FREE.c.prefix_id == prefix.id))
        data = _prefix_data(prefix)
        session.delete(prefix)
        session.flush()
        resource_inventory.delete_resource_in(session, data.id, acting_context=CONTEXT)
        _publish(session, PREFIX_DELETE_EVENT, "ipPrefix", mapping.prefix_json(data))
    if parent is not None:
        _release(session, parent, whole)


def _prefix(session: Session, prefix_id: str) -> IpPrefixRow:
    row = session.get(IpPrefixRow, prefix_id)
    if row is None:
        raise PrefixNotFound(f"No IP prefix with id {prefix_id!r}.")
    return row


def _block_of_row(row: Any) -> Block:
    return Block(domain.unkey(row.start_key), int(row.length), domain.bits_of(int(row.family)))


def _prefix_data(row: Any) -> PrefixData:
    block = _block_of_row(row)
    return PrefixData(
        id=row.id,
        prefix=row.prefix,
        family=row.family,
        length=row.length,
        vrf_id=row.vrf_id,
        parent_id=row.parent_id,
        depth=row.depth,
        status=row.status,
        description=row.description,
        created_at=row.created_at,
        size=block.size,
    )


def _prefix_with_counts(session: Session, row: IpPrefixRow) -> PrefixData:
    block = _block_of_row(row)
    pool = repository.pool_of_prefix(session, row.id)
    return replace(
        _prefix_data(row),
        free=repository.free_size(session, row.id, block.bits),
        children=repository.child_count(session, row.id),
        addresses=repository.address_count(session, row.id),
        pool_id=pool.id if pool is not None else None,
    )


# ------------------------------------------------------------------------------------ free space


def _release(session: Session, prefix: IpPrefixRow, block: Block) -> None:
    """Give ``block`` back to ``prefix``'s free space, merging buddies (the caller holds the prefix's lock)."""
    within = _block_of_row(prefix)
    current = block
    while current.length > within.length:
        buddy = current.buddy()
        if not repository.is_free(session, prefix.id, buddy):
            break
        repository.delete_block(session, prefix.id, buddy)
        current = current.parent()
    repository.insert_blocks(session, prefix.id, [current])


def _carve(session: Session, prefix: IpPrefixRow, length: int, lo: int, hi: int, policy: str) -> Block | None:
    bits = domain.bits_of(prefix.family)
    chosen = domain.choose(repository.candidates(session, prefix.id, bits, length, lo, hi, policy), length, lo, hi)
    if chosen is None:
        return None
    holder, taken = chosen
    repository.delete_block(session, prefix.id, holder)
    repository.insert_blocks(session, prefix.id, domain.carve(holder, taken))
    return taken


def _take(session: Session, prefix: IpPrefixRow, block: Block) -> bool:
    holder = repository.holder(session, prefix.id, block)
    if holder is None or holder.length > block.length:
        return False
    repository.delete_block(session, prefix.id, holder)
    repository.insert_blocks(session, prefix.id, domain.carve(holder, block))
    return True


def _window(session: Session, prefix: IpPrefixRow) -> tuple[int, int]:
    pool = repository.pool_of_prefix(session, prefix.id)
    head, tail = (pool.reserved_head, pool.reserved_tail) if pool is not None else (0, 0)
    return domain.address_window(_block_of_row(prefix), head, tail)


# -------------------------------------------------------------------------------------- addresses


def create_address(uow: UnitOfWork, document: Mapping[str, Any]) -> AddressData:
    """A specific address (``192.0.2.7/24``): 400 ``ADDRESS_OUTSIDE_PREFIX`` if no prefix of its VRF holds it,
    409 ``IP_ADDRESS_TAKEN`` if it is in use."""
    ip, mask = domain.address(document["address"])
    bits = domain.bits_of(ip.version)
    block = Block(int(ip), bits, bits)
    with uow as tx:
        session = tx.session
        _vrf_id, vrf_key, _enforce = _scope(session, document.get("vrfId"))
        prefix = None
        for _ in range(3):
            found = repository.smallest_containing(session, vrf_key, block, strictly=True)
            if found is None:
                raise AddressOutsidePrefix(f"{ip} is in no prefix of its VRF: create the prefix first.")
            repository.lock_prefix(session, found.id)
            again = repository.smallest_containing(session, vrf_key, block, strictly=True)
            if again is not None and again.id == found.id:
                prefix = found
                break
        if prefix is None:
            raise AddressTaken(f"The prefixes holding {ip} changed concurrently; retry.", code="CONCURRENT_UPDATE")
        if not _take(session, prefix, block):
            raise AddressTaken(f"{ip} is in use already.")
        address = _insert_address(session, prefix, int(ip), mask, request_of(document))
        tx.commit()
    return address


def take_address_in(session: Session, prefix_id: str, text: str, request: AddressRequest) -> AddressData:
    """A specific address of a prefix (the caller's transaction): 409 ``IP_ADDRESS_TAKEN`` if in use."""
    ip, _mask = domain.address(text)
    prefix = repository.lock_prefix(session, prefix_id)
    if prefix is None:
        raise PrefixNotFound(f"No IP prefix with id {prefix_id!r}.")
    whole = _block_of_row(prefix)
    bits = whole.bits
    if ip.version != prefix.family or not whole.start <= int(ip) <= whole.end:
        raise AddressOutsidePrefix(f"{ip} is not in {prefix.prefix}.")
    if not _take(session, prefix, Block(int(ip), bits, bits)):
        raise AddressTaken(f"{ip} is in use already.")
    return _insert_address(session, prefix, int(ip), prefix.length, request)


def _insert_address(
    session: Session, prefix: IpPrefixRow, value: int, mask: int, request: AddressRequest
) -> AddressData:
    now = clock.now()
    row = IpAddressRow(
        id=new_id(),
        vrf_id=prefix.vrf_id,
        vrf_key=prefix.vrf_key,
        enforce_unique=prefix.enforce_unique,
        family=prefix.family,
        address=f"{domain.format_address(value, prefix.family)}/{mask}",
        value_key=key(value),
        mask_length=mask,
        prefix_id=prefix.id,
        status=request.status,
        role=request.role,
        dns_name=request.dns_name,
        interface_id=request.interface_id,
        service_id=request.service_id,
        reservation_id=request.reservation_id,
        description=request.description,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    address = address_data(row)
    resource_inventory.create_resource_in(
        session, mapping.address_resource(address), acting_context=CONTEXT, resource_id=row.id
    )
    _publish(session, ADDRESS_CREATE_EVENT, "ipAddress", mapping.address_json(address))
    return address


def allocate_addresses(uow: UnitOfWork, prefix_id: str, document: Mapping[str, Any]) -> list[AddressData]:
    """The next free addresses of a prefix (``quantity``, all or nothing), lowest first (NetBox's
    ``available-ips``); 409 ``POOL_EXHAUSTED`` only when fewer are free."""
    quantity = int(document.get("quantity", 1))
    with uow as tx:
        found = allocate_addresses_in(tx.session, prefix_id, quantity, request_of(document))
        tx.commit()
    return found


def allocate_addresses_in(
    session: Session, prefix_id: str, quantity: int, request: AddressRequest
) -> list[AddressData]:
    if not 1 <= quantity <= MAX_QUANTITY:
        raise InvalidAllocation(f"quantity must be 1..{MAX_QUANTITY}, not {quantity}.")
    prefix = repository.lock_prefix(session, prefix_id)
    if prefix is None:
        raise PrefixNotFound(f"No IP prefix with id {prefix_id!r}.")
    bits = domain.bits_of(prefix.family)
    lo, hi = _window(session, prefix)
    found = []
    for _ in range(quantity):
        taken = _carve(session, prefix, bits, lo, hi, FIRST_FIT)
        if taken is None:
            raise PoolExhausted(
                f"{prefix.prefix} has fewer than {quantity} free addresses.", details={"prefix": prefix.prefix}
            )
        found.append(_insert_address(session, prefix, taken.start, prefix.length, request))
    return found


def preview_addresses(uow: UnitOfWork, prefix_id: str, limit: int = 10) -> list[str]:
    """The next free addresses of a prefix, without taking them (reads the first free blocks only)."""
    with uow as tx:
        return preview_addresses_in(tx.session, prefix_id, limit)


def preview_addresses_in(session: Session, prefix_id: str, limit: int) -> list[str]:
    limit = max(0, min(limit, MAX_PREVIEW))
    prefix = _prefix(session, prefix_id)
    bits = domain.bits_of(prefix.family)
    lo, hi = _window(session, prefix)
    found: list[str] = []
    start = lo
    while len(found) < limit and start <= hi:
        blocks = repository.free_blocks(session, prefix.id, bits, start=start, limit=8)
        if not blocks:
            break
        for block in blocks:
            value = max(block.start, lo)
            while value <= min(block.end, hi) and len(found) < limit:
                found.append(f"{domain.format_address(value, prefix.family)}/{prefix.length}")
                value += 1
            start = block.end + 1
            if len(found) >= limit or start > hi:
                break
    return found


def allocate_prefix(uow: UnitOfWork, parent_id: str, document: Mapping[str, Any]) -> PrefixData:
    """The next free child prefix of ``prefixLength`` (first fit, or ``bestFit``: the smallest free block that
    holds one, to limit fragmentation); 409 ``POOL_EXHAUSTED`` when no aligned block of that size is free."""
    with uow as tx:
        row = allocate_prefix_in(
            tx.session,
            parent_id,
            int(document["prefixLength"]),
            str(document.get("policy", FIRST_FIT)),
            status=str(document.get("status", "active")),
            description=document.get("description"),
        )
        prefix = _prefix_with_counts(tx.session, row)
        tx.commit()
    return prefix


def allocate_prefix_in(
    session: Session,
    parent_id: str,
    length: int,
    policy: str,
    *,
    status: str = "active",
    description: str | None = None,
) -> IpPrefixRow:
    parent = repository.lock_prefix(session, parent_id)
    if parent is None:
        raise PrefixNotFound(f"No IP prefix with id {parent_id!r}.")
    bits = domain.bits_of(parent.family)
    if not parent.length < length <= bits:
        raise InvalidAllocation(f"prefixLength must be {parent.length + 1}..{bits} in {parent.prefix}, not {length}.")
    whole = _block_of_row(parent)
    taken = _carve(session, parent, length, whole.start, whole.end, policy)
    if taken is None:
        raise PoolExhausted(f"{parent.prefix} has no free /{length}.", details={"prefix": parent.prefix})
    return create_prefix_in(
        session,
        taken,
        vrf_id=parent.vrf_id,
        vrf_key=parent.vrf_key,
        enforce=parent.enforce_unique,
        status=status,
        description=description,
        parent=parent,
        carved=True,
    )


def preview_prefixes(uow: UnitOfWork, parent_id: str, length: int, limit: int = 10) -> list[str]:
    """The next free child prefixes of ``length`` in first-fit order, without taking them."""
    with uow as tx:
        return preview_prefixes_in(tx.session, parent_id, length, limit)


def preview_prefixes_in(session: Session, parent_id: str, length: int, limit: int) -> list[str]:
    limit = max(0, min(limit, MAX_PREVIEW))
    parent = _prefix(session, parent_id)
    bits = domain.bits_of(parent.family)
    if not parent.length < length <= bits:
        raise InvalidAllocation(f"prefixLength must be {parent.length + 1}..{bits} in {parent.prefix}.")
    found: list[str] = []
    start = domain.unkey(parent.start_key)
    size = 1 << (bits - length)
    while len(found) < limit:
        blocks = repository.free_blocks(session, parent.id, bits, start=start, limit=16)
        if not blocks:
            break
        for block in blocks:
            start = block.end + 1
            value = block.start
            while block.length <= length and value <= block.end and len(found) < limit:
                found.append(Block(value, length, bits).cidr())
                value += size
            if len(found) >= limit:
                break
        if start > domain.unkey(parent.end_key):
            break
    return found


def retrieve_address(uow: UnitOfWork, address_id: str) -> AddressData:
    with uow as tx:
        return address_data(_address(tx.session, address_id))


def list_addresses(uow: UnitOfWork, query: ListQuery) -> Page[AddressData]:
    with uow as tx:
        rows, total = repository.list_page(tx.session, "address", query)
        return Page(items=[address_data(row) for row in rows], total=total, offset=query.offset, limit=query.limit)


PATCHABLE = {
    "status": "status",
    "role": "role",
    "dnsName": "dns_name",
    "interfaceId": "interface_id",
    "serviceId": "service_id",
    "description": "description",
}


def patch_address(uow: UnitOfWork, address_id: str, patch: Mapping[str, Any]) -> AddressData:
    """Change an address's status, role, DNS name, assignment (interface or service) or description."""
    with uow as tx:
        row = _address(tx.session, address_id, lock=True)
        changed = [name for name in PATCHABLE if name in patch]
        for name in changed:
            setattr(row, PATCHABLE[name], patch[name])
        row.updated_at = clock.now()
        tx.session.flush()
        address = address_data(row)
        if changed:
            resource_inventory.patch_resource_in(
                tx.session, row.id, mapping.address_resource_patch(address), acting_context=CONTEXT
            )
            _publish(tx.session, ADDRESS_CHANGE_EVENT, "ipAddress", mapping.address_json(address), ",".join(changed))
        tx.commit()
    return address


def delete_address(uow: UnitOfWork, address_id: str) -> None:
    with uow as tx:
        row = _address(tx.session, address_id)
        prefix = repository.lock_prefix(tx.session, row.prefix_id)
        row = _address(tx.session, address_id, lock=True)
        if prefix is not None and prefix.id != row.prefix_id:  # a new child prefix took it meanwhile
            prefix = repository.lock_prefix(tx.session, row.prefix_id)
        _delete_address_row(tx.session, row, prefix)
        tx.commit()


def release_addresses_in(session: Session, address_ids: Sequence[str]) -> None:
    for address_id in sorted(address_ids):
        row = session.get(IpAddressRow, address_id)
        if row is None:
            continue
        prefix = repository.lock_prefix(session, row.prefix_id)
        _delete_address_row(session, row, prefix)


def _delete_address_row(session: Session, row: IpAddressRow, prefix: IpPrefixRow | None = None) -> None:
    address = address_data(row)
    bits = domain.bits_of(row.family)
    if prefix is not None:
        _release(session, prefix, Block(domain.unkey(row.value_key), bits, bits))
    session.delete(row)
    session.flush()
    resource_inventory.delete_resource_in(session, row.id, acting_context=CONTEXT)
    _publish(session, ADDRESS_DELETE_EVENT, "ipAddress", mapping.address_json(address))


def addresses_of_interface(uow: UnitOfWork, interface_id: str) -> list[AddressData]:
    """What the physical inventory shows on an interface: the addresses assigned to it."""
    with uow as tx:
        rows = tx.session.execute(
            select(IpAddressRow).where(IpAddressRow.interface_id == interface_id).order_by(IpAddressRow.value_key)
        ).scalars()
        return [address_data(row) for row in rows]


def _address(session: Session, address_id: str, *, lock: bool = False) -> IpAddressRow:
    row = session.get(IpAddressRow, address_id, with_for_update=lock, populate_existing=lock)
    if row is None:
        raise AddressNotFound(f"No IP address with id {address_id!r}.")
    return row


def address_data(row: Any) -> AddressData:
    return AddressData(
        id=row.id,
        address=row.address,
        family=row.family,
        vrf_id=row.vrf_id,
        prefix_id=row.prefix_id,
        status=row.status,
        role=row.role,
        dns_name=row.dns_name,
        interface_id=row.interface_id,
        service_id=row.service_id,
        reservation_id=row.reservation_id,
        description=row.description,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


# ------------------------------------------------------------------------------------------ pools


def create_pool(uow: UnitOfWork, document: Mapping[str, Any]) -> PoolData:
    """Mark a prefix for allocation, with ``reservedHead``/``reservedTail`` addresses never handed out."""
    with uow as tx:
        session = tx.session
        if session.execute(select(IpPoolRow.id).where(IpPoolRow.name == document["name"])).first():
            raise PoolNameTaken(f"An IP pool named {document['name']!r} exists already.")
        prefix = repository.lock_prefix(session, document["prefixId"])
        if prefix is None:
            raise PrefixNotFound(f"No IP prefix with id {document['prefixId']!r}.")
        if repository.pool_of_prefix(session, prefix.id) is not None:
            raise PoolNameTaken(f"{prefix.prefix} is a pool already.", code="IP_PREFIX_IS_POOL")
        head, tail = int(document.get("reservedHead", 0)), int(document.get("reservedTail", 0))
        _refuse_shrink(session, prefix, head, tail)
        now = clock.now()
        row = IpPoolRow(
            id=new_id(),
            name=document["name"],
            prefix_id=prefix.id,
            reserved_head=head,
            reserved_tail=tail,
            description=document.get("description"),
            created_at=now,
            updated_at=now,
        )
        session.add(row)
        session.flush()
        pool = _pool_with_counts(session, row)
        _publish(session, POOL_CREATE_EVENT, "ipPool", mapping.pool_json(pool))
        tx.commit()
    return pool


def patch_pool(uow: UnitOfWork, pool_id: str, patch: Mapping[str, Any]) -> PoolData:
    """Change a pool's name, description or reserved head/tail (409 ``POOL_BELOW_ALLOCATED`` if the new
    reserved addresses are allocated already)."""
    with uow as tx:
        session = tx.session
        row = _pool(session, pool_id)
        prefix = repository.lock_prefix(session, row.prefix_id)
        assert prefix is not None
        head = int(patch.get("reservedHead", row.reserved_head))
        tail = int(patch.get("reservedTail", row.reserved_tail))
        _refuse_shrink(session, prefix, head, tail)
        if "name" in patch and patch["name"] != row.name:
            if session.execute(select(IpPoolRow.id).where(IpPoolRow.name == patch["name"])).first():
                raise PoolNameTaken(f"An IP pool named {patch['name']!r} exists already.")
            row.name = patch["name"]
        if "description" in patch:
            row.description = patch["description"]
        row.reserved_head, row.reserved_tail = head, tail
        row.updated_at = clock.now()
        session.flush()
        pool = _pool_with_counts(session, row)
        changed = [name for name in ("name", "description", "reservedHead", "reservedTail") if name in patch]
        if changed:
            _publish(session, POOL_CHANGE_EVENT, "ipPool", mapping.pool_json(pool), ",".join(changed))
        tx.commit()
    return pool


def _refuse_shrink(session: Session, prefix: IpPrefixRow, head: int, tail: int) -> None:
    whole = _block_of_row(prefix)
    lo0, hi0 = domain.address_window(whole)
    if head < 0 or tail < 0 or head + tail > hi0 - lo0 + 1:
        raise InvalidAllocation(f"reservedHead + reservedTail must leave addresses in {prefix.prefix}.")
    reserved = [(lo0, lo0 + head - 1), (hi0 - tail + 1, hi0)]
    for first, last in reserved:
        if first <= last and repository.free_in(session, prefix.id, whole.bits, first, last) < last - first + 1:
            raise PoolShrink(
                f"The reserved addresses {domain.format_address(first, prefix.family)}.."
                f"{domain.format_address(last, prefix.family)} of {prefix.prefix} are allocated already.",
            )


def retrieve_pool(uow: UnitOfWork, pool_id: str) -> PoolData:
    with uow as tx:
        return _pool_with_counts(tx.session, _pool(tx.session, pool_id))


def list_pools(uow: UnitOfWork, query: ListQuery) -> Page[PoolData]:
    with uow as tx:
        rows, total = repository.list_page(tx.session, "pool", query)
        items = [_pool_with_counts(tx.session, _pool(tx.session, row.id), counts=False) for row in rows]
        return Page(items=items, total=total, offset=query.offset, limit=query.limit)


def delete_pool(uow: UnitOfWork, pool_id: str) -> None:
    with uow as tx:
        _delete_pool_row(tx.session, _pool(tx.session, pool_id))
        tx.commit()


def _delete_pool_row(session: Session, row: IpPoolRow) -> None:
    pool = _pool_with_counts(session, row, counts=False)
    session.delete(row)
    session.flush()
    _publish(session, POOL_DELETE_EVENT, "ipPool", mapping.pool_json(pool))


def _pool(session: Session, pool_id: str) -> IpPoolRow:
    row = session.get(IpPoolRow, pool_id)
    if row is None:
        raise PoolNotFound(f"No IP pool with id {pool_id!r}.")
    return row


def pool_capacity(session: Session, row: IpPoolRow) -> tuple[IpPrefixRow, int, int]:
    """(prefix, capacity, available) of a pool: the addresses of its window, and how many are free."""
    prefix = _prefix(session, row.prefix_id)
    lo, hi = domain.address_window(_block_of_row(prefix), row.reserved_head, row.reserved_tail)
    capacity = max(0, hi - lo + 1)
    free = repository.free_in(session, prefix.id, domain.bits_of(prefix.family), lo, hi) if capacity else 0
    return prefix, capacity, free


def _pool_with_counts(session: Session, row: IpPoolRow, *, counts: bool = True) -> PoolData:
    prefix = _prefix(session, row.prefix_id)
    lo, hi = domain.address_window(_block_of_row(prefix), row.reserved_head, row.reserved_tail)
    available = pool_capacity(session, row)[2] if counts else None
    return PoolData(
        id=row.id,
        name=row.name,
        prefix_id=row.prefix_id,
        prefix=prefix.prefix,
        reserved_head=row.reserved_head,
        reserved_tail=row.reserved_tail,
        description=row.description,
        created_at=row.created_at,
        capacity=max(0, hi - lo + 1),
        available=available,
    )


# ------------------------------------------------------------------------------------------ lists


def parse_query(query_string: str, spec: Any) -> ListQuery:
    return parse_list_query(query_string, spec)


def _publish(
    session: Session, event_type: str, key_: str, entity: dict[str, Any], field_path: str | None = None
) -> None:
    events.publish(session, api=API, event_type=event_type, resource=entity, payload_key=key_, field_path=field_path)
