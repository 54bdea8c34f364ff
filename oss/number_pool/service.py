"""Number pool use cases: pools, blocks, holds, the lifecycle, search and aging.

One public ``uow`` function = one transaction. The functions taking a ``session`` (``hold_numbers``,
``commit_numbers``, ``release_numbers``, ``extend_holds``, ``check_numbers``) join the caller's transaction:
the reservation provider calls them inside the reservation's unit of work, so a hold and the
reservation that holds it commit or roll back together.

Every change of a number writes, in the same transaction: its row, a history row, its TMF639 resource
(``oss.resource_inventory.create_resource_in`` / ``patch_resource_in`` / ``bulk_create_resources``, owner
``number_pool``), a ``TelephoneNumberStateChangeEvent`` of the number inventory API, and its audit record.

Holding is two phases: *select* (lock the chunks it needs and choose the numbers; writes nothing) then
*carve* (shrink, split or delete the chunks and write the numbers). A request that cannot be satisfied
fails in the first phase, so it has changed nothing and never leaves a partial hold behind.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from common import bulk, clock, events, request_context
from common.events.outbox_bulk import publish_many
from common.orm import new_id
from common.tmf import ListQuery, Page, merge_patch, parse_list_query
from common.uow import UnitOfWork, retried_on_conflict
from oss import resource_inventory
from oss.number_pool import domain, mapping, repository
from oss.number_pool.domain import (
    AGING,
    ANY,
    ASSIGNED,
    AVAILABLE,
    GOLDEN,
    LEAST_RECENTLY_RELEASED,
    LOWEST_FIRST,
    RANDOM,
    RESERVED,
    TMF639_STATUS,
    Criteria,
    DigitMatcher,
    Interval,
    NumberShape,
)
from oss.number_pool.errors import (
    BlockNotFound,
    BlockOverlap,
    GoldenNumberRefused,
    InvalidCriteria,
    NumberNotAvailable,
    NumberNotFound,
    PoolExhausted,
    PoolNameTaken,
    PoolNotFound,
)
from oss.number_pool.models import (
    BLOCK_OVERLAP_CONSTRAINT,
    NumberBlockRow,
    NumberPoolRow,
    TelephoneNumberRow,
)
from oss.number_pool.repository import (
    BLOCK_QUERY,
    NUMBER_QUERY,
    POOL_QUERY,
    ChunkRow,
    Chunks,
    block_containing,
    blocks_of,
    interval_of,
    least_recently_released,
    number_by_digits,
    numbers_by_digits,
    numbers_by_ids,
    touched_available,
)

logger = logging.getLogger(__name__)

API = "numberInventory"
CONTEXT = "number_pool"
POOL_CREATE_EVENT = "NumberPoolCreateEvent"
POOL_CHANGE_EVENT = "NumberPoolAttributeValueChangeEvent"
BLOCK_CREATE_EVENT = "NumberBlockCreateEvent"
NUMBER_STATE_EVENT = "TelephoneNumberStateChangeEvent"
EVENT_TYPES = (POOL_CREATE_EVENT, POOL_CHANGE_EVENT, BLOCK_CREATE_EVENT, NUMBER_STATE_EVENT)
events.register_event_types(API, EVENT_TYPES)
events.register_event_schema(
    API,
    {
        "numberPool": POOL_QUERY.members,
        "numberBlock": BLOCK_QUERY.members,
        "telephoneNumber": NUMBER_QUERY.members,
    },
)

MAX_CHUNKS_PER_BLOCK = 64  # a 10M block: 64 chunks of 156,250 numbers, so 64 holds can proceed at once
MIN_CHUNK_SIZE = 100
DEFAULT_HOLD = timedelta(minutes=30)
MAX_QUANTITY = 10_000
BULK_THRESHOLD = 20  # from this many new numbers on, rows go through common.bulk's set-wise path
DEADLOCK_RETRIES = 3

T = TypeVar("T")


# ------------------------------------------------------------------------------------------- data


@dataclass(frozen=True)
class PoolData:
    id: str
    name: str
    description: str | None
    region: str | None
    number_type: str | None
    aging_days: int
    category_rules: tuple[domain.CategoryRule, ...]
    created_at: datetime
    updated_at: datetime
    capacity: int | None = None
    available: int | None = None
    counts: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class BlockData:
    id: str
    pool_id: str
    first: str
    last: str
    size: int
    country_code: int
    region: str | None
    number_type: str | None
    created_at: datetime
    available: int | None = None


@dataclass(frozen=True)
class NumberData:
    value: str
    state: str
    category: str
    pool_id: str
    block_id: str
    resource_id: str | None = None
    customer_id: str | None = None
    service_id: str | None = None
    product_id: str | None = None
    reservation_id: str | None = None
    reservation_item_id: str | None = None
    order_item_id: str | None = None
    hold_until: datetime | None = None
    aging_until: datetime | None = None
    released_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True)
class HistoryData:
    id: int
    value: str
    at: datetime
    from_state: str
    to_state: str
    actor: str | None
    reservation_id: str | None
    order_item_id: str | None
    reason: str | None


@dataclass(frozen=True)
class Holder:
    """Who a change is for: a reservation (and its item), an order item, a customer and service."""

    reservation_id: str | None = None
    reservation_item_id: str | None = None
    order_item_id: str | None = None
    customer_id: str | None = None
    service_id: str | None = None
    product_id: str | None = None
    reason: str | None = None
    actor: str | None = None


# ------------------------------------------------------------------------------------------ pools


def create_pool(uow: UnitOfWork, document: Mapping[str, Any]) -> PoolData:
    """Create a number pool (name, region, number type, aging days, category rules)."""
    rules = domain.parse_rules(document["categoryRule"]) if "categoryRule" in document else domain.DEFAULT_RULES
    now = clock.now()
    with uow as tx:
        if tx.session.query(NumberPoolRow.id).filter(NumberPoolRow.name == document["name"]).first():
            raise PoolNameTaken(f"A number pool named {document['name']!r} exists already.")
        row = NumberPoolRow(
            id=new_id(),
            name=document["name"],
            description=document.get("description"),
            region=document.get("region"),
            number_type=document.get("numberType"),
            aging_days=int(document.get("agingDays", 90)),
            category_rules=[rule.to_json() for rule in rules],
            created_at=now,
            updated_at=now,
        )
        tx.session.add(row)
        tx.session.flush()
        pool = _pool_data(row, capacity=0, available=0)
        _publish(tx.session, POOL_CREATE_EVENT, "numberPool", mapping.pool_json(pool))
        tx.commit()
    logger.info("created number pool %s (%s)", pool.id, pool.name)
    return pool


def patch_pool(uow: UnitOfWork, pool_id: str, patch: Mapping[str, Any]) -> PoolData:
    """Change a pool's name, description, aging days or category rules (merge-patch)."""
    with uow as tx:
        row = tx.session.get(NumberPoolRow, pool_id, with_for_update=True)
        if row is None:
            raise PoolNotFound(f"No number pool with id {pool_id!r}.")
        current = mapping.pool_json(_pool_data(row))
        merged = merge_patch(current, dict(patch))
        if "name" in patch and patch["name"] != row.name:
            taken = tx.session.query(NumberPoolRow.id).filter(NumberPoolRow.name == patch["name"]).first()
            if taken:
                raise PoolNameTaken(f"A number pool named {patch['name']!r} exists already.")
        rules = domain.parse_rules(merged.get("categoryRule") or [])
        row.name = merged["name"]
        row.description = merged.get("description")
        row.aging_days = int(merged.get("agingDays", row.aging_days))
        row.category_rules = [rule.to_json() for rule in rules]
        row.updated_at = clock.now()
        tx.session.flush()
        pool = _with_counts(tx.session, _pool_data(row))
        changed = [key for key in ("name", "description", "agingDays", "categoryRule") if key in patch]
        if changed:
            _publish(tx.session, POOL_CHANGE_EVENT, "numberPool", mapping.pool_json(pool), ",".join(changed))
        tx.commit()
    return pool


