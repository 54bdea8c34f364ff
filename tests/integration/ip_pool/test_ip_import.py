"""``provisio ip import`` (issue 17): prefixes, addresses and VLANs from a CSV file through the set-wise write
path; bad lines reported by number and reason; a re-run changes nothing; imported addresses are carved out
of the free blocks exactly as allocated ones, with their TMF639 rows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from common import request_context
from common.uow import UnitOfWork
from oss.ip_pool import importer, service
from oss.ip_pool.models import IpAddressRow, IpPrefixRow, VlanRow
from oss.resource_inventory.models import ResourceRow
from server.db import make_session_factory

pytestmark = pytest.mark.integration

HEADER = ",".join(importer.COLUMNS)


@pytest.fixture
def factory(clean_db: Engine) -> sessionmaker[Session]:
    return make_session_factory(clean_db)


def run(factory: sessionmaker[Session], path: Path, **options: Any) -> importer.ImportSummary:
    with request_context.bind(request_id="req-import", actor="alice"):
        return importer.import_file(lambda: UnitOfWork(factory), path, **options)


def write(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "ip.csv"
    path.write_text("\n".join([HEADER, *lines]) + "\n", encoding="utf-8")
    return path


def count(factory: sessionmaker[Session], model: type, *where: Any) -> int:
    with factory() as session, session.begin():
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


LINES = (
    "prefix,192.0.2.0/26,,,,,,,,",
    "prefix,192.0.2.0/24,,,,,,,,",
    "address,192.0.2.1/26,,active,gateway,gw.example.net,if-1,,,",
    "address,192.0.2.130/24,,,,,,,,",
    "address,192.0.2.131/24,,,,,,,,",
    "address,203.0.113.9/24,,,,,,,,",
    "address,not-an-ip,,,,,,,,",
    "vlan,100,,,,,,,,site-1",
    "vlan,101,,,,,,,,site-1",
    "vlan,5000,,,,,,,,site-1",
    "ipv9,1,,,,,,,,",
)


def test_import_then_rerun_changes_nothing(factory: sessionmaker[Session], tmp_path: Path) -> None:
    path = write(tmp_path, *LINES)
    summary = run(factory, path, batch_size=2)
    assert summary.created == {"prefix": 2, "address": 3, "vlan": 2}
    assert [error.line for error in summary.errors] == [7, 8, 11, 12]
    assert count(factory, ResourceRow, ResourceRow.type == "IpAddress") == 3
    assert count(factory, ResourceRow, ResourceRow.type == "Vlan") == 2
    assert count(factory, ResourceRow, ResourceRow.type == "IpPrefix") == 2
    again = run(factory, path)
    assert again.created == {"prefix": 0, "address": 0, "vlan": 0}
    assert again.unchanged == 7
    assert count(factory, IpAddressRow) == 3
    assert count(factory, VlanRow) == 2
    # The imported addresses are no longer free: next-available skips them.
    with factory() as session, session.begin():
        big = session.execute(select(IpPrefixRow).where(IpPrefixRow.prefix == "192.0.2.0/24")).scalar_one()
        small = session.execute(select(IpPrefixRow).where(IpPrefixRow.prefix == "192.0.2.0/26")).scalar_one()
        assert small.parent_id == big.id
        preview = service.preview_addresses_in(session, big.id, 3)
        assert preview == ["192.0.2.64/24", "192.0.2.65/24", "192.0.2.66/24"]
        assert service.preview_addresses_in(session, small.id, 1) == ["192.0.2.2/26"]


def test_the_cli_prints_a_summary_and_the_bad_lines(
    factory: sessionmaker[Session],
    tmp_path: Path,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from server.cli import main

    monkeypatch.setenv("DATABASE_URL", database_url)
    path = write(
        tmp_path, "prefix,198.51.100.0/24,,,,,,,,", "address,198.51.100.7/24,,,,,,,,", "address,1.2.3.4,,,,,,,,"
    )
    assert main(["ip", "import", str(path), "--no-progress"]) == 1
    out = capsys.readouterr().out
    assert "addresses created: 1" in out and "line 4: " in out
    assert main(["ip", "import", str(path)]) == 1
    assert "unchanged: 2" in capsys.readouterr().out
    assert main(["ip", "import", str(tmp_path / "missing.csv")]) == 2


def test_the_example_file_imports_cleanly(factory: sessionmaker[Session]) -> None:
    example = Path(__file__).resolve().parents[3] / "docs" / "examples" / "ip-import.csv"
    summary = run(factory, example)
    assert summary.errors == []
    assert summary.created == {"prefix": 3, "address": 3, "vlan": 2}
