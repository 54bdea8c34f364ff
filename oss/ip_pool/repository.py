"""Queries on the IPAM tables. Never commits (the use case does).

The free-space queries are the allocator (``oss.ip_pool.domain``): ``candidates`` reads at most three free
blocks of a prefix, by ``(prefix_id, start_key)`` for first fit or ``(prefix_id, length, start_key)`` for
best fit, whatever is allocated; ``holder`` finds the free block holding a given block. Callers hold the
prefix's row lock (``lock_prefix``, a blocking ``FOR UPDATE``) before they read free space, so parallel
allocations from one prefix wait for each other instead of failing, and every statement after the lock sees
what the previous holder committed (``READ COMMITTED``). SQLite serialises writers (``BEGIN IMMEDIATE``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Row, Table, delete, func, insert, select
from sqlalchemy.orm import Session

from common import tmf
from common.tmf import BOOLEAN, DATETIME, INTEGER, column, enum_of
from oss.ip_pool.domain import ADDRESS_ROLES, ADDRESS_STATUSES, BEST_FIT, PREFIX_STATUSES, Block, key, unkey
from oss.ip_pool.models import IpAddressRow, IpFreeBlockRow, IpPoolRow, IpPrefixRow, VlanGroupRow, VlanRow, VrfRow

SPEC = Path(__file__).resolve().parents[2] / "openapi" / "ipam.yaml"
VRF: Table = VrfRow.__table__  # type: ignore[assignment]
PREFIX: Table = IpPrefixRow.__table__  # type: ignore[assignment]
POOL: Table = IpPoolRow.__table__  # type: ignore[assignment]
ADDRESS: Table = IpAddressRow.__table__  # type: ignore[assignment]
FREE: Table = IpFreeBlockRow.__table__  # type: ignore[assignment]

VRF_QUERY = tmf.QuerySpec(
    attributes=(
        column("id", VRF.c.id),
        column("name", VRF.c.name),
        column("rd", VRF.c.rd),
        column("enforceUnique", VRF.c.enforce_unique, BOOLEAN),
        column("createdAt", VRF.c.created_at, DATETIME),
    ),
    default_order=(VRF.c.name,),
    tiebreaker=VRF.c.id,
    members=tmf.schema_members(SPEC, "Vrf"),
)
PREFIX_QUERY = tmf.QuerySpec(
    attributes=(
        column("id", PREFIX.c.id),
        column("prefix", PREFIX.c.prefix),
        column("vrfId", PREFIX.c.vrf_id),
        column("parentId", PREFIX.c.parent_id),
        column("family", PREFIX.c.family, INTEGER),
        column("prefixLength", PREFIX.c.length, INTEGER),
        column("depth", PREFIX.c.depth, INTEGER),
        column("status", PREFIX.c.status, enum_of(*PREFIX_STATUSES)),
        column("createdAt", PREFIX.c.created_at, DATETIME),
    ),
    default_order=(PREFIX.c.vrf_key, PREFIX.c.family, PREFIX.c.start_key, PREFIX.c.length),
    tiebreaker=PREFIX.c.id,
    members=tmf.schema_members(SPEC, "IpPrefix"),
)
ADDRESS_QUERY = tmf.QuerySpec(
    attributes=(
        column("id", ADDRESS.c.id),
        column("address", ADDRESS.c.address),
        column("vrfId", ADDRESS.c.vrf_id),
        column("prefixId", ADDRESS.c.prefix_id),
        column("family", ADDRESS.c.family, INTEGER),
        column("status", ADDRESS.c.status, enum_of(*ADDRESS_STATUSES)),
        column("role", ADDRESS.c.role, enum_of(*ADDRESS_ROLES)),
        column("dnsName", ADDRESS.c.dns_name),
        column("interfaceId", ADDRESS.c.interface_id),
        column("serviceId", ADDRESS.c.service_id),
        column("reservationId", ADDRESS.c.reservation_id),
        column("createdAt", ADDRESS.c.created_at, DATETIME),
    ),
    default_order=(ADDRESS.c.vrf_key, ADDRESS.c.family, ADDRESS.c.value_key),
    tiebreaker=ADDRESS.c.id,
    members=tmf.schema_members(SPEC, "IpAddress"),
)
POOL_QUERY = tmf.QuerySpec(
    attributes=(
        column("id", POOL.c.id),
        column("name", POOL.c.name),
        column("prefixId", POOL.c.prefix_id),
        column("createdAt", POOL.c.created_at, DATETIME),
    ),
    default_order=(POOL.c.name,),
    tiebreaker=POOL.c.id,
    members=tmf.schema_members(SPEC, "IpPool"),
)

VLAN_GROUP: Table = VlanGroupRow.__table__  # type: ignore[assignment]
VLAN: Table = VlanRow.__table__  # type: ignore[assignment]
VLAN_STATUSES = ("active", "reserved", "deprecated")
VLAN_GROUP_QUERY = tmf.QuerySpec(
    attributes=(
        column("id", VLAN_GROUP.c.id),
        column("name", VLAN_GROUP.c.name),
        column("createdAt", VLAN_GROUP.c.created_at, DATETIME),
    ),
    default_order=(VLAN_GROUP.c.name,),
    tiebreaker=VLAN_GROUP.c.id,
    members=tmf.schema_members(SPEC, "VlanGroup"),
)
VLAN_QUERY = tmf.QuerySpec(
    attributes=(
        column("id", VLAN.c.id),
        column("groupId", VLAN.c.group_id),
        column("vid", VLAN.c.vid, INTEGER),
        column("name", VLAN.c.name),
        column("status", VLAN.c.status, enum_of(*VLAN_STATUSES)),
        column("interfaceId", VLAN.c.interface_id),
        column("serviceId", VLAN.c.service_id),
        column("createdAt", VLAN.c.created_at, DATETIME),
    ),
    default_order=(VLAN.c.group_id, VLAN.c.vid),
    tiebreaker=VLAN.c.id,
    members=tmf.schema_members(SPEC, "Vlan"),
)

_LISTS = {
    "vrf": tmf.ListStatements(VRF, VRF_QUERY),
    "prefix": tmf.ListStatements(PREFIX, PREFIX_QUERY),
    "address": tmf.ListStatements(ADDRESS, ADDRESS_QUERY),
    "pool": tmf.ListStatements(POOL, POOL_QUERY),
    "vlanGroup": tmf.ListStatements(VLAN_GROUP, VLAN_GROUP_QUERY),
    "vlan": tmf.ListStatements(VLAN, VLAN_QUERY),
}


def list_page(session: Session, what: str, query: tmf.ListQuery) -> tuple[list[Row[Any]], int]:
    count, page, params = _LISTS[what].for_query(query)
    connection = session.connection()
    total = connection.scalar(count, params) or 0
    if query.limit == 0 or query.offset >= total:
        return [], total
    return list(connection.execute(page, params)), total


# ----------------------------------------------------------------------------------------- prefixes


def lock_prefix(session: Session, prefix_id: str) -> IpPrefixRow | None:
    """The prefix row, locked until the transaction ends (waits for a holder: never skips)."""
    return session.get(IpPrefixRow, prefix_id, with_for_update=True, populate_existing=True)


def smallest_containing(
    session: Session, vrf_key: str, block: Block, *, strictly: bool, exclude: str | None = None
) -> IpPrefixRow | None:
    """The deepest prefix of the VRF holding ``block`` (``strictly``: a shorter prefix length)."""
    statement = select(IpPrefixRow).where(
        IpPrefixRow.vrf_key == vrf_key,
        IpPrefixRow.family == block.family,
        IpPrefixRow.start_key <= key(block.start),
        IpPrefixRow.end_key >= key(block.end),
        (IpPrefixRow.length < block.length) if strictly else (IpPrefixRow.length <= block.length),
    )
    if exclude is not None:
        statement = statement.where(IpPrefixRow.id != exclude)
    statement = statement.order_by(IpPrefixRow.length.desc(), IpPrefixRow.depth.desc(), IpPrefixRow.created_at)
    return session.execute(statement.limit(1)).scalars().first()


def same_prefix(session: Session, vrf_key: str, block: Block) -> IpPrefixRow | None:
    return (
        session.execute(
            select(IpPrefixRow).where(
                IpPrefixRow.vrf_key == vrf_key,
                IpPrefixRow.family == block.family,
                IpPrefixRow.start_key == key(block.start),
                IpPrefixRow.length == block.length,
            )
        )
        .scalars()
        .first()
    )


def children_inside(session: Session, vrf_key: str, parent_id: str | None, block: Block) -> list[IpPrefixRow]:
    """The prefixes directly under ``parent_id`` (top level if None) that lie inside ``block``."""
    statement = select(IpPrefixRow).where(
        IpPrefixRow.vrf_key == vrf_key,
        IpPrefixRow.family == block.family,
        IpPrefixRow.start_key >= key(block.start),
        IpPrefixRow.end_key <= key(block.end),
        IpPrefixRow.length >= block.length,
    )
    statement = statement.where(
        IpPrefixRow.parent_id.is_(None) if parent_id is None else IpPrefixRow.parent_id == parent_id
    )
    return list(session.execute(statement).scalars())


def descendants(session: Session, prefix: IpPrefixRow) -> list[IpPrefixRow]:
    return list(
        session.execute(
            select(IpPrefixRow).where(
                IpPrefixRow.vrf_key == prefix.vrf_key,
                IpPrefixRow.family == prefix.family,
                IpPrefixRow.start_key >= prefix.start_key,
                IpPrefixRow.end_key <= prefix.end_key,
                IpPrefixRow.depth > prefix.depth,
                IpPrefixRow.id != prefix.id,
            )
        ).scalars()
    )


def child_count(session: Session, prefix_id: str) -> int:
    return int(session.scalar(select(func.count()).where(PREFIX.c.parent_id == prefix_id)) or 0)


def address_count(session: Session, prefix_id: str) -> int:
    return int(session.scalar(select(func.count()).where(ADDRESS.c.prefix_id == prefix_id)) or 0)


def pool_of_prefix(session: Session, prefix_id: str) -> IpPoolRow | None:
    return session.execute(select(IpPoolRow).where(IpPoolRow.prefix_id == prefix_id)).scalars().first()


# ------------------------------------------------------------------------------------- free space


def free_size(session: Session, prefix_id: str, bits: int) -> int:
    rows = session.execute(
        select(FREE.c.length, func.count()).where(FREE.c.prefix_id == prefix_id).group_by(FREE.c.length)
    )
    return sum(int(count) << (bits - int(length)) for length, count in rows)


def insert_blocks(session: Session, prefix_id: str, blocks: Iterable[Block]) -> None:
    rows = [
        {"prefix_id": prefix_id, "length": b.length, "start_key": key(b.start), "end_key": key(b.end)} for b in blocks
    ]
    if rows:
        session.execute(insert(FREE), rows)


def delete_block(session: Session, prefix_id: str, block: Block) -> None:
    session.execute(delete(FREE).where(FREE.c.prefix_id == prefix_id, FREE.c.start_key == key(block.start)))


def _block(row: Any, bits: int) -> Block:
    return Block(unkey(row.start_key), int(row.length), bits)


def candidates(session: Session, prefix_id: str, bits: int, length: int, lo: int, hi: int, policy: str) -> list[Block]:
    """At most three free blocks of length <= ``length`` meeting the window ``lo..hi`` (enough: only the two
    straddling the window's edges can fail to hold an aligned /``length``)."""
    statement = select(FREE.c.start_key, FREE.c.length).where(
        FREE.c.prefix_id == prefix_id,
        FREE.c.length <= length,
        FREE.c.end_key >= key(lo),
        FREE.c.start_key <= key(hi),
    )
    if policy == BEST_FIT:
        statement = statement.order_by(FREE.c.length.desc(), FREE.c.start_key)
    else:
        statement = statement.order_by(FREE.c.start_key)
    return [_block(row, bits) for row in session.execute(statement.limit(3))]


def free_blocks(
    session: Session, prefix_id: str, bits: int, *, start: int = 0, limit: int | None = None
) -> list[Block]:
    statement = (
        select(FREE.c.start_key, FREE.c.length)
        .where(FREE.c.prefix_id == prefix_id, FREE.c.end_key >= key(start))
        .order_by(FREE.c.start_key)
    )
    if limit is not None:
        statement = statement.limit(limit)
    return [_block(row, bits) for row in session.execute(statement)]


def free_in(session: Session, prefix_id: str, bits: int, first: int, last: int) -> int:
    """How many addresses of ``first..last`` are free in the prefix (the blocks meeting the range)."""
    total = 0
    rows = session.execute(
        select(FREE.c.start_key, FREE.c.length).where(
            FREE.c.prefix_id == prefix_id, FREE.c.end_key >= key(first), FREE.c.start_key <= key(last)
        )
    )
    for row in rows:
        block = _block(row, bits)
        total += max(0, min(block.end, last) - max(block.start, first) + 1)
    return total


def holder(session: Session, prefix_id: str, block: Block) -> Block | None:
    """The free block of the prefix that holds all of ``block``, if any."""
    row = session.execute(
        select(FREE.c.start_key, FREE.c.length, FREE.c.end_key)
        .where(FREE.c.prefix_id == prefix_id, FREE.c.start_key <= key(block.start))
        .order_by(FREE.c.start_key.desc())
        .limit(1)
    ).first()
    if row is None or unkey(row.end_key) < block.end:
        return None
    return _block(row, block.bits)


def is_free(session: Session, prefix_id: str, block: Block) -> bool:
    return (
        session.execute(
            select(FREE.c.id).where(
                FREE.c.prefix_id == prefix_id, FREE.c.start_key == key(block.start), FREE.c.length == block.length
            )
        ).first()
        is not None
    )


def blocks_inside(session: Session, prefix_id: str, block: Block) -> list[Block]:
    return [
        _block(row, block.bits)
        for row in session.execute(
            select(FREE.c.start_key, FREE.c.length).where(
                FREE.c.prefix_id == prefix_id,
                FREE.c.start_key >= key(block.start),
                FREE.c.end_key <= key(block.end),
            )
        )
    ]


def move_blocks_inside(session: Session, from_id: str, to_id: str, block: Block) -> None:
    session.execute(
        FREE.update()
        .where(FREE.c.prefix_id == from_id, FREE.c.start_key >= key(block.start), FREE.c.end_key <= key(block.end))
        .values(prefix_id=to_id)
    )


def addresses_inside(session: Session, prefix_id: str, block: Block) -> Sequence[IpAddressRow]:
    return list(
        session.execute(
            select(IpAddressRow).where(
                IpAddressRow.prefix_id == prefix_id,
                IpAddressRow.value_key >= key(block.start),
                IpAddressRow.value_key <= key(block.end),
            )
        ).scalars()
    )


def vrf_by_name(session: Session, name: str) -> VrfRow | None:
    return session.execute(select(VrfRow).where(VrfRow.name == name)).scalars().first()


# ------------------------------------------------------------------------------------------ VLANs


def free_vids(session: Session, group: VlanGroupRow, limit: int) -> list[int]:
    """The lowest ``limit`` VLAN ids of the group nobody uses: the gaps between used ids, read in order from
    the ``(group_id, vid)`` unique index (at most 4094 rows in a group, so no free-space table is needed)."""
    used = session.execute(select(VLAN.c.vid).where(VLAN.c.group_id == group.id).order_by(VLAN.c.vid)).scalars()
    found: list[int] = []
    candidate = group.min_vid
    for vid in used:
        while candidate < vid and len(found) < limit and candidate <= group.max_vid:
            found.append(candidate)
            candidate += 1
        candidate = max(candidate, vid + 1)
        if len(found) >= limit:
            return found
    while candidate <= group.max_vid and len(found) < limit:
        found.append(candidate)
        candidate += 1
    return found
