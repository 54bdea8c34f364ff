"""Importing CPE units from a CSV file (``provisio cpe import FILE.csv``): units received into stock.

The file (README "CPE: import" has the format)::

    manufacturer,model,serialNumber,macAddress,warehouseId
    Acme,HG-100,SN000001,00:1a:2b:3c:4d:5e,site-warehouse-1
    Acme,HG-100,SN000002,001a.2b3c.4d5f,site-warehouse-1

Rules:

- every line is checked on its own (serial and MAC as the API checks them, every column present); a bad
  line is reported with its line number and reason and is not written; the others are written;
- a serial or MAC that a previous line of the file already gave is a line error (the first one wins);
- a re-run of the same file changes nothing: a unit that exists with the same serial, MAC and model is
  counted ``unchanged``; a serial that exists with another MAC or model, or a MAC another serial has, is a
  line error, never overwritten;
- a model (manufacturer, model) that does not exist is created with the API's defaults;
- units are written in batches of ``batch_size`` lines, one transaction per batch, set-wise through
  ``common.bulk.bulk_insert`` (units with their audit records and ``CpeUnitCreateEvent``, history rows),
  and the stock counters of every (model, warehouse) the batch touches are raised under their row locks,
  so an import and concurrent holds agree. Imported units are plain stock: no TMF639 rows (as the API).

A batch the database refuses (a race with a concurrent writer) is retried line by line, each line in its
own transaction, so one bad line never takes the rest of its batch with it.
"""

from __future__ import annotations

import csv
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from common import bulk, clock, request_context
from common.errors import ProvisioError
from common.orm import new_id
from common.uow import UnitOfWork
from oss.cpe import domain, mapping, repository, service
from oss.cpe.errors import InvalidCpeInput
from oss.cpe.models import CpeHistoryRow, CpeModelRow, CpeUnitRow

logger = logging.getLogger(__name__)

COLUMNS = ("manufacturer", "model", "serialNumber", "macAddress", "warehouseId")
DEFAULT_BATCH_SIZE = 1000


class ImportFileError(Exception):
    """The file as a whole cannot be read (no header, missing columns): nothing is imported."""


@dataclass(frozen=True)
class LineError:
    line: int
    reason: str


@dataclass(frozen=True)
class UnitLine:
    line: int
    manufacturer: str
    model: str
    serial: str
    mac: str
    warehouse_id: str


@dataclass
class ImportSummary:
    lines: int = 0
    models_created: int = 0
    units_created: int = 0
    units_unchanged: int = 0
    errors: list[LineError] = field(default_factory=list)


