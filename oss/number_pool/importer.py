"""Importing a carrier's numbers from a CSV file (``provisio numbers import FILE.csv``): blocks, existing
assignments, blocked numbers, numbers ported in and out.

The file (README "Number pool: import" has the format and ``docs/examples/numbers-import.csv`` an example)::

    type,pool,first,last,customerId,serviceId,productId,operator,date
    block,London 020,+442079460000,+442079469999,,,,,
    assigned,London 020,+442079460100,,cust-1,svc-1,,,
    assigned,London 020,+442079460200,+442079460209,cust-2,pbx-2,,,      <- a DID range, one line
    portedIn,London 020,+442079470001,,cust-3,svc-3,,Donor Telecom,2026-11-01
    portedOut,London 020,+442079460300,,,,,Recipient Mobile,2026-10-15
    blocked,London 020,+442079460999,,,,,,

Rules:

- every line is checked on its own: a bad line is reported with its line number and reason and is not
  written, whatever else is in the file; the others are written (a line is the unit: a range line with one
  number that cannot be imported is rejected whole);
- a re-run of the same file changes nothing: a block that exists with the same bounds in the same pool,
  a number already in the state (and with the customer and service) the file gives, are counted
  ``unchanged``; a number in another state is a line error, never overwritten;
- blocks are written first (each in its own transaction through ``service.create_block``, so an
  overlap is the same 409 rule as the API's), then the numbers in batches of ``batch_size`` lines, one
  transaction per batch, set-wise: one multi-row INSERT per table through ``common.bulk.bulk_insert``
  with ``oss.resource_inventory.bulk_create_resources`` for the TMF639 rows, so every imported number has
  its audit record, TMF639 resource, history and ``TelephoneNumberStateChangeEvent`` exactly as a number
  moved by the API has (``tests/integration/number_pool/test_import.py`` compares them record for record);
- a pool named by a ``block`` or ``portedIn`` line is created when missing (defaults of the API); a
  ported-in number that is in none of our blocks gets a block of its own in its pool, as a port-in does.

A batch the database refuses (a race with a concurrent writer) is retried line by line, so one bad line
never takes the rest of its batch with it.
"""

from __future__ import annotations

import bisect
import csv
import logging
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Row, Table, insert, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from common import bulk, clock, request_context
from common.errors import ProvisioError
from common.events.outbox_bulk import publish_many
from common.orm import new_id
from common.uow import UnitOfWork
from oss import resource_inventory
from oss.number_pool import domain, mapping, service
from oss.number_pool.domain import ASSIGNED, AVAILABLE, BLOCKED, PORTED_IN, PORTED_OUT, Interval, NumberShape
from oss.number_pool.models import NumberBlockRow, NumberChunkRow, NumberHistoryRow, NumberPoolRow, TelephoneNumberRow
from oss.number_pool.porting import add_blocks_for
from oss.number_pool.repository import Chunks
from oss.number_pool.service import API, CONTEXT, NUMBER_STATE_EVENT, _as_data

logger = logging.getLogger(__name__)

COLUMNS = ("type", "pool", "first", "last", "customerId", "serviceId", "productId", "operator", "date")
REQUIRED_COLUMNS = ("type", "pool", "first")
BLOCK = "block"
NUMBER_KINDS = (ASSIGNED, BLOCKED, PORTED_IN, PORTED_OUT)
KINDS = (BLOCK, *NUMBER_KINDS)
MAX_RANGE = 10_000  # numbers on one assignment line (a DID range); blocks have no such limit
DEFAULT_BATCH_SIZE = 1_000
NUMBER: Table = TelephoneNumberRow.__table__  # type: ignore[assignment]
CHUNK: Table = NumberChunkRow.__table__  # type: ignore[assignment]
HISTORY: Table = NumberHistoryRow.__table__  # type: ignore[assignment]
BLOCK_TABLE: Table = NumberBlockRow.__table__  # type: ignore[assignment]


class ImportFileError(Exception):
    """The file as a whole cannot be read (no header, unknown columns): nothing is imported."""


@dataclass(frozen=True)
class Number:
    """A number as the file gives it: its E.164 digits, checked for shape only. Whether it is a valid
    number of its plan was decided when the block holding it was created (``domain.block_span``); a
    number in none of our blocks is checked in full (``domain.parse_e164``) before it gets one."""

    digits: int

    @property
    def text(self) -> str:
        return domain.format_e164(self.digits)