def retrieve_pool(uow: UnitOfWork, pool_id: str) -> PoolData:
    with uow as tx:
        row = tx.session.get(NumberPoolRow, pool_id)
        if row is None:
            raise PoolNotFound(f"No number pool with id {pool_id!r}.")
        return _with_counts(tx.session, _pool_data(row))


def parse_pool_query(query_string: str) -> ListQuery:
    return parse_list_query(query_string, POOL_QUERY)


def list_pools(uow: UnitOfWork, query: ListQuery) -> Page[PoolData]:
    with uow as tx:
        rows, total = repository.list_pools(tx.session, query)
        items = [_pool_data(row) for row in rows]
        return Page(items=items, total=total, offset=query.offset, limit=query.limit)


def _pool_data(row: Any, *, capacity: int | None = None, available: int | None = None) -> PoolData:
    return PoolData(
        id=row.id,
        name=row.name,
        description=row.description,
        region=row.region,
        number_type=row.number_type,
        aging_days=row.aging_days,
        category_rules=domain.parse_rules(row.category_rules or []),
        created_at=row.created_at,
        updated_at=row.updated_at,
        capacity=capacity,
        available=available,
    )


def _with_counts(session: Session, pool: PoolData) -> PoolData:
    capacity = sum(block.size for block in blocks_of(session, pool.id))
    free = repository.free_count(session, pool_id=pool.id)
    counts = repository.state_counts(session, pool.id)
    # A touched number that is available again is in a chunk and has a row: count it once.
    counts = {**counts, AVAILABLE: free}
    return replace(pool, capacity=capacity, available=free, counts=counts)


def _pool_row(session: Session, pool_id: str) -> NumberPoolRow:
    row = session.get(NumberPoolRow, pool_id)
    if row is None:
        raise PoolNotFound(f"No number pool with id {pool_id!r}.")
    return row


# ----------------------------------------------------------------------------------------- blocks


def create_block(uow: UnitOfWork, document: Mapping[str, Any]) -> BlockData:
    """Add a block ``first``..``last`` (E.164, inclusive) to a pool: one row, and its free space as a few
    chunk rows. 409 ``NUMBER_BLOCK_OVERLAP`` naming the clashing block, in this pool or any other, also when
    two creates race (PostgreSQL: the exclusion constraint decides)."""
    span = domain.block_span(document["first"], document["last"])
    with uow as tx:
        pool = _pool_row(tx.session, document["poolId"])
        _refuse_overlap(tx.session, span.first.digits, span.last.digits)
        whole = Interval(span.first.digits, span.last.digits)
        row = NumberBlockRow(
            id=new_id(),
            pool_id=pool.id,
            first_digits=whole.first,
            last_digits=whole.last,
            size=whole.size,
            country_code=span.first.country_code,
            digit_count=span.first.length,
            national_prefix=span.first.national_prefix,
            region=span.first.region,
            number_type=span.first.number_type,
            max_chunk_size=domain.max_chunk_size(whole.size, MAX_CHUNKS_PER_BLOCK, MIN_CHUNK_SIZE),
            created_at=clock.now(),
        )
        try:
            with tx.session.begin_nested():
                tx.session.add(row)
                tx.session.flush()
        except IntegrityError as error:
            raise _overlap_from(error, span) from None
        Chunks(tx.session).insert(pool.id, row.id, domain.chunk_bounds(whole, MAX_CHUNKS_PER_BLOCK, MIN_CHUNK_SIZE))
        block = replace(_block_data(row), available=whole.size)
        _publish(tx.session, BLOCK_CREATE_EVENT, "numberBlock", mapping.block_json(block))
        tx.commit()
    logger.info("created number block %s..%s (%d numbers) in pool %s", block.first, block.last, block.size, pool.id)
    return block


def _refuse_overlap(session: Session, first: int, last: int) -> None:
    clashes = repository.overlapping_blocks(session, first, last)
    if clashes:
        clash = clashes[0]
        raise BlockOverlap(
            f"{domain.format_e164(first)}..{domain.format_e164(last)} overlaps block {clash.id} "
            f"({domain.format_e164(clash.first_digits)}..{domain.format_e164(clash.last_digits)}) of pool "
            f"{clash.pool_id}.",
            details={"clashingBlock": clash.id, "clashingPool": clash.pool_id},
        )


def _overlap_from(error: IntegrityError, span: domain.BlockSpan) -> Exception:
    """The database refused the block (a concurrent create won the race): name what it clashes with."""
    text = str(error.orig)
    if BLOCK_OVERLAP_CONSTRAINT in text or "number_block" in text:
        return BlockOverlap(
            f"{span.first.text}..{span.last.text} overlaps a block created at the same time ({_clash_detail(text)}).",
        )
    return error


def _clash_detail(text: str) -> str:
    marker = "conflicts with existing key"
    if marker in text:
        return "existing key " + text.split(marker, 1)[1].strip().splitlines()[0]
    return "the database refused it"