def read_rows(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    """``(line number, row)`` of the file; ``ImportFileError`` when its header lacks a column."""
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as error:
        raise ImportFileError(f"cannot read {path}: {error}") from None
    with handle:
        reader = csv.DictReader(handle)
        header = [name.strip() for name in reader.fieldnames or []]
        missing = [column for column in COLUMNS if column not in header]
        if missing:
            raise ImportFileError(f"{path.name}: the header lacks {', '.join(missing)} (expected {','.join(COLUMNS)})")
        reader.fieldnames = header
        try:
            for row in reader:
                yield reader.line_num, {key: (value or "").strip() for key, value in row.items() if key is not None}
        except (csv.Error, UnicodeDecodeError) as error:
            raise ImportFileError(f"{path.name}: line {reader.line_num}: {error}") from None


def count_rows(path: Path) -> int:
    with path.open(encoding="utf-8-sig", errors="replace") as handle:
        return max(0, sum(1 for _ in handle) - 1)


def parse_line(number: int, row: Mapping[str, str]) -> UnitLine:
    """One line, checked (``ProvisioError`` with the reason)."""
    empty = [column for column in COLUMNS if not row.get(column)]
    if empty:
        raise InvalidCpeInput(f"{empty[0]} is empty")
    for column in ("manufacturer", "model", "warehouseId"):
        if len(row[column]) > 128:
            raise InvalidCpeInput(f"{column} is longer than 128 characters")
    return UnitLine(
        line=number,
        manufacturer=row["manufacturer"],
        model=row["model"],
        serial=domain.normalise_serial(row["serialNumber"]),
        mac=domain.normalise_mac(row["macAddress"]),
        warehouse_id=row["warehouseId"],
    )


class UnitImport:
    def __init__(
        self,
        uow_factory: Callable[[], UnitOfWork],
        *,
        batch_size: int = DEFAULT_BATCH_SIZE,
        progress: Callable[[int], None] | None = None,
    ) -> None:
        self.uow_factory = uow_factory
        self.batch_size = max(1, batch_size)
        self.progress = progress or (lambda _n: None)
        self.summary = ImportSummary()
        self.models: dict[tuple[str, str], str] = {}

    def run(self, rows: Iterable[tuple[int, dict[str, str]]]) -> ImportSummary:
        seen_serials: dict[str, int] = {}
        seen_macs: dict[str, int] = {}
        for batch in bulk.batches(rows, self.batch_size):
            lines: list[UnitLine] = []
            for number, row in batch:
                self.summary.lines += 1
                try:
                    line = parse_line(number, row)
                except ProvisioError as error:
                    self._error(number, error.message)
                    continue
                if line.serial in seen_serials:
                    self._error(number, f"serial {line.serial} is on line {seen_serials[line.serial]} already")
                    continue
                if line.mac in seen_macs:
                    self._error(number, f"MAC {line.mac} is on line {seen_macs[line.mac]} already")
                    continue
                seen_serials[line.serial], seen_macs[line.mac] = number, number
                lines.append(line)
            if lines:
                self._write(lines)
            self.progress(len(batch))
        self.summary.errors.sort(key=lambda error: error.line)
        return self.summary

    def _error(self, line: int, reason: str) -> None:
        self.summary.errors.append(LineError(line, reason))

    def _write(self, lines: list[UnitLine]) -> None:
        try:
            with self.uow_factory() as tx:
                created, models, unchanged, errors = self._write_batch(tx.session, lines)
                tx.commit()
        except SQLAlchemyError as error:  # a race with a concurrent writer: line by line, each on its own
            logger.info("cpe import: batch refused (%s); retrying line by line", type(error).__name__)
            self.models.clear()
            for line in lines:
                self._write_one(line)
            return
        self.summary.units_created += created
        self.summary.models_created += models
        self.summary.units_unchanged += unchanged
        self.summary.errors.extend(errors)

    def _write_one(self, line: UnitLine) -> None:
        try:
            with self.uow_factory() as tx:
                created, models, unchanged, errors = self._write_batch(tx.session, [line])
                tx.commit()
        except (SQLAlchemyError, ProvisioError) as error:
            self._error(
                line.line, getattr(error, "message", None) or f"refused by the database ({type(error).__name__})"
            )
            self.models.clear()
            return
        self.summary.units_created += created
        self.summary.models_created += models
        self.summary.units_unchanged += unchanged
        self.summary.errors.extend(errors)

    def _model_ids(self, session: Session, lines: list[UnitLine]) -> tuple[dict[tuple[str, str], str], int]:
        wanted = {(line.manufacturer, line.model) for line in lines} - set(self.models)
        found: dict[tuple[str, str], str] = {}
        if wanted:
            rows = session.execute(
                select(CpeModelRow.manufacturer, CpeModelRow.model, CpeModelRow.id).where(
                    tuple_(CpeModelRow.manufacturer, CpeModelRow.model).in_(sorted(wanted))
                )
            )
            found = {(m, n): model_id for m, n, model_id in rows}
        created = 0
        for manufacturer, model in sorted(wanted - set(found)):
            made = service.create_model_in(session, {"manufacturer": manufacturer, "model": model})
            found[(manufacturer, model)] = made.id
            created += 1
        return {**self.models, **found}, created

    def _write_batch(self, session: Session, lines: list[UnitLine]) -> tuple[int, int, int, list[LineError]]:
        models, models_created = self._model_ids(session, lines)
        serials = {line.serial for line in lines}
        macs = {line.mac for line in lines}
        existing = {
            row.serial: row
            for row in session.execute(
                select(CpeUnitRow.serial, CpeUnitRow.mac, CpeUnitRow.model_id).where(
                    CpeUnitRow.serial.in_(sorted(serials)) | CpeUnitRow.mac.in_(sorted(macs))
                )
            )
        }
        mac_owner = {row.mac: row.serial for row in existing.values()}
        errors: list[LineError] = []
        unchanged = 0
        now = clock.now()
        fresh: list[tuple[UnitLine, str]] = []
        for line in lines:
            model_id = models[(line.manufacturer, line.model)]
            there = existing.get(line.serial)
            if there is not None:
                if there.mac == line.mac and there.model_id == model_id:
                    unchanged += 1
                else:
                    errors.append(LineError(line.line, f"serial {line.serial} exists with another MAC or model"))
                continue
            if line.mac in mac_owner:
                errors.append(LineError(line.line, f"MAC {line.mac} belongs to serial {mac_owner[line.mac]}"))
                continue
            fresh.append((line, model_id))
        if fresh:
            self._insert(session, fresh, now)
        self.models = models
        return len(fresh), models_created, unchanged, errors

    def _insert(self, session: Session, fresh: list[tuple[UnitLine, str]], now: Any) -> None:
        counts = Counter((model_id, line.warehouse_id) for line, model_id in fresh)
        for model_id, warehouse in sorted(counts):  # one global lock order, as every writer of stock rows
            stock = repository.lock_stock(session, model_id, warehouse)
            service.adjust_stock(session, stock, in_stock=counts[(model_id, warehouse)])
        units = [
            {
                "id": new_id(),
                "model_id": model_id,
                "serial": line.serial,
                "mac": line.mac,
                "state": domain.IN_STOCK,
                "warehouse_id": line.warehouse_id,
                "has_resource": False,
                "created_at": now,
                "updated_at": now,
            }
            for line, model_id in fresh
        ]
        written = bulk.bulk_insert(
            session,
            CpeUnitRow,
            units,
            api=service.API,
            event_type=service.UNIT_CREATE_EVENT,
            to_event=lambda row: mapping.unit_json(service.unit_data(_Row(row))),
            payload_key="cpeUnit",
        )
        actor = request_context.current().actor[:128]
        bulk.bulk_insert(
            session,
            CpeHistoryRow,
            [
                {
                    "unit_id": row["id"],
                    "serial": row["serial"],
                    "at": now,
                    "from_state": None,
                    "to_state": domain.IN_STOCK,
                    "actor": actor,
                    "reason": "imported into stock",
                }
                for row in written
            ],
        )


class _Row:
    """A written row's values as attributes (``service.unit_data`` reads attributes)."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        self.__dict__.update({"hold_id": None, "reservation_id": None, "order_item_id": None, "carrier": None,
                              "tracking_reference": None, "customer_site_id": None, "port_id": None})  # fmt: skip
        self.__dict__.update(values)


def import_file(
    uow_factory: Callable[[], UnitOfWork],
    path: Path,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: Callable[[int], None] | None = None,
) -> ImportSummary:
    """Import ``path`` (see the module docstring); ``ImportFileError`` when its header is wrong."""
    return UnitImport(uow_factory, batch_size=batch_size, progress=progress).run(read_rows(path))


__all__ = ["COLUMNS", "ImportFileError", "ImportSummary", "LineError", "count_rows", "import_file", "read_rows"]
