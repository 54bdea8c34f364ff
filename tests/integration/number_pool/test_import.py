"""``provisio numbers import`` (issue 16 "Import"): blocks, assignments and ported numbers from a CSV file;
bad lines reported by number and reason without stopping the others; a re-run changes nothing; imported
numbers leave exactly the audit, events, TMF639 rows and history that numbers moved one by one leave.
Runs on SQLite, and on PostgreSQL when DATABASE_URL points at one."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from common import clock, request_context
from common.audit import AuditRecord
from common.events import EventDelivery, EventSubscription, OutboxEvent
from common.uow import UnitOfWork
from oss.number_pool import importer, service
from oss.number_pool.models import NumberBlockRow, NumberChunkRow, NumberHistoryRow, NumberPoolRow, TelephoneNumberRow
from oss.resource_inventory.models import ResourceRow
from server.db import make_session_factory

pytestmark = pytest.mark.integration

EXAMPLE = Path(__file__).resolve().parents[3] / "docs" / "examples" / "numbers-import.csv"
HEADER = ",".join(importer.COLUMNS)


@pytest.fixture
def factory(clean_db: Engine) -> sessionmaker[Session]:
    return make_session_factory(clean_db)


@pytest.fixture(autouse=True)
def fixed_clock() -> Iterator[clock.FixedClock]:
    fixed = clock.FixedClock(datetime(2026, 12, 3, 12, 0, tzinfo=UTC))
    previous = clock.set_clock(fixed)
    yield fixed
    clock.set_clock(previous)


def run(factory: sessionmaker[Session], path: Path, **options: Any) -> importer.ImportSummary:
    with request_context.bind(request_id="req-import", actor="alice"):
        return importer.import_file(lambda: UnitOfWork(factory), path, **options)


def write(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "numbers.csv"
    path.write_text("\n".join([HEADER, *lines]) + "\n", encoding="utf-8")
    return path


def count(factory: sessionmaker[Session], model: type) -> int:
    with factory() as session, session.begin():
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def states(factory: sessionmaker[Session]) -> dict[str, tuple[str, str | None]]:
    with factory() as session, session.begin():
        return {r.value: (r.state, r.customer_id) for r in session.scalars(select(TelephoneNumberRow))}


def test_the_example_file_imports_blocks_assignments_and_ported_numbers(factory: sessionmaker[Session]) -> None:
    summary = run(factory, EXAMPLE)

    assert summary.errors == []
    assert summary.lines == 9 and summary.pools_created == 2 and summary.blocks_created == 2
    assert summary.numbers_created == {"assigned": 12, "blocked": 1, "portedIn": 4, "portedOut": 1}
    numbers = states(factory)
    assert numbers["+442079460205"] == ("assigned", "cust-2")
    assert numbers["+442079470001"] == ("assigned", "cust-3")  # ported in, in service
    assert numbers["+442079470003"] == ("portedIn", None)
    assert numbers["+442079460300"] == ("portedOut", None)
    assert numbers["+442079469999"] == ("blocked", None)
    assert count(factory, ResourceRow) == len(numbers) == 18  # every touched number is a TMF639 resource
    with factory() as session, session.begin():
        ported = [
            (h.from_state, h.to_state)
            for h in session.scalars(select(NumberHistoryRow).where(NumberHistoryRow.value == "+442079470001"))
        ]
        reason = session.scalar(select(NumberHistoryRow.reason).where(NumberHistoryRow.value == "+442079460300"))
        london = session.scalar(select(NumberPoolRow.id).where(NumberPoolRow.name == "London 020"))
        free = service.repository.free_count(session, pool_id=london)
    assert ported == [("available", "portedIn"), ("portedIn", "assigned")]
    assert reason == "import numbers-import.csv line 9: ported out to Recipient Mobile on 2026-10-15"
    assert free == 10_000 - 13  # the block's free space lost exactly the numbers it now has rows for


def test_a_rerun_of_the_same_file_changes_nothing(factory: sessionmaker[Session]) -> None:
    run(factory, EXAMPLE)
    before = {
        model: count(factory, model)
        for model in (TelephoneNumberRow, AuditRecord, OutboxEvent, NumberChunkRow, NumberBlockRow)
    }

    again = run(factory, EXAMPLE)

    assert again.errors == [] and again.changed == 0
    assert again.blocks_unchanged == 2 and again.numbers_unchanged == 18
    assert {model: count(factory, model) for model in before} == before


def test_bad_lines_are_reported_by_number_and_reason_and_the_others_are_imported(
    factory: sessionmaker[Session], tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        "block,London 020,+442079460000,+442079460999,,,,,",  # line 2
        "assigned,London 020,+4420794,,cust-1,,,,",  # 3: not E.164
        "assigned,London 020,+442079460001,,cust-1,,,,",  # 4: fine
        "rented,London 020,+442079460002,,cust-1,,,,",  # 5: unknown type
        "assigned,London 020,+442079461500,,cust-1,,,,",  # 6: in no block of the pool
        "assigned,London 020,+442079460001,,cust-9,,,,",  # 7: already on line 4
        "assigned,London 020,+442079460003,,,,,,",  # 8: no customer
        "block,Other,+442079460500,+442079460600,,,,,",  # 9: overlaps line 2's block
        "blocked,London 020,+442079460010,+442079460019,,,,,",  # 10: fine
        "assigned,Nowhere,+442079460004,,cust-1,,,,",  # 11: no such pool
        "portedOut,London 020,+442079460020,,,,,,",  # 12: no recipient
        "assigned,London 020,+442079460030,,cust-1,,,,,extra",  # 13: too many values
        "assigned,London 020,+442079460040,,cust-4,,,,",  # 14: fine
    )

    summary = run(factory, path, batch_size=4)

    assert [error.line for error in summary.errors] == [3, 5, 6, 7, 8, 9, 11, 12, 13]
    reasons = {error.line: error.reason for error in summary.errors}
    assert "+4420794" in reasons[3] and "rented" in reasons[5] and "no block" in reasons[6]
    assert "line 4" in reasons[7] and "customerId" in reasons[8] and "overlaps" in reasons[9]
    assert "Nowhere" in reasons[11] and "operator" in reasons[12] and "more values" in reasons[13]
    numbers = states(factory)
    assert numbers["+442079460001"] == ("assigned", "cust-1")
    assert numbers["+442079460040"] == ("assigned", "cust-4")
    assert sum(1 for state, _ in numbers.values() if state == "blocked") == 10
    assert len(numbers) == 12 and count(factory, NumberBlockRow) == 1


def test_a_number_in_another_state_is_a_line_error_never_overwritten(
    factory: sessionmaker[Session], tmp_path: Path
) -> None:
    run(factory, write(tmp_path, "block,London 020,+442079460000,+442079460999,,,,,",
                       "assigned,London 020,+442079460001,,cust-1,svc-1,,,"))  # fmt: skip
    changed = run(factory, write(tmp_path, "assigned,London 020,+442079460001,,cust-2,svc-1,,,"))
    assert [error.line for error in changed.errors] == [2]
    assert "assigned for customer cust-1" in changed.errors[0].reason
    assert states(factory)["+442079460001"] == ("assigned", "cust-1")


def test_a_bad_header_imports_nothing(factory: sessionmaker[Session], tmp_path: Path) -> None:
    path = tmp_path / "wrong.csv"
    path.write_text("kind,pool,number\nassigned,London,+442079460001\n", encoding="utf-8")
    with pytest.raises(importer.ImportFileError, match="unknown: kind"):
        run(factory, path)
    assert count(factory, NumberPoolRow) == 0


# ------------------------------------------------------------------ the same trail as row by row

N = 25  # beyond service.BULK_THRESHOLD: the API's own set-wise path would be taken for a batch this size


def _trail(factory: sessionmaker[Session]) -> dict[str, list[str]]:
    """Every audit record, event, delivery, TMF639 row and history row, with ids named by the number."""
    with factory() as session, session.begin():
        names = {r.id: r.value for r in session.scalars(select(TelephoneNumberRow))}
        names.update({r.id: f"block {r.first_digits}" for r in session.scalars(select(NumberBlockRow))})
        names.update({r.id: f"pool {r.name}" for r in session.scalars(select(NumberPoolRow))})
        callbacks = {r.id: r.callback for r in session.scalars(select(EventSubscription))}
        audit = [
            {c: getattr(r, c) for c in ("actor", "request_id", "entity_type", "entity_id", "action", "before", "after")}
            | {"at": r.recorded_at.isoformat()}
            for r in session.scalars(select(AuditRecord))
        ]
        events = [
            {"api": e.api, "type": e.event_type, "payload": {**e.payload, "eventId": "-"}, "at": str(e.created_at)}
            for e in session.scalars(select(OutboxEvent))
        ]
        joined = select(EventDelivery, OutboxEvent).join(OutboxEvent, OutboxEvent.seq == EventDelivery.event_seq)
        deliveries = [
            {"subscription": callbacks[d.subscription_id], "state": d.state, "at": d.next_attempt_at.isoformat(),
             "event": e.payload["event"]}
            for d, e in session.execute(joined)
        ]  # fmt: skip
        columns = ("id", "name", "type", "base_type", "category", "resource_status", "usage_state", "document")
        resources = [{c: getattr(r, c) for c in columns} for r in session.scalars(select(ResourceRow))]
        history = [
            {c: getattr(h, c) for c in ("number_id", "value", "from_state", "to_state", "actor", "reason")}
            for h in session.scalars(select(NumberHistoryRow))
        ]

    def named(records: list[dict[str, Any]]) -> list[str]:
        text = [json.dumps(record, sort_keys=True, default=str) for record in records]
        for rid, name in names.items():
            text = [t.replace(rid, f"<{name}>") for t in text]
        return sorted(text)  # the set-wise path groups by table what row by row interleaves

    return {"audit": named(audit), "events": named(events), "deliveries": named(deliveries),
            "resources": named(resources), "history": named(history)}  # fmt: skip


def _subscribe(factory: sessionmaker[Session]) -> None:
    with UnitOfWork(factory) as tx:
        for api in ("numberInventory", "resourceInventoryManagement"):
            tx.session.add(EventSubscription(api=api, callback=f"http://127.0.0.1:9/{api}", query=None,
                                             created_at=clock.now(), created_by="t"))  # fmt: skip
        tx.commit()


def test_imported_numbers_leave_exactly_the_trail_of_numbers_assigned_one_by_one(
    factory: sessionmaker[Session], clean_db: Engine, tmp_path: Path
) -> None:
    from tests.conftest import _empty_all_tables

    # Golden (+442079460000: four trailing zeros), silver (1111: repeated digits; 1234: an ascending run)
    # and standard numbers: the set-wise path classifies them as the API's automata do.
    numbers = ["+442079460000", "+442079461111", "+442079461234", *[f"+4420794601{i:02d}" for i in range(N - 3)]]
    source = "numbers.csv"

    def reason(line: int) -> str:
        return f"import {source} line {line}"

    # Row by row: the API's use cases, one transaction per number.
    _subscribe(factory)
    with request_context.bind(request_id="req-import", actor="alice"):
        pool = service.create_pool(UnitOfWork(factory), {"name": "London 020"})
        service.create_block(
            UnitOfWork(factory), {"poolId": pool.id, "first": "+442079460000", "last": "+442079469999"}
        )
        for line, number in enumerate(numbers, start=3):
            holder = service.Holder(customer_id=f"cust-{line % 4}", service_id=f"svc-{line}", reason=reason(line))
            service.change_state(UnitOfWork(factory), number, "assigned", holder, allow_golden=True)
    one_by_one = _trail(factory)

    # The import: the same pool, block and numbers from a file, set-wise.
    _empty_all_tables(clean_db)
    _subscribe(factory)
    path = write(
        tmp_path,
        "block,London 020,+442079460000,+442079469999,,,,,",
        *[
            f"assigned,London 020,{number},,cust-{line % 4},svc-{line},,,"
            for line, number in enumerate(numbers, start=3)
        ],
    )
    summary = run(factory, path, batch_size=10)
    assert summary.errors == [] and summary.numbers_created["assigned"] == N
    imported = _trail(factory)

    assert len(one_by_one["history"]) == N and len(one_by_one["resources"]) == N
    categories = " ".join(one_by_one["resources"])
    assert '"category": "golden"' in categories and '"category": "silver"' in categories
    for kind in ("audit", "events", "deliveries", "resources", "history"):
        assert imported[kind] == one_by_one[kind], kind


def test_the_cli_prints_a_summary_and_the_bad_lines(
    factory: sessionmaker[Session],
    tmp_path: Path,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from server.cli import main

    monkeypatch.setenv("DATABASE_URL", database_url)
    path = write(tmp_path, "block,London 020,+442079460000,+442079460999,,,,,",
                 "assigned,London 020,+442079460001,,cust-1,,,,", "assigned,London 020,+449,,cust-1,,,,")  # fmt: skip

    status = main(["numbers", "import", str(path), "--no-progress"])

    out = capsys.readouterr().out
    assert status == 1
    assert "blocks created/unchanged: 1/0" in out and "numbers assigned:         1" in out
    assert "line 4: " in out and "+449" in out
    assert main(["numbers", "import", str(path)]) == 1  # with the progress bar; the bad line is still bad
    assert "numbers unchanged:        1" in capsys.readouterr().out
    assert main(["numbers", "import", str(tmp_path / "missing.csv")]) == 2