def retrieve_block(uow: UnitOfWork, block_id: str) -> BlockData:
    with uow as tx:
        row = tx.session.get(NumberBlockRow, block_id)
        if row is None:
            raise BlockNotFound(f"No number block with id {block_id!r}.")
        return replace(_block_data(row), available=repository.free_count(tx.session, block_id=row.id))


def parse_block_query(query_string: str) -> ListQuery:
    return parse_list_query(query_string, BLOCK_QUERY)


def list_blocks(uow: UnitOfWork, query: ListQuery) -> Page[BlockData]:
    with uow as tx:
        rows, total = repository.list_blocks(tx.session, query)
        return Page(items=[_block_data(row) for row in rows], total=total, offset=query.offset, limit=query.limit)


def _block_data(row: Any) -> BlockData:
    return BlockData(
        id=row.id,
        pool_id=row.pool_id,
        first=domain.format_e164(row.first_digits),
        last=domain.format_e164(row.last_digits),
        size=row.size,
        country_code=row.country_code,
        region=row.region,
        number_type=row.number_type,
        created_at=row.created_at,
    )


def _shape(block: NumberBlockRow) -> NumberShape:
    return NumberShape(block.digit_count, len(str(block.country_code)), block.national_prefix)


# ---------------------------------------------------------------------------------------- numbers


def retrieve_number(uow: UnitOfWork, value: str) -> NumberData:
    """A number by its E.164 value: its row, or, never touched, ``available`` from its block."""
    digits = domain.parse_digits(value, what="id")
    with uow as tx:
        row = number_by_digits(tx.session, digits)
        if row is not None:
            return number_data(row)
        block = block_containing(tx.session, digits)
        if block is None:
            raise NumberNotFound(f"{domain.format_e164(digits)} is in no number block.")
        pool = _pool_row(tx.session, block.pool_id)
        return _untouched(block, pool, digits)


def _untouched(block: NumberBlockRow, pool: NumberPoolRow, digits: int) -> NumberData:
    category = domain.classify(digits, _shape(block), domain.parse_rules(pool.category_rules or []))
    return NumberData(
        value=domain.format_e164(digits), state=AVAILABLE, category=category, pool_id=block.pool_id, block_id=block.id
    )


def number_data(row: TelephoneNumberRow | Any) -> NumberData:
    return NumberData(
        value=row.value,
        state=row.state,
        category=row.category,
        pool_id=row.pool_id,
        block_id=row.block_id,
        resource_id=row.id,
        customer_id=row.customer_id,
        service_id=row.service_id,
        product_id=row.product_id,
        reservation_id=row.reservation_id,
        reservation_item_id=row.reservation_item_id,
        order_item_id=row.order_item_id,
        hold_until=row.hold_until,
        aging_until=row.aging_until,
        released_at=row.released_at,
        updated_at=row.updated_at,
    )


# The number list's own parameters, beside the TMF630 filters on its attributes.
SEARCH_PARAMETERS = ("pattern", "prefix")


def list_numbers(uow: UnitOfWork, query: ListQuery, *, pattern: str | None, prefix: str | None) -> Page[NumberData]:
    """Touched numbers (every state; TMF630 filters), optionally by pattern/prefix on their digits."""
    like = [mapping.like_of(domain.glob_part(pattern))] if pattern else []
    if prefix:
        like.append(mapping.like_of(domain.prefix_part(prefix)))
    with uow as tx:
        rows, total = repository.list_numbers(tx.session, query, like)
        return Page(items=[number_data(row) for row in rows], total=total, offset=query.offset, limit=query.limit)


def number_history(uow: UnitOfWork, value: str, query: ListQuery) -> Page[HistoryData]:
    digits = domain.parse_digits(value, what="id")
    with uow as tx:
        row = number_by_digits(tx.session, digits)
        if row is None:
            if block_containing(tx.session, digits) is None:
                raise NumberNotFound(f"{domain.format_e164(digits)} is in no number block.")
            return Page(items=[], total=0, offset=query.offset, limit=query.limit)
        rows, total = repository.list_history(tx.session, row.id, query)
        items = [
            HistoryData(
                id=r.id,
                value=r.value,
                at=r.at,
                from_state=r.from_state,
                to_state=r.to_state,
                actor=r.actor,
                reservation_id=r.reservation_id,
                order_item_id=r.order_item_id,
                reason=r.reason,
            )
            for r in rows
        ]
        return Page(items=items, total=total, offset=query.offset, limit=query.limit)


# ----------------------------------------------------------------------------------------- search


def search_available(
    uow: UnitOfWork,
    *,
    pool_id: str | None = None,
    category: str | None = None,
    pattern: str | None = None,
    prefix: str | None = None,
    offset: int = 0,
    limit: int = 10,
) -> Page[NumberData]:
    """Available numbers of a pool (or of every pool) matching a pattern, prefix and category, in ascending
    order: answered from the free chunks with the digit automata (counts and matches computed per chunk,
    never per number)."""
    criteria = Criteria(pattern=pattern, prefix=prefix, category=category, allow_golden=True)
    with uow as tx:
        pools = [_pool_row(tx.session, pool_id)] if pool_id is not None else _all_pools(tx.session)
        rules = {pool.id: domain.parse_rules(pool.category_rules or []) for pool in pools}
        blocks = {block.id: block for pool in pools for block in blocks_of(tx.session, pool.id)}
        matchers: dict[str, DigitMatcher | None] = {}
        found: list[NumberData] = []
        if pool_id is not None and category is None:  # one pool: the total without visiting every chunk
            parts = criteria.parts(rules[pool_id])
            known_total = _available_total(tx.session, pool_id, blocks, parts)
            if known_total is not None:
                return _first_matches(tx.session, pool_id, blocks, parts, rules[pool_id], offset, limit, known_total)
        total, skip = 0, offset
        chunks = Chunks(tx.session)
        rows = chunks.of_pool(pool_id) if pool_id is not None else chunks.all()
        for chunk in rows:
            block = blocks[chunk.block_id]
            if block.id not in matchers:
                matchers[block.id] = _shape(block).matcher(criteria.parts(rules[block.pool_id]))
            matcher, interval = matchers[block.id], interval_of(chunk)
            count = domain.count_in(matcher, interval)
            total += count
            if count == 0 or len(found) >= limit:
                continue
            if skip >= count:
                skip -= count
                continue
            start = interval.first if skip == 0 else _nth(matcher, interval, skip)
            skip = 0
            for digits in domain.matches_in(matcher, interval, limit - len(found), start=start):
                found.append(_available_number(digits, block, rules[block.pool_id]))
        return Page(items=found, total=total, offset=offset, limit=limit)


