"""``provisio cpe import`` (issue 18 "CPE"): units from a CSV file into stock; bad lines reported by number and
reason without stopping the others; a re-run changes nothing; imported units leave the audit records,
events, history and stock counters units received through the API leave. SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from common import request_context
from common.audit import AuditRecord
from common.events import OutboxEvent
from common.uow import UnitOfWork
from oss.cpe import importer
from oss.cpe.models import CpeHistoryRow, CpeModelRow, CpeStockRow, CpeUnitRow
from server.cli import main
from server.db import make_session_factory

pytestmark = pytest.mark.integration

EXAMPLE = Path(__file__).resolve().parents[3] / "docs" / "examples" / "cpe-import.csv"
HEADER = ",".join(importer.COLUMNS)


@pytest.fixture
def factory(clean_db: Engine) -> sessionmaker[Session]:
    return make_session_factory(clean_db)


def run(factory: sessionmaker[Session], path: Path, **options: Any) -> importer.ImportSummary:
    with request_context.bind(request_id="req-import", actor="alice"):
        return importer.import_file(lambda: UnitOfWork(factory), path, **options)


def count(engine: Engine, model: Any) -> int:
    with engine.connect() as connection:
        return int(connection.scalar(select(func.count()).select_from(model)) or 0)


def stock(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        rows = connection.execute(select(CpeStockRow.warehouse_id, CpeModelRow.model, CpeStockRow.in_stock).join(
            CpeModelRow, CpeModelRow.id == CpeStockRow.model_id))  # fmt: skip
        return {f"{model}@{warehouse}": in_stock for warehouse, model, in_stock in rows}


def test_the_example_imports_and_a_rerun_changes_nothing(factory: sessionmaker[Session], clean_db: Engine) -> None:
    summary = run(factory, EXAMPLE, batch_size=2)
    assert (summary.lines, summary.models_created, summary.units_created, summary.units_unchanged) == (4, 2, 4, 0)
    assert summary.errors == []
    assert stock(clean_db) == {"HG-100@site-warehouse-1": 2, "HG-100@site-warehouse-2": 1, "ONT-2@site-warehouse-1": 1}
    with clean_db.connect() as connection:
        macs = dict(connection.execute(select(CpeUnitRow.serial, CpeUnitRow.mac)).all())
        audited = connection.scalar(
            select(func.count()).where(AuditRecord.entity_type == "cpeUnit", AuditRecord.actor == "alice")
        )
        created = connection.scalar(select(func.count()).where(OutboxEvent.event_type == "CpeUnitCreateEvent"))
        arrivals = connection.execute(select(CpeHistoryRow.to_state, CpeHistoryRow.actor)).all()
    assert macs["SN000003"] == "00:1a:2b:3c:4d:03"
    assert audited == 4 and created == 4
    assert sorted(arrivals) == [("inStock", "alice")] * 4

    before = {model.__tablename__: count(clean_db, model) for model in (CpeUnitRow, CpeModelRow, CpeHistoryRow)}
    events = count(clean_db, OutboxEvent)
    again = run(factory, EXAMPLE)
    assert (again.units_created, again.units_unchanged, again.models_created, again.errors) == (0, 4, 0, [])
    assert {model.__tablename__: count(clean_db, model) for model in (CpeUnitRow, CpeModelRow, CpeHistoryRow)} == before
    assert count(clean_db, OutboxEvent) == events
    assert stock(clean_db)["HG-100@site-warehouse-1"] == 2


def test_bad_lines_are_reported_by_number_and_the_others_written(
    factory: sessionmaker[Session], clean_db: Engine, tmp_path: Path
) -> None:
    run(factory, EXAMPLE)
    path = tmp_path / "units.csv"
    path.write_text(
        "\n".join(
            [
                HEADER,
                "Acme,HG-100,SN100001,02:00:00:00:01:01,wh-9",  # 2: fine
                "Acme,HG-100,SN100002,01:00:5e:00:00:01,wh-9",  # 3: multicast MAC
                "Acme,HG-100,S,02:00:00:00:01:03,wh-9",  # 4: bad serial
                "Acme,HG-100,SN100001,02:00:00:00:01:04,wh-9",  # 5: serial of line 2
                "Acme,HG-100,SN000001,02:00:00:00:01:05,wh-9",  # 6: serial exists with another MAC
                "Acme,HG-100,SN100006,00:1a:2b:3c:4d:01,wh-9",  # 7: MAC of SN000001
                "Acme,,SN100007,02:00:00:00:01:07,wh-9",  # 8: no model
                "Acme,HG-100,SN100008,02:00:00:00:01:08,wh-9",  # 9: fine
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    summary = run(factory, path, batch_size=3)
    assert summary.units_created == 2
    assert [error.line for error in summary.errors] == [3, 4, 5, 6, 7, 8]
    reasons = {error.line: error.reason for error in summary.errors}
    assert "multicast" in reasons[3] and "line 2" in reasons[5] and "SN000001" in reasons[7] and "model" in reasons[8]
    assert stock(clean_db)["HG-100@wh-9"] == 2


def test_the_cli_imports_and_exits_1_on_line_errors(
    clean_db: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    database_url: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    assert main(["cpe", "import", str(EXAMPLE), "--no-progress"]) == 0
    assert "units created:      4" in capsys.readouterr().out
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "\nAcme,HG-100,SN000001,02:00:00:00:09:09,wh-1\n", encoding="utf-8")
    assert main(["cpe", "import", str(bad), "--no-progress"]) == 1
    assert "line 2: serial SN000001 exists" in capsys.readouterr().out
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("serial,mac\n", encoding="utf-8")
    assert main(["cpe", "import", str(wrong), "--no-progress"]) == 2
