"""``provisio numbers import`` (issue 16 "Import"): blocks, assignments and ported numbers from a CSV; a bad
line is reported with its number and reason and stops nothing; a re-run changes nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from oss.number_pool.importer import import_rows, read_rows
from oss.number_pool.models import NumberHistoryRow
from oss.resource_inventory.models import ResourceRow
from tests.integration.number_pool.helpers_pool import states, uow_factory

pytestmark = pytest.mark.integration

CSV = """kind,pool,first,last,number,customerId,serviceId
block,London 020,+442079460000,+442079460999,,,
assignment,London 020,,,+442079460123,cust-1,svc-1
assignment,London 020,,,+442079460124,cust-1,svc-2
block,London 020,+442079460500,+442079461500,,,
ported,London 020,,,+442079471234,cust-2,svc-3
assignment,London 020,,,+4420,cust-3,svc-4
bogus,London 020,,,,,
"""


def _write(tmp_path: Path) -> Path:
    path = tmp_path / "numbers.csv"
    path.write_text(CSV, encoding="utf-8")
    return path


def _count(engine: Engine, model: type) -> int:
    with engine.connect() as connection:
        return int(connection.scalar(select(func.count()).select_from(model)) or 0)


def test_import_reports_bad_lines_and_a_rerun_changes_nothing(clean_db: Engine, tmp_path: Path) -> None:
    path = _write(tmp_path)
    first = import_rows(uow_factory(clean_db), read_rows(path))
    assert dict(first.counts) == {"blocks": 1, "assigned": 2, "ported": 1}
    assert [line for line, _ in first.errors] == [5, 7, 8]
    assert "overlaps" in first.errors[0][1] and "+4420" in first.errors[1][1]
    history, resources = _count(clean_db, NumberHistoryRow), _count(clean_db, ResourceRow)
    assert resources == 3
    again = import_rows(uow_factory(clean_db), read_rows(path))
    assert dict(again.counts) == {"unchanged": 4} and len(again.errors) == 3
    assert (_count(clean_db, NumberHistoryRow), _count(clean_db, ResourceRow)) == (history, resources)
    with uow_factory(clean_db)() as tx:
        from oss.number_pool.models import NumberPoolRow

        pool_id = tx.session.execute(select(NumberPoolRow.id)).scalar_one()
    assert states(clean_db, pool_id) == {"assigned": 3}


def test_the_command_prints_a_summary_and_exits_1_on_bad_lines(
    clean_db: Engine, tmp_path: Path, database_url: str
) -> None:
    path = _write(tmp_path)
    env = {**os.environ, "DATABASE_URL": database_url, "PROVISIO_DATA_DIR": str(tmp_path / "data")}
    done = subprocess.run(
        [sys.executable, "-m", "server.cli", "numbers", "import", str(path)],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert "line 5:" in done.stdout and "line 8:" in done.stdout
    assert "numbers.csv: 7 line(s): assigned 2, blocks 1, ported 1; errors 3" in done.stdout