def _available_total(
    session: Session, pool_id: str, blocks: Mapping[str, NumberBlockRow], parts: Sequence[domain.Part]
) -> int | None:
    """How many available numbers match ``parts``, without visiting the chunks: the matches of the whole
    blocks (automata, per block) minus the matching numbers out of the free space (one SQL count with LIKE).
    Exact because the free chunks and the rows not ``available`` partition each block. None when a part is
    not expressible as LIKE (a negated part)."""
    if any(not part.want for part in parts):
        return None
    whole = sum(
        domain.count_in(_shape(block).matcher(parts), Interval(block.first_digits, block.last_digits))
        for block in blocks.values()
    )
    return whole - repository.count_taken_matching(session, pool_id, [mapping.like_of(part) for part in parts])


def _first_matches(
    session: Session,
    pool_id: str,
    blocks: Mapping[str, NumberBlockRow],
    parts: Sequence[domain.Part],
    rules: Sequence[domain.CategoryRule],
    offset: int,
    limit: int,
    total: int,
) -> Page[NumberData]:
    """The page of matches from ``offset``, reading chunks in ascending order only until it is full."""
    matchers = {block_id: _shape(block).matcher(parts) for block_id, block in blocks.items()}
    found: list[NumberData] = []
    skip = offset
    for chunk in Chunks(session).ascending(pool_id):
        if len(found) >= limit:
            break
        block, interval = blocks[chunk.block_id], interval_of(chunk)
        matcher = matchers[block.id]
        count = domain.count_in(matcher, interval)
        if skip >= count:
            skip -= count
            continue
        start = interval.first if skip == 0 else _nth(matcher, interval, skip)
        skip = 0
        for digits in domain.matches_in(matcher, interval, limit - len(found), start=start):
            found.append(_available_number(digits, block, rules))
    return Page(items=found, total=total, offset=offset, limit=limit)


def _all_pools(session: Session) -> list[NumberPoolRow]:
    return list(session.execute(select(NumberPoolRow).order_by(NumberPoolRow.name)).scalars())


def _nth(matcher: DigitMatcher | None, interval: Interval, index: int) -> int:
    """The ``index``-th (from 0) matching number of ``interval`` (binary search on the match count)."""
    if matcher is None:
        return interval.first + index
    below = matcher.count_upto(interval.first - 1)
    low, high = interval.first, interval.last
    while low < high:
        middle = (low + high) // 2
        if matcher.count_upto(middle) - below > index:
            high = middle
        else:
            low = middle + 1
    return low


def _available_number(digits: int, block: NumberBlockRow, rules: Sequence[domain.CategoryRule]) -> NumberData:
    return NumberData(
        value=domain.format_e164(digits),
        state=AVAILABLE,
        category=domain.classify(digits, _shape(block), rules),
        pool_id=block.pool_id,
        block_id=block.id,
    )


# ----------------------------------------------------------------------------------------- holding


@dataclass
class _Selection:
    """Numbers chosen under the chunk locks (phase one), grouped by the chunk that holds them."""

    by_chunk: dict[int, tuple[ChunkRow, list[Interval]]] = field(default_factory=dict)
    count: int = 0

    def add(self, chunk: ChunkRow, taken: Interval) -> None:
        self.by_chunk.setdefault(chunk.id, (chunk, []))[1].append(taken)
        self.count += taken.size

    def digits(self) -> list[int]:
        return sorted(
            d for _, parts in self.by_chunk.values() for part in parts for d in range(part.first, part.last + 1)
        )


class _PoolContext:
    def __init__(self, session: Session, pool: NumberPoolRow, criteria: Criteria) -> None:
        self.session = session
        self.pool = pool
        self.rules = domain.parse_rules(pool.category_rules or [])
        self.parts = criteria.parts(self.rules)
        self.blocks = {block.id: block for block in blocks_of(session, pool.id)}
        self._matchers: dict[str, DigitMatcher | None] = {}
        self._golden: dict[str, DigitMatcher | None] = {}

    def matcher(self, block_id: str) -> DigitMatcher | None:
        if block_id not in self._matchers:
            self._matchers[block_id] = _shape(self.blocks[block_id]).matcher(self.parts)
        return self._matchers[block_id]

    def golden(self, block_id: str) -> DigitMatcher | None:
        if block_id not in self._golden:
            self._golden[block_id] = _shape(self.blocks[block_id]).matcher(domain.category_parts(self.rules, GOLDEN))
        return self._golden[block_id]

    def category(self, digits: int, block_id: str) -> str:
        return domain.classify(digits, _shape(self.blocks[block_id]), self.rules)


def check_numbers(session: Session, pool_id: str, criteria: Criteria, *, sample_size: int = 5) -> tuple[int, list[str]]:
    """How many numbers of the pool match ``criteria`` now (without holding) and the first few."""
    _validate(criteria)
    context = _PoolContext(session, _pool_row(session, pool_id), criteria)
    if criteria.number:
        number = domain.parse_e164(criteria.number)
        chunk = next((c for c in Chunks(session).of_pool(pool_id) if interval_of(c).contains(number.digits)), None)
        return (1, [number.text]) if chunk is not None else (0, [])
    total, sample = 0, list[str]()
    runs = 0
    for chunk in Chunks(session).of_pool(pool_id):
        matcher, interval = context.matcher(chunk.block_id), interval_of(chunk)
        total += domain.count_in(matcher, interval)
        if len(sample) < sample_size:
            sample.extend(
                domain.format_e164(d) for d in domain.matches_in(matcher, interval, sample_size - len(sample))
            )
        runs = max(runs, interval.size)
    if criteria.contiguous:
        run = _find_contiguous(context, [c for c in Chunks(session).of_pool(pool_id)], criteria)
        return (criteria.quantity if run is not None else 0), ([domain.format_e164(run.first)] if run else [])
    return total, sample