@dataclass(frozen=True)
class ImportLine:
    line: int
    kind: str
    pool: str
    first: Number
    last: Number
    customer_id: str | None = None
    service_id: str | None = None
    product_id: str | None = None
    operator: str | None = None
    date: datetime | None = None

    def digits(self) -> range:
        return range(self.first.digits, self.last.digits + 1)

    @property
    def final_state(self) -> str:
        if self.kind == PORTED_IN:
            return ASSIGNED if self.customer_id else PORTED_IN
        return self.kind

    def reason(self, source: str) -> str:
        what = {PORTED_IN: f"ported in from {self.operator}", PORTED_OUT: f"ported out to {self.operator}"}
        on = f" on {self.date.date().isoformat()}" if self.date else ""
        return f"import {source} line {self.line}" + (f": {what[self.kind]}{on}" if self.kind in what else "")


@dataclass(frozen=True)
class LineError:
    line: int
    reason: str


@dataclass
class ImportSummary:
    """What an import did, per kind of line; ``errors`` are the lines not imported, with why."""

    lines: int = 0
    pools_created: int = 0
    blocks_created: int = 0
    blocks_unchanged: int = 0
    numbers_created: dict[str, int] = field(default_factory=lambda: dict.fromkeys(NUMBER_KINDS, 0))
    numbers_unchanged: int = 0
    errors: list[LineError] = field(default_factory=list)

    @property
    def changed(self) -> int:
        return self.pools_created + self.blocks_created + sum(self.numbers_created.values())


# ------------------------------------------------------------------------------------------- parsing


