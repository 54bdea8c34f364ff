"""``provisio numbers import FILE.csv``: blocks, existing assignments and ported numbers from a spreadsheet.

The CSV has a header row; the columns used per ``kind``::

    kind,pool,first,last,number,customerId,serviceId
    block,London 020,+442079460000,+442079469999,,,
    assignment,London 020,,,+442079460123,cust-1,svc-1
    ported,London 020,,,+442079471234,cust-2,svc-2

- ``block``: the pool (created with defaults when it does not exist) gets the block ``first``..``last``;
- ``assignment``: the number becomes ``assigned`` to the customer and service;
- ``ported``: a number ported in from a donor; a one-number block is added to the pool if the number is in
  none of ours, then it becomes ``portedIn`` and, with a customer, ``assigned``.

Every line is its own use case (one transaction): a bad line is reported with its line number and reason
and leaves the others alone. A re-run of the same file changes nothing: a block already there with the same
range, a number already in the state the line asks for (same customer) count as ``unchanged``. Numbers are
written by the same use cases as the API, so each has its history, TMF639 row, event and audit record.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from common.errors import ProvisioError
from common.uow import UnitOfWork
from oss.number_pool import domain, service
from oss.number_pool.models import NumberBlockRow, NumberPoolRow
from oss.number_pool.repository import block_containing, number_by_digits

KINDS = ("block", "assignment", "ported")


@dataclass
class ImportSummary:
    counts: Counter[str] = field(default_factory=Counter)
    errors: list[tuple[int, str]] = field(default_factory=list)  # (line number, reason)

    @property
    def lines(self) -> int:
        return sum(self.counts.values()) + len(self.errors)


def read_rows(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, row) for each data line of the CSV (the header is line 1)."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        for row in reader:
            yield reader.line_num, {key.strip(): (value or "").strip() for key, value in row.items() if key}


def import_rows(
    uow_factory: Callable[[], UnitOfWork],
    rows: Iterable[tuple[int, dict[str, str]]],
    *,
    progress: Callable[[], None] | None = None,
) -> ImportSummary:
    summary = ImportSummary()
    for line, row in rows:
        try:
            outcome = _import_row(uow_factory, row)
        except ProvisioError as error:
            summary.errors.append((line, error.message))
        except (KeyError, ValueError) as error:
            summary.errors.append((line, f"bad value: {error}"))
        else:
            summary.counts[outcome] += 1
        if progress is not None:
            progress()
    return summary


def _import_row(uow_factory: Callable[[], UnitOfWork], row: dict[str, str]) -> str:
    kind = row.get("kind", "")
    if kind not in KINDS:
        raise ProvisioError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}.")
    if not row.get("pool"):
        raise ProvisioError("pool is empty.")
    pool_id = _pool(uow_factory, row["pool"])
    if kind == "block":
        return _block(uow_factory, pool_id, row["first"], row["last"])
    holder = service.Holder(
        customer_id=row.get("customerId") or None, service_id=row.get("serviceId") or None, reason="import"
    )
    if kind == "assignment":
        return _state(uow_factory, row["number"], domain.ASSIGNED, holder)
    return _ported(uow_factory, pool_id, row["number"], holder)


def _pool(uow_factory: Callable[[], UnitOfWork], name: str) -> str:
    with uow_factory() as tx:
        found = tx.session.execute(select(NumberPoolRow.id).where(NumberPoolRow.name == name)).scalar()
    if found is not None:
        return str(found)
    return service.create_pool(uow_factory(), {"name": name}).id


def _block(uow_factory: Callable[[], UnitOfWork], pool_id: str, first: str, last: str) -> str:
    span = domain.block_span(first, last)
    with uow_factory() as tx:
        same = tx.session.execute(
            select(NumberBlockRow.id).where(
                NumberBlockRow.pool_id == pool_id,
                NumberBlockRow.first_digits == span.first.digits,
                NumberBlockRow.last_digits == span.last.digits,
            )
        ).scalar()
    if same is not None:
        return "unchanged"
    service.create_block(uow_factory(), {"poolId": pool_id, "first": first, "last": last})
    return "blocks"


def _current(uow_factory: Callable[[], UnitOfWork], digits: int) -> tuple[str | None, str | None, Any]:
    with uow_factory() as tx:
        row = number_by_digits(tx.session, digits)
        block = block_containing(tx.session, digits)
        return (row.state if row else None), (row.customer_id if row else None), (block.pool_id if block else None)


def _state(uow_factory: Callable[[], UnitOfWork], number: str, target: str, holder: service.Holder) -> str:
    digits = domain.parse_digits(number)
    state, customer, _ = _current(uow_factory, digits)
    if state == target and customer == holder.customer_id:
        return "unchanged"
    service.change_state(uow_factory(), number, target, holder, allow_golden=True)
    return "assigned"


def _ported(uow_factory: Callable[[], UnitOfWork], pool_id: str, number: str, holder: service.Holder) -> str:
    parsed = domain.parse_e164(number)
    state, customer, block_pool = _current(uow_factory, parsed.digits)
    wanted = domain.ASSIGNED if holder.customer_id else domain.PORTED_IN
    if state == wanted and customer == holder.customer_id:
        return "unchanged"
    if block_pool is None:  # a number from the donor's range: it joins the pool as a block of one
        service.create_block(uow_factory(), {"poolId": pool_id, "first": parsed.text, "last": parsed.text})
    if state in (None, domain.AVAILABLE):
        service.change_state(uow_factory(), parsed.text, domain.PORTED_IN, holder, allow_golden=True)
    if wanted == domain.ASSIGNED:
        service.change_state(uow_factory(), parsed.text, domain.ASSIGNED, holder, allow_golden=True)
    return "ported"