def hold_numbers(
    session: Session,
    pool_id: str,
    criteria: Criteria,
    holder: Holder,
    until: datetime,
    *,
    choose: Callable[[int], int] | None = None,
) -> list[NumberData]:
    """Hold ``criteria.quantity`` numbers of the pool until ``until`` in the caller's transaction, or raise
    (409 ``POOL_EXHAUSTED``, ``NUMBER_NOT_AVAILABLE``, ``GOLDEN_NUMBER_NEEDS_FLAG``) having held none."""
    _validate(criteria)
    pool = _pool_row(session, pool_id)
    context = _PoolContext(session, pool, criteria)
    chunks = Chunks(session)
    if criteria.number:
        selection = _select_specific(context, chunks, criteria)
    elif criteria.contiguous:
        selection = _select_contiguous(context, chunks, criteria)
    elif criteria.policy == LOWEST_FIRST:
        selection = _select_scanning(context, chunks, criteria, _Selection(), set())
    elif criteria.policy == LEAST_RECENTLY_RELEASED:
        selection = _select_least_recently_released(context, chunks, criteria)
    else:
        selection = _select_any(context, chunks, criteria, choose if criteria.policy == RANDOM else None)
    if selection.count < criteria.quantity:
        raise _exhausted(context, criteria, selection)
    _carve(chunks, selection)
    fields = {
        "hold_until": until,
        "reservation_id": holder.reservation_id,
        "reservation_item_id": holder.reservation_item_id,
        "order_item_id": holder.order_item_id,
    }
    return _enter(context, selection.digits(), RESERVED, fields, holder)


def _validate(criteria: Criteria) -> None:
    if not 1 <= criteria.quantity <= MAX_QUANTITY:
        raise InvalidCriteria(f"quantity must be from 1 to {MAX_QUANTITY}, not {criteria.quantity}.")
    if criteria.policy not in domain.POLICIES:
        raise InvalidCriteria(f"policy must be one of {', '.join(domain.POLICIES)}, not {criteria.policy!r}.")
    if criteria.category is not None and criteria.category not in domain.CATEGORIES:
        raise InvalidCriteria(f"category must be one of {', '.join(domain.CATEGORIES)}, not {criteria.category!r}.")
    if criteria.category == GOLDEN and not criteria.allow_golden:
        raise GoldenNumberRefused("Golden numbers are held only with allowGolden: true.")
    if criteria.number and criteria.quantity != 1:
        raise InvalidCriteria("A specific number is one number: leave quantity at 1.")


def _exhausted(context: _PoolContext, criteria: Criteria, selection: _Selection) -> PoolExhausted:
    available, _ = check_numbers(context.session, context.pool.id, replace(criteria, number=None))
    return PoolExhausted(
        f"Pool {context.pool.name!r} has {available} number(s) matching the request, {criteria.quantity} asked.",
        details={"available": available, "requested": criteria.quantity},
    )


def _select_specific(context: _PoolContext, chunks: Chunks, criteria: Criteria) -> _Selection:
    digits = domain.parse_digits(str(criteria.number))
    text = domain.format_e164(digits)
    chunk = chunks.lock_containing(digits)
    if chunk is None or chunk.block_id not in context.blocks:
        row = number_by_digits(context.session, digits)
        if row is not None and row.pool_id == context.pool.id:
            raise NumberNotAvailable(f"{text} is {row.state}.", details={"currentState": row.state})
        block = block_containing(context.session, digits)
        if block is None or block.pool_id != context.pool.id:
            raise NumberNotFound(f"{text} is not in pool {context.pool.name!r}.")
        raise NumberNotAvailable(f"{text} is not available.")
    if not criteria.allow_golden and context.category(digits, chunk.block_id) == GOLDEN:
        raise GoldenNumberRefused(f"{text} is a golden number: hold it with allowGolden: true.")
    selection = _Selection()
    selection.add(chunk, Interval(digits, digits))
    return selection


def _select_any(
    context: _PoolContext, chunks: Chunks, criteria: Criteria, choose: Callable[[int], int] | None
) -> _Selection:
    """Chunks nobody holds (SKIP LOCKED), in id order or, for ``random``, in a random order; then, if those
    did not have enough, the locked ones too, waiting for them (near exhaustion)."""
    selection, seen = _Selection(), set()
    if choose is None:
        after = 0
        while selection.count < criteria.quantity:
            chunk = chunks.claim_next_unlocked(context.pool.id, after)
            if chunk is None:
                break
            after = chunk.id
            seen.add(chunk.id)
            _take_from(context, chunk, criteria.quantity - selection.count, selection)
    else:
        for chunk_id in domain.shuffled_order(chunks.ids(context.pool.id), choose):
            if selection.count >= criteria.quantity:
                break
            chunk = chunks.claim_unlocked(chunk_id)
            if chunk is None:
                continue
            seen.add(chunk.id)
            _take_random(context, chunk, criteria.quantity - selection.count, selection, choose)
    if selection.count < criteria.quantity:
        _select_scanning(context, chunks, criteria, selection, seen)
    return selection


def _take_from(context: _PoolContext, chunk: ChunkRow, wanted: int, selection: _Selection) -> None:
    matcher, interval = context.matcher(chunk.block_id), interval_of(chunk)
    if matcher is None:
        take = min(wanted, interval.size)
        selection.add(chunk, Interval(interval.first, interval.first + take - 1))
        return
    for digits in domain.matches_in(matcher, interval, wanted):
        selection.add(chunk, Interval(digits, digits))


def _take_random(
    context: _PoolContext, chunk: ChunkRow, wanted: int, selection: _Selection, choose: Callable[[int], int]
) -> None:
    matcher, interval = context.matcher(chunk.block_id), interval_of(chunk)
    count = domain.count_in(matcher, interval)
    picked: set[int] = set()
    while len(picked) < min(wanted, count):
        picked.add(_nth(matcher, interval, choose(count)))
    for digits in sorted(picked):
        selection.add(chunk, Interval(digits, digits))


def _select_scanning(
    context: _PoolContext, chunks: Chunks, criteria: Criteria, selection: _Selection, seen: set[int]
) -> _Selection:
    """Lowest first: wait for each chunk in ascending order (one global lock order). A chunk that changed
    while we waited may have left its remainder in a row this scan's snapshot did not have: scan again
    (a fresh snapshot) before concluding there is not enough."""
    for _ in range(DEADLOCK_RETRIES):
        changed = False
        for chunk_id in chunks.ids(context.pool.id):
            if selection.count >= criteria.quantity:
                return selection
            if chunk_id in seen:
                continue
            chunk = chunks.lock_chunk(chunk_id)
            if chunk is None:
                changed = True
                continue
            seen.add(chunk_id)
            _take_from(context, chunk, criteria.quantity - selection.count, selection)
        if not changed or selection.count >= criteria.quantity:
            break
    return selection