def read_rows(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    """The data lines of a CSV file with their line numbers (the header is line 1)."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        header = [name.strip() for name in reader.fieldnames or ()]
        unknown = [name for name in header if name not in COLUMNS]
        missing = [name for name in REQUIRED_COLUMNS if name not in header]
        if unknown or missing:
            raise ImportFileError(
                f"{path}: the header must name columns of {', '.join(COLUMNS)}"
                + (f"; unknown: {', '.join(unknown)}" if unknown else "")
                + (f"; missing: {', '.join(missing)}" if missing else "")
            )
        reader.fieldnames = header
        for row in reader:
            if not any((value or "").strip() for value in row.values() if isinstance(value, str)):
                continue  # a blank line
            yield reader.line_num, row


def count_rows(path: Path) -> int:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return max(0, sum(1 for _ in csv.reader(handle)) - 1)


def parse_line(line: int, raw: Mapping[str, Any]) -> ImportLine:
    """One CSV line, checked (``InvalidInput`` subclasses with a message naming what is wrong)."""
    if None in raw:
        raise _LineInvalid("more values than the header has columns")
    values = {key: (value or "").strip() for key, value in raw.items()}
    kind = values.get("type", "")
    if kind not in KINDS:
        raise _LineInvalid(f"type must be one of {', '.join(KINDS)}, not {kind!r}")
    pool = values.get("pool", "")
    if not pool or len(pool) > 128:
        raise _LineInvalid("pool must name a number pool (1 to 128 characters)")
    if kind == BLOCK:
        if not values.get("last"):
            raise _LineInvalid("a block needs first and last")
        span = domain.block_span(values.get("first", ""), values["last"])  # the full E.164 rules
        first, last = Number(span.first.digits), Number(span.last.digits)
    else:
        first = _number(values.get("first", ""), "first")
        last = _number(values["last"], "last") if values.get("last") else first
        if last.digits < first.digits or len(str(last.digits)) != len(str(first.digits)):
            raise _LineInvalid(f"first {first.text} and last {last.text} are not a range of one length")
    if kind != BLOCK and last.digits - first.digits + 1 > MAX_RANGE:
        raise _LineInvalid(f"a number line names at most {MAX_RANGE} numbers (first..last)")
    customer = values.get("customerId") or None
    if kind == ASSIGNED and not customer:
        raise _LineInvalid("an assigned number needs its customerId")
    operator = values.get("operator") or None
    if kind in (PORTED_IN, PORTED_OUT) and not operator:
        raise _LineInvalid(f"a {kind} number needs the other operator (operator)")
    for name in ("customerId", "serviceId", "productId", "operator"):
        if len(values.get(name) or "") > 128:
            raise _LineInvalid(f"{name} is longer than 128 characters")
    return ImportLine(
        line=line,
        kind=kind,
        pool=pool,
        first=first,
        last=last,
        customer_id=customer,
        service_id=values.get("serviceId") or None,
        product_id=values.get("productId") or None,
        operator=operator,
        date=_date(values.get("date", "")),
    )


_SHAPE = re.compile(r"\+[1-9][0-9]{1,14}")


def _number(text: str, what: str) -> Number:
    compact = re.sub(r"[\s().-]", "", text)
    if not _SHAPE.fullmatch(compact):
        raise _LineInvalid(f"{what} {text!r} is not an E.164 number (+ then up to 15 digits, not starting with 0)")
    return Number(int(compact[1:]))


def _date(text: str) -> datetime | None:
    if not text:
        return None
    try:
        return clock.parse_utc(text)
    except ValueError:
        raise _LineInvalid(f"date {text!r} is not an ISO 8601 date or date-time") from None


class _LineInvalid(ProvisioError):
    code = "INVALID_IMPORT_LINE"


# ------------------------------------------------------------------------------------------- import


@dataclass
class _Pool:
    id: str
    rules: tuple[domain.CategoryRule, ...]
    blocks: list[Any]  # number_block rows, sorted by first_digits
    firsts: list[int]

    def block_of(self, digits: int) -> Any:
        index = bisect.bisect_right(self.firsts, digits) - 1
        if index >= 0 and self.blocks[index].last_digits >= digits:
            return self.blocks[index]
        return None


class _Classifier:
    """``domain.classify`` for many numbers: the pool's golden and silver rules as one Python regular
    expression each, matched in full against the national digits, which is what the digit automata of
    ``domain`` decide for one number (golden wins over silver; neither is standard)."""

    def __init__(self, rules: Sequence[domain.CategoryRule]) -> None:
        self.patterns = [
            (category, re.compile(regex))
            for category in (domain.GOLDEN, domain.SILVER)
            if (regex := domain.category_regex(rules, category)) is not None
        ]

    def category(self, national: str) -> str:
        for category, pattern in self.patterns:
            if pattern.fullmatch(national):
                return category
        return domain.STANDARD


class NumberImport:
    """One import run: ``run(rows)`` with rows from ``read_rows``; ``progress(n)`` after every n lines."""

    def __init__(
        self,
        uow_factory: Callable[[], UnitOfWork],
        *,
        source: str,
        batch_size: int = DEFAULT_BATCH_SIZE,
        progress: Callable[[int], None] | None = None,
    ) -> None:
        self.uow_factory = uow_factory
        self.source = source
        self.batch_size = batch_size
        self.progress = progress or (lambda _n: None)
        self.summary = ImportSummary()
        self._named: dict[int, int] = {}  # digits -> the line that named it (a number on two lines is an error)
        self._classifiers: dict[str, _Classifier] = {}

    def run(self, rows: Iterable[tuple[int, Mapping[str, Any]]]) -> ImportSummary:
        blocks: list[ImportLine] = []
        numbers: list[ImportLine] = []
        for line, raw in rows:
            self.summary.lines += 1
            try:
                parsed = parse_line(line, raw)
            except ProvisioError as error:
                self._error(line, error.message)
                self.progress(1)
                continue
            (blocks if parsed.kind == BLOCK else numbers).append(parsed)
        self._ensure_pools([*blocks, *[n for n in numbers if n.kind == PORTED_IN]])
        for block in blocks:
            self._import_block(block)
            self.progress(1)
        for batch in bulk.batches(numbers, self.batch_size):
            self._import_batch(batch)
            self.progress(len(batch))
        self.summary.errors.sort(key=lambda error: error.line)
        logger.info(
            "number import %s: %d line(s), %d change(s), %d error(s)",
            self.source, self.summary.lines, self.summary.changed, len(self.summary.errors),
        )  # fmt: skip
        return self.summary

    def _error(self, line: int, reason: str) -> None:
        self.summary.errors.append(LineError(line, reason))

    # -- pools and blocks ------------------------------------------------------------------------

    def _ensure_pools(self, lines: Sequence[ImportLine]) -> None:
        names = sorted({line.pool for line in lines})
        if not names:
            return
        with self.uow_factory() as tx:
            known = set(tx.session.scalars(select(NumberPoolRow.name).where(NumberPoolRow.name.in_(names))))
        for name in names:
            if name in known:
                continue
            try:
                service.create_pool(self.uow_factory(), {"name": name})
                self.summary.pools_created += 1
            except ProvisioError as error:  # created meanwhile by someone else: fine, it exists
                logger.info("pool %s: %s", name, error.message)

    def _import_block(self, line: ImportLine) -> None:
        try:
            with self.uow_factory() as tx:
                pool_id = tx.session.scalar(select(NumberPoolRow.id).where(NumberPoolRow.name == line.pool))
                same = tx.session.execute(
                    select(NumberBlockRow.id, NumberBlockRow.pool_id).where(
                        NumberBlockRow.first_digits == line.first.digits,
                        NumberBlockRow.last_digits == line.last.digits,
                    )
                ).first()
            if pool_id is None:
                raise _LineInvalid(f"no number pool named {line.pool!r}")
            if same is not None:
                if same.pool_id != pool_id:
                    raise _LineInvalid(f"{line.first.text}..{line.last.text} is a block of another pool")
                self.summary.blocks_unchanged += 1
                return
            service.create_block(
                self.uow_factory(), {"poolId": pool_id, "first": line.first.text, "last": line.last.text}
            )
            self.summary.blocks_created += 1
        except ProvisioError as error:
            self._error(line.line, error.message)

    # -- numbers ---------------------------------------------------------------------------------

    def _import_batch(self, batch: Sequence[ImportLine]) -> None:
        """One transaction for the batch; if the database refuses it, each line alone."""
        try:
            self._write_lines(batch)
        except SQLAlchemyError as error:
            if len(batch) == 1:
                self._error(batch[0].line, f"the database refused it: {type(error).__name__}")
                return
            logger.warning("number import %s: a batch failed (%s); retrying its lines one by one", self.source, error)
            for line in batch:
                self._import_batch([line])

    def _write_lines(self, batch: Sequence[ImportLine]) -> None:
        with self.uow_factory() as tx:
            session = tx.session
            pools = self._pools(session, {line.pool for line in batch})
            existing = _existing(session, [d for line in batch for d in line.digits()])
            planned: list[tuple[ImportLine, list[int]]] = []
            errors: list[LineError] = []
            unchanged = 0
            named: dict[int, int] = {}
            for line in batch:
                try:
                    fresh, same = self._plan(session, line, pools, existing, named)
                except ProvisioError as error:
                    errors.append(LineError(line.line, error.message))
                    continue
                unchanged += same
                for digits in fresh:
                    named[digits] = line.line
                planned.append((line, fresh))
            planned = self._carve(session, pools, planned, errors)
            created = self._create(session, pools, planned)
            tx.commit()
        self._named.update(named)
        self.summary.errors.extend(errors)
        self.summary.numbers_unchanged += unchanged
        for kind, count in created.items():
            self.summary.numbers_created[kind] += count

    def _pools(self, session: Session, names: set[str]) -> dict[str, _Pool]:
        rows = session.execute(select(NumberPoolRow).where(NumberPoolRow.name.in_(sorted(names)))).scalars()
        pools = {}
        for row in rows:
            blocks = _blocks_of(session, row.id)
            rules = domain.parse_rules(row.category_rules or [])
            pools[row.name] = _Pool(row.id, rules, blocks, [block.first_digits for block in blocks])
        return pools

    def _plan(
        self,
        session: Session,
        line: ImportLine,
        pools: Mapping[str, _Pool],
        existing: Mapping[int, Row[Any]],
        named: Mapping[int, int],
    ) -> tuple[list[int], int]:
        """The numbers of ``line`` to create, and how many are already as the file says."""
        pool = pools.get(line.pool)
        if pool is None:
            raise _LineInvalid(f"no number pool named {line.pool!r}")
        fresh, same = [], 0
        outside: list[int] = []
        for digits in line.digits():
            earlier = self._named.get(digits) or named.get(digits)
            if earlier is not None:
                raise _LineInvalid(f"{domain.format_e164(digits)} is on line {earlier} too")
            row = existing.get(digits)
            if row is not None:
                if not _as_the_file_says(line, row):
                    raise _LineInvalid(_mismatch(line, row))
                same += 1
                continue
            block = pool.block_of(digits)
            if block is None:
                if line.kind != PORTED_IN:
                    raise _LineInvalid(f"{domain.format_e164(digits)} is in no block of pool {line.pool!r}")
                outside.append(digits)
            fresh.append(digits)
        if outside:
            self._add_blocks(session, pool, outside)
        return fresh, same

    def _add_blocks(self, session: Session, pool: _Pool, digits: Sequence[int]) -> None:
        """Ported-in numbers from another operator's range: blocks of their own in the pool."""
        pool_row = session.get(NumberPoolRow, pool.id)
        assert pool_row is not None
        with session.begin_nested():  # a clash with another pool's block fails this line only
            add_blocks_for(session, pool_row, digits)
        pool.blocks = _blocks_of(session, pool.id)
        pool.firsts = [block.first_digits for block in pool.blocks]

    def _carve(
        self,
        session: Session,
        pools: Mapping[str, _Pool],
        planned: list[tuple[ImportLine, list[int]]],
        errors: list[LineError],
    ) -> list[tuple[ImportLine, list[int]]]:
        """Take the planned numbers out of the free chunks (locked in ascending order); a line with a number
        that is not free (no row, yet in no chunk: taken concurrently) is dropped whole."""
        wanted = sorted(d for _, fresh in planned for d in fresh)
        if not wanted:
            return planned
        chunks = _locked_chunks(session, wanted[0], wanted[-1])
        firsts = [chunk.first_digits for chunk in chunks]
        chunk_of: dict[int, Row[Any]] = {}
        for digits in wanted:
            index = bisect.bisect_right(firsts, digits) - 1
            if index >= 0 and chunks[index].last_digits >= digits:
                chunk_of[digits] = chunks[index]
        kept = []
        for line, fresh in planned:
            missing = next((d for d in fresh if d not in chunk_of), None)
            if missing is not None:
                errors.append(LineError(line.line, f"{domain.format_e164(missing)} is not available (taken meanwhile)"))
                continue
            kept.append((line, fresh))
        taken = sorted(d for _, fresh in kept for d in fresh)
        _carve_runs(Chunks(session), chunks, _runs_by_chunk(taken, chunk_of), chunk_of)
        return kept

    def _create(
        self, session: Session, pools: Mapping[str, _Pool], planned: Sequence[tuple[ImportLine, list[int]]]
    ) -> dict[str, int]:
        """The number rows with their TMF639 resources, audit, history and events, set-wise."""
        now = clock.now()
        actor = request_context.current().actor
        rows: list[dict[str, Any]] = []
        history: list[dict[str, Any]] = []
        created = dict.fromkeys(NUMBER_KINDS, 0)
        for line, fresh in planned:
            pool = pools[line.pool]
            classifier = self._classifiers.setdefault(pool.id, _Classifier(pool.rules))
            reason = line.reason(self.source)[:255]
            for digits in fresh:
                block = pool.block_of(digits)
                assert block is not None
                row = _number_row(line, digits, block, pool.id, classifier, now)
                rows.append(row)
                for previous, target in _steps_of(line):
                    history.append(
                        {"number_id": row["id"], "value": row["value"], "at": now, "from_state": previous,
                         "to_state": target, "actor": actor, "reservation_id": None, "order_item_id": None,
                         "reason": reason}
                    )  # fmt: skip
            created[line.kind] += len(fresh)
        if not rows:
            return created
        numbers = [_as_data(row) for row in rows]  # once, for the TMF639 documents and the events
        documents = [mapping.resource_document(number) for number in numbers]
        bulk.bulk_insert(
            session,
            TelephoneNumberRow,
            rows,
            tmf639=lambda s, written: resource_inventory.bulk_create_resources(
                s, documents, acting_context=CONTEXT, resource_ids=[row["id"] for row in written]
            ),
        )
        session.connection().execute(insert(HISTORY), history)
        publish_many(
            session,
            api=API,
            event_type=NUMBER_STATE_EVENT,
            resources=[mapping.number_json(number) for number in numbers],
            payload_key="telephoneNumber",
        )
        return created


def _blocks_of(session: Session, pool_id: str) -> list[Any]:
    """The pool's blocks as plain rows (no ORM instances: a pool of ported-in numbers has many)."""
    statement = select(BLOCK_TABLE).where(BLOCK_TABLE.c.pool_id == pool_id).order_by(BLOCK_TABLE.c.first_digits)
    return list(session.connection().execute(statement))


def _existing(session: Session, digits: Sequence[int]) -> dict[int, Row[Any]]:
    columns = (NUMBER.c.digits, NUMBER.c.value, NUMBER.c.state, NUMBER.c.customer_id, NUMBER.c.service_id)
    found: dict[int, Any] = {}
    ordered = sorted(set(digits))
    for start in range(0, len(ordered), 500):
        part = ordered[start : start + 500]
        statement = select(*columns).where(NUMBER.c.digits.in_(part)).with_for_update()
        found.update((int(row.digits), row) for row in session.connection().execute(statement))
    return found


def _mismatch(line: ImportLine, row: Row[Any]) -> str:
    here = f"{row.value} is {row.state}" + (f" for customer {row.customer_id}" if row.customer_id else "")
    there = line.final_state + (f" for {line.customer_id}" if line.customer_id else "")
    return f"{here} here; the file says {there}"


def _as_the_file_says(line: ImportLine, row: Row[Any]) -> bool:
    if row.state != line.final_state:
        return False
    if line.final_state == ASSIGNED:
        return bool(
            row.customer_id == line.customer_id and (line.service_id is None or row.service_id == line.service_id)
        )
    return True


def _locked_chunks(session: Session, first: int, last: int) -> list[Row[Any]]:
    statement = (
        select(CHUNK.c.id, CHUNK.c.pool_id, CHUNK.c.block_id, CHUNK.c.first_digits, CHUNK.c.last_digits)
        .where(CHUNK.c.last_digits >= first, CHUNK.c.first_digits <= last)
        .order_by(CHUNK.c.first_digits)
        .with_for_update()
    )
    return list(session.connection().execute(statement))


def _runs_by_chunk(digits: Sequence[int], chunk_of: Mapping[int, Row[Any]]) -> list[Interval]:
    """Consecutive numbers of one chunk as intervals (what ``_carve`` splits chunks by)."""
    runs: list[Interval] = []
    for number in digits:
        if runs and runs[-1].last + 1 == number and chunk_of[runs[-1].last].id == chunk_of[number].id:
            runs[-1] = Interval(runs[-1].first, number)
        else:
            runs.append(Interval(number, number))
    return runs


def _carve_runs(
    chunks: Chunks, rows: Sequence[Row[Any]], runs: Sequence[Interval], chunk_of: Mapping[int, Row[Any]]
) -> None:
    """Take sorted, disjoint ``runs`` out of their chunks in one pass: each chunk keeps its first free part
    (its row shrinks) and gets a row per further part (``service._carve``'s result, linear in the runs)."""
    by_chunk: dict[int, list[Interval]] = {}
    for run in runs:
        by_chunk.setdefault(chunk_of[run.first].id, []).append(run)
    for row in rows:
        taken = by_chunk.get(row.id)
        if not taken:
            continue
        remaining, start = [], row.first_digits
        for run in taken:
            if run.first > start:
                remaining.append(Interval(start, run.first - 1))
            start = run.last + 1
        if start <= row.last_digits:
            remaining.append(Interval(start, row.last_digits))
        if not remaining:
            chunks.delete(row.id)
            continue
        chunks.set_bounds(row.id, remaining[0])
        chunks.insert(row.pool_id, row.block_id, remaining[1:])


def _steps_of(line: ImportLine) -> list[tuple[str, str]]:
    """The history an imported number starts with: from available to the state the file gives (through
    portedIn for a ported-in number in service, as a port-in goes)."""
    if line.kind == PORTED_IN and line.customer_id:
        return [(AVAILABLE, PORTED_IN), (PORTED_IN, ASSIGNED)]
    return [(AVAILABLE, line.final_state)]


def _number_row(
    line: ImportLine, digits: int, block: Any, pool_id: str, classifier: _Classifier, now: datetime
) -> dict[str, Any]:
    """The row ``service._create_numbers`` writes for a number leaving available (same keys, same values)."""
    state = line.final_state
    shape = NumberShape(block.digit_count, len(str(block.country_code)), block.national_prefix)
    national = domain.national_digits(digits, shape)
    in_service = state == ASSIGNED
    return {
        "id": new_id(),
        "digits": digits,
        "value": domain.format_e164(digits),
        "national": national,
        "pool_id": pool_id,
        "block_id": block.id,
        "state": state,
        "category": classifier.category(national),
        "customer_id": line.customer_id if in_service else None,
        "service_id": line.service_id if in_service else None,
        "product_id": line.product_id if in_service else None,
        "was_assigned": in_service,
        "created_at": now,
        "updated_at": now,
    }


def import_file(
    uow_factory: Callable[[], UnitOfWork],
    path: Path,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: Callable[[int], None] | None = None,
) -> ImportSummary:
    """Import ``path`` (see the module docstring); ``ImportFileError`` when its header is wrong."""
    return NumberImport(uow_factory, source=path.name, batch_size=batch_size, progress=progress).run(read_rows(path))


__all__ = [
    "COLUMNS",
    "ImportFileError",
    "ImportLine",
    "ImportSummary",
    "LineError",
    "NumberImport",
    "count_rows",
    "import_file",
    "parse_line",
    "read_rows",
]