def _select_least_recently_released(context: _PoolContext, chunks: Chunks, criteria: Criteria) -> _Selection:
    """Numbers never handed out first, then those released longest ago: aged numbers rest longest."""
    selection = _Selection()
    for chunk_id in chunks.ids(context.pool.id):
        if selection.count >= criteria.quantity:
            return selection
        chunk = chunks.lock_chunk(chunk_id)
        if chunk is None:
            continue
        matcher, interval = context.matcher(chunk.block_id), interval_of(chunk)
        used = touched_available(context.session, interval)
        wanted = criteria.quantity - selection.count
        for digits in domain.matches_in(matcher, interval, wanted + len(used)):
            if digits not in used and wanted > 0:
                selection.add(chunk, Interval(digits, digits))
                wanted -= 1
    missing = criteria.quantity - selection.count
    for digits in least_recently_released(context.session, context.pool.id, missing * 4 + 10):
        if selection.count >= criteria.quantity:
            break
        chunk = chunks.lock_containing(digits)
        if chunk is None or (
            chunk.id in selection.by_chunk and any(part.contains(digits) for part in selection.by_chunk[chunk.id][1])
        ):
            continue
        matcher = context.matcher(chunk.block_id)
        if matcher is None or matcher.matches(digits):
            selection.add(chunk, Interval(digits, digits))
    return selection


def _select_contiguous(context: _PoolContext, chunks: Chunks, criteria: Criteria) -> _Selection:
    """A run of ``quantity`` consecutive free numbers (a DID range) starting at a number that matches the
    pattern; without ``allowGolden`` the run has no golden number. Chunks are locked in ascending order."""
    for _ in range(DEADLOCK_RETRIES):
        locked: list[ChunkRow] = []
        changed = False
        for chunk_id in chunks.ids(context.pool.id):
            chunk = chunks.lock_chunk(chunk_id)
            if chunk is None:
                changed = True
                continue
            locked.append(chunk)
            run = _find_contiguous(context, locked, criteria)
            if run is not None:
                selection = _Selection()
                for row in locked:
                    part = domain.covering([interval_of(row)], run)
                    if part:
                        selection.add(row, part[0])
                return selection
        if not changed:
            break
    return _Selection()


def _find_contiguous(context: _PoolContext, rows: Sequence[ChunkRow], criteria: Criteria) -> Interval | None:
    """The lowest fitting run over ``rows`` (sorted by first number; adjacent ones of a block join)."""
    ordered = sorted(rows, key=lambda row: row.first_digits)
    start_index = 0
    for index in range(len(ordered)):
        if index > 0 and (
            ordered[index].first_digits != ordered[index - 1].last_digits + 1
            or ordered[index].block_id != ordered[index - 1].block_id
        ):
            start_index = index
        run = Interval(ordered[start_index].first_digits, ordered[index].last_digits)
        found = _run_in(context, ordered[index].block_id, run, criteria)
        if found is not None:
            return found
    return None


def _run_in(context: _PoolContext, block_id: str, run: Interval, criteria: Criteria) -> Interval | None:
    length = criteria.quantity
    plain = replace(criteria, allow_golden=True)
    starts = _shape(context.blocks[block_id]).matcher(plain.parts(context.rules))
    golden = None if criteria.allow_golden else context.golden(block_id)
    candidate = run.first if starts is None else starts.next_match(run.first)
    while candidate is not None and candidate + length - 1 <= run.last:
        window = Interval(candidate, candidate + length - 1)
        hit = golden.next_match(window.first) if golden is not None else None
        if hit is None or hit > window.last:
            return window
        following = hit + 1
        candidate = following if starts is None else starts.next_match(following)
    return None


def _carve(chunks: Chunks, selection: _Selection) -> None:
    """Phase two: take the selected numbers out of their chunks (shrink, split, delete)."""
    for chunk, parts in selection.by_chunk.values():
        remaining = [interval_of(chunk)]
        for taken in sorted(parts):
            index = next(i for i, part in enumerate(remaining) if part.contains(taken.first))
            left, right = domain.split(remaining[index], taken)
            remaining[index : index + 1] = [part for part in (left, right) if part is not None]
        if not remaining:
            chunks.delete(chunk.id)
            continue
        chunks.set_bounds(chunk.id, remaining[0])
        chunks.insert(chunk.pool_id, chunk.block_id, remaining[1:])


def _give_back(session: Session, rows: Sequence[TelephoneNumberRow]) -> None:
    """Numbers become free space again, merged into adjacent chunks (ascending: the lock order)."""
    chunks = Chunks(session)
    blocks: dict[str, NumberBlockRow] = {}
    for row in sorted(rows, key=lambda r: r.digits):
        block = blocks.get(row.block_id) or session.get(NumberBlockRow, row.block_id)
        assert block is not None
        blocks[block.id] = block
        freed = Interval(row.digits, row.digits)
        left, right = chunks.lock_adjacent(block.id, freed)
        plan = domain.merge_into(
            freed,
            interval_of(left) if left is not None else None,
            interval_of(right) if right is not None else None,
            block.max_chunk_size,
        )
        if plan.new:
            chunks.insert(block.pool_id, block.id, [plan.result])
            continue
        grown = left if left is not None and plan.extend == interval_of(left) else right
        assert grown is not None
        if plan.absorb is not None and right is not None:
            chunks.delete(right.id)
        chunks.set_bounds(grown.id, plan.result)


# ---------------------------------------------------------------------------------- transitions


def _enter(
    context: _PoolContext, digits: Sequence[int], target: str, fields: Mapping[str, Any], holder: Holder
) -> list[NumberData]:
    """Numbers just taken out of the free space enter ``target``: existing rows (touched before, available
    again) change, the others are created (set-wise from ``BULK_THRESHOLD`` on)."""
    session = context.session
    existing = {row.digits: row for row in numbers_by_digits(session, digits, lock=True)}
    for row in existing.values():
        domain.check_transition(row.value, row.state, target)
    changed = _transition(session, list(existing.values()), target, fields, holder, context.pool)
    fresh = [d for d in digits if d not in existing]
    created = _create_numbers(context, fresh, target, fields, holder)
    by_value = {n.value: n for n in [*changed, *created]}
    return [by_value[domain.format_e164(d)] for d in digits]


def _create_numbers(
    context: _PoolContext, digits: Sequence[int], target: str, fields: Mapping[str, Any], holder: Holder
) -> list[NumberData]:
    if not digits:
        return []
    session, now = context.session, clock.now()
    actor = holder.actor or request_context.current().actor
    rows = []
    for number in digits:
        block_id = _block_of(context, number)
        shape = _shape(context.blocks[block_id])
        rows.append(
            {
                "id": new_id(),
                "digits": number,
                "value": domain.format_e164(number),
                "national": domain.national_digits(number, shape),
                "pool_id": context.pool.id,
                "block_id": block_id,
                "state": target,
                "category": domain.classify(number, shape, context.rules),
                "customer_id": holder.customer_id,
                "service_id": holder.service_id,
                "product_id": holder.product_id,
                "was_assigned": target == ASSIGNED,
                "created_at": now,
                "updated_at": now,
                **fields,
            }
        )
    if len(rows) >= BULK_THRESHOLD:
        bulk.bulk_insert(
            session,
            TelephoneNumberRow,
            rows,
            tmf639=lambda s, written: resource_inventory.bulk_create_resources(
                s,
                [mapping.resource_document(_as_data(row)) for row in written],
                acting_context=CONTEXT,
                resource_ids=[row["id"] for row in written],
            ),
        )
    else:
        for values in rows:
            session.add(TelephoneNumberRow(**values))
        session.flush()
        for values in rows:
            resource_inventory.create_resource_in(
                session, mapping.resource_document(_as_data(values)), acting_context=CONTEXT, resource_id=values["id"]
            )
    created = [_as_data(values) for values in rows]
    _write_history(session, [(values["id"], values["value"], AVAILABLE, target) for values in rows], holder, actor, now)
    publish_many(
        session,
        api=API,
        event_type=NUMBER_STATE_EVENT,
        resources=[mapping.number_json(number) for number in created],
        payload_key="telephoneNumber",
    )
    return created


def _as_data(values: Mapping[str, Any]) -> NumberData:
    return NumberData(
        value=values["value"],
        state=values["state"],
        category=values["category"],
        pool_id=values["pool_id"],
        block_id=values["block_id"],
        resource_id=values["id"],
        customer_id=values.get("customer_id"),
        service_id=values.get("service_id"),
        product_id=values.get("product_id"),
        reservation_id=values.get("reservation_id"),
        reservation_item_id=values.get("reservation_item_id"),
        order_item_id=values.get("order_item_id"),
        hold_until=values.get("hold_until"),
        aging_until=values.get("aging_until"),
        released_at=values.get("released_at"),
        updated_at=values.get("updated_at"),
    )


def _block_of(context: _PoolContext, digits: int) -> str:
    for block in context.blocks.values():
        if block.first_digits <= digits <= block.last_digits:
            return block.id
    raise NumberNotFound(f"{domain.format_e164(digits)} is in no block of pool {context.pool.name!r}.")


def _transition(
    session: Session,
    rows: Sequence[TelephoneNumberRow],
    target: str,
    fields: Mapping[str, Any],
    holder: Holder,
    pool: NumberPoolRow | None = None,
) -> list[NumberData]:
    """Move locked, checked rows to ``target`` with everything that goes with it (history, TMF639, event,
    free space when the number becomes available again)."""
    if not rows:
        return []
    now = clock.now()
    actor = holder.actor or request_context.current().actor
    history = []
    for row in rows:
        previous = row.state
        _apply_state(session, row, target, fields, holder, now, pool)
        history.append((row.id, row.value, previous, target))
    session.flush()
    if target == AVAILABLE:
        _give_back(session, rows)
    changed = [number_data(row) for row in rows]
    for number in changed:
        resource_inventory.patch_resource_in(
            session, str(number.resource_id), mapping.resource_patch(number), acting_context=CONTEXT
        )
    _write_history(session, history, holder, actor, now)
    publish_many(
        session,
        api=API,
        event_type=NUMBER_STATE_EVENT,
        resources=[mapping.number_json(number) for number in changed],
        payload_key="telephoneNumber",
    )
    return changed


def _apply_state(
    session: Session,
    row: TelephoneNumberRow,
    target: str,
    fields: Mapping[str, Any],
    holder: Holder,
    now: datetime,
    pool: NumberPoolRow | None,
) -> None:
    previous = row.state
    row.state = target
    row.updated_at = now
    for key, value in fields.items():
        setattr(row, key, value)
    if target == RESERVED:
        return
    row.hold_until = None
    if target == ASSIGNED:
        row.was_assigned = True
        row.aging_until = None
        row.customer_id = holder.customer_id or row.customer_id
        row.service_id = holder.service_id or row.service_id
        row.product_id = holder.product_id or row.product_id
        row.order_item_id = holder.order_item_id or row.order_item_id
    elif target == AGING:
        pool = pool if pool is not None and pool.id == row.pool_id else session.get(NumberPoolRow, row.pool_id)
        row.aging_until = now + timedelta(days=pool.aging_days if pool is not None else 0)
        row.released_at = now
        row.reservation_id = row.reservation_item_id = None
    elif target == AVAILABLE:
        if previous in (AGING, ASSIGNED):
            row.released_at = now
        row.aging_until = None
        row.was_assigned = False
        row.customer_id = row.service_id = row.product_id = row.order_item_id = None
        row.reservation_id = row.reservation_item_id = None
    else:  # blocked, portedIn, portedOut
        row.reservation_id = row.reservation_item_id = None


def _write_history(
    session: Session,
    changes: Iterable[tuple[str, str, str, str]],
    holder: Holder,
    actor: str | None,
    now: datetime,
) -> None:
    rows = [
        {
            "number_id": number_id,
            "value": value,
            "at": now,
            "from_state": previous,
            "to_state": target,
            "actor": actor,
            "reservation_id": holder.reservation_id,
            "order_item_id": holder.order_item_id,
            "reason": (holder.reason or "")[:255] or None,
        }
        for number_id, value, previous, target in changes
    ]
    if rows:
        session.connection().execute(insert(repository.HISTORY), rows)


def change_state(
    uow: UnitOfWork,
    value: str,
    target: str,
    holder: Holder,
    *,
    hold_until: datetime | None = None,
    allow_golden: bool = False,
) -> NumberData:
    """Move one number to ``target`` (the PATCH of the number API): 409 ``INVALID_NUMBER_TRANSITION``
    naming the current state when the lifecycle has no such step."""
    return change_states(uow, [value], target, holder, hold_until=hold_until, allow_golden=allow_golden)[0]


def change_states(
    uow: UnitOfWork,
    values: Sequence[str],
    target: str,
    holder: Holder,
    *,
    hold_until: datetime | None = None,
    allow_golden: bool = False,
) -> list[NumberData]:
    """Move several numbers to ``target`` in one transaction, all or nothing (the state-change task)."""
    numbers = sorted({domain.parse_digits(value, what="number") for value in values})
    if target not in domain.STATES:
        raise InvalidCriteria(f"state must be one of {', '.join(domain.STATES)}, not {target!r}.")

    def attempt() -> list[NumberData]:
        with uow as tx:
            changed = [_change_one(tx.session, digits, target, holder, hold_until, allow_golden) for digits in numbers]
            tx.commit()
        return changed

    return _retrying_deadlocks(attempt)


def new_task_id() -> str:
    return new_id()


def _change_one(
    session: Session,
    digits: int,
    target: str,
    holder: Holder,
    hold_until: datetime | None,
    allow_golden: bool,
) -> NumberData:
    text = domain.format_e164(digits)
    row = number_by_digits(session, digits, lock=True)
    fields: dict[str, Any] = {"hold_until": hold_until or clock.now() + DEFAULT_HOLD} if target == RESERVED else {}
    if row is not None and row.state != AVAILABLE:
        domain.check_transition(text, row.state, target)
        if row.state == RESERVED and row.reservation_id and row.reservation_id != holder.reservation_id:
            raise NumberNotAvailable(
                f"{text} is held by reservation {row.reservation_id}: commit or release it through TMF685.",
                details={"currentState": row.state, "reservationId": row.reservation_id},
            )
        if row.state == AGING and target == ASSIGNED and row.customer_id not in (None, holder.customer_id):
            raise NumberNotAvailable(
                f"{text} is aging after customer {row.customer_id}: only that customer can take it back.",
                details={"currentState": row.state},
            )
        return _transition(session, [row], target, fields, holder, _pool_row(session, row.pool_id))[0]
    block = block_containing(session, digits)
    if block is None:
        raise NumberNotFound(f"{text} is in no number block.")
    pool = _pool_row(session, block.pool_id)
    if target == AVAILABLE:
        return number_data(row) if row is not None else _untouched(block, pool, digits)
    domain.check_transition(text, AVAILABLE, target)
    criteria = Criteria(number=text, allow_golden=allow_golden or target not in (RESERVED, ASSIGNED))
    context = _PoolContext(session, pool, criteria)
    chunks = Chunks(session)
    selection = _select_specific(context, chunks, criteria)
    _carve(chunks, selection)
    return _enter(context, selection.digits(), target, fields, holder)[0]


def _retrying_deadlocks(attempt: Callable[[], T]) -> T:
    """Run a use case again when PostgreSQL broke a deadlock by aborting it (``common.uow``)."""
    return retried_on_conflict(attempt)


# ------------------------------------------------------------------------------ held numbers


def held_rows(session: Session, resource_ids: Sequence[str]) -> list[TelephoneNumberRow]:
    return numbers_by_ids(session, resource_ids)


def commit_numbers(session: Session, resource_ids: Sequence[str], holder: Holder) -> list[NumberData]:
    """Reserved numbers become assigned (in service) to what ``holder`` names."""
    rows = held_rows(session, resource_ids)
    for row in rows:
        domain.check_transition(row.value, row.state, ASSIGNED)
    return _transition(session, rows, ASSIGNED, {}, holder)


def release_numbers(session: Session, resource_ids: Sequence[str], holder: Holder) -> list[NumberData]:
    """Let go of held or assigned numbers: a hold goes back to available (to aging if the number had been
    assigned before it was held), an assigned number goes to aging."""
    rows = held_rows(session, resource_ids)
    released: list[NumberData] = []
    to_available = [row for row in rows if row.state == RESERVED and not row.was_assigned]
    to_aging = [row for row in rows if row.state == ASSIGNED or (row.state == RESERVED and row.was_assigned)]
    for row in rows:
        if row not in to_available and row not in to_aging:
            domain.check_transition(row.value, row.state, AVAILABLE)
    released += _transition(session, to_available, AVAILABLE, {}, holder)
    released += _transition(session, to_aging, AGING, {}, holder)
    return released


def extend_holds(session: Session, resource_ids: Sequence[str], until: datetime) -> None:
    for row in held_rows(session, resource_ids):
        if row.state != RESERVED:
            raise NumberNotAvailable(f"{row.value} is {row.state}, not held.", details={"currentState": row.state})
        row.hold_until = until
        row.updated_at = clock.now()
    session.flush()


# --------------------------------------------------------------------------------------- sweepers


def return_aged_numbers(uow_factory: Callable[[], UnitOfWork], now: datetime, *, batch_size: int = 500) -> int:
    """Numbers whose aging (quarantine) has ended become available again; one transaction per batch,
    rows another process is returning are skipped (SKIP LOCKED). Returns how many came back."""
    returned = 0
    while True:
        with uow_factory() as tx:
            rows = repository.due_aging(tx.session, now, batch_size)
            if not rows:
                return returned
            _transition(tx.session, rows, AVAILABLE, {}, Holder(reason="aging ended", actor="system"))
            tx.commit()
        returned += len(rows)
        if len(rows) < batch_size:
            return returned


def expire_holds(uow_factory: Callable[[], UnitOfWork], now: datetime, *, batch_size: int = 500) -> int:
    """Holds made through the number API itself (no reservation) that have run out go back to where they
    came from. Holds of a reservation are the reservation context's to expire (it calls the provider)."""
    expired = 0
    while True:
        with uow_factory() as tx:
            rows = repository.due_holds(tx.session, now, batch_size)
            if not rows:
                return expired
            release_numbers(tx.session, [row.id for row in rows], Holder(reason="hold expired", actor="system"))
            tx.commit()
        expired += len(rows)
        if len(rows) < batch_size:
            return expired


def _publish(
    session: Session, event_type: str, key: str, entity: dict[str, Any], field_path: str | None = None
) -> None:
    events.publish(session, api=API, event_type=event_type, resource=entity, payload_key=key, field_path=field_path)


__all__ = [
    "ANY",
    "TMF639_STATUS",
    "BlockData",
    "HistoryData",
    "Holder",
    "NumberData",
    "PoolData",
    "change_state",
    "change_states",
    "check_numbers",
    "commit_numbers",
    "create_block",
    "create_pool",
    "expire_holds",
    "extend_holds",
    "hold_numbers",
    "list_blocks",
    "list_numbers",
    "list_pools",
    "number_history",
    "patch_pool",
    "release_numbers",
    "retrieve_block",
    "retrieve_number",
    "retrieve_pool",
    "return_aged_numbers",
    "search_available",
]
