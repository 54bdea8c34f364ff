"""A list runs in a constant number of SQL statements and fetches no more rows than the page holds;
on PostgreSQL the JSON containment filter is answered from the GIN index."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, event, insert, text

from common.uow import UnitOfWork
from oss.resource_inventory import service
from oss.resource_inventory.models import ResourceRow
from server.db import make_session_factory

pytestmark = pytest.mark.integration

ROWS = 150


@pytest.fixture
def populated(clean_db: Engine) -> Engine:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    rows = [
        {
            "id": f"00000000-0000-0000-0000-{index:012d}",
            "type": "LogicalResource",
            "base_type": "Resource",
            "name": f"vlan-{index:03d}",
            "category": "vlan",
            "resource_status": "available" if index % 2 else "reserved",
            "start_operating_date": start + timedelta(days=index),
            "document": {"resourceCharacteristic": [{"name": "vlan", "value": index}]},
            "created_at": start,
            "updated_at": start,
        }
        for index in range(ROWS)
    ]
    with clean_db.begin() as connection:
        connection.execute(insert(ResourceRow), rows)
    return clean_db


class StatementLog:
    def __init__(self) -> None:
        self.statements: list[str] = []
        self.rows_loaded = 0


@pytest.fixture
def statement_log(populated: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[StatementLog]:
    log = StatementLog()

    def before_cursor_execute(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        log.statements.append(statement)

    # The list reads plain rows (no ORM instances): count every row the use case turns into a resource.
    read_data = service.read_data

    def counting_read_data(row: Any) -> Any:
        log.rows_loaded += 1
        return read_data(row)

    monkeypatch.setattr(service, "read_data", counting_read_data)
    event.listen(populated, "before_cursor_execute", before_cursor_execute)
    yield log
    event.remove(populated, "before_cursor_execute", before_cursor_execute)


def run_list(engine: Engine, log: StatementLog, query_string: str) -> tuple[int, int, int]:
    """(statements, rows loaded, items returned) for one list use case."""
    log.statements.clear()
    log.rows_loaded = 0
    page = service.list_resources(UnitOfWork(make_session_factory(engine)), service.parse_query(query_string))
    selects = [statement for statement in log.statements if statement.lstrip().upper().startswith("SELECT")]
    return len(selects), log.rows_loaded, page.count


@pytest.mark.parametrize(
    "filters",
    [
        "",
        "&resourceStatus=available&sort=-startOperatingDate",
        "&resourceCharacteristic.name=vlan&startOperatingDate.gt=2026-01-05",
    ],
)
def test_list_runs_a_constant_number_of_statements_whatever_the_page_size(
    populated: Engine, statement_log: StatementLog, filters: str
) -> None:
    small = run_list(populated, statement_log, f"limit=5{filters}")
    large = run_list(populated, statement_log, f"limit=100{filters}")
    assert small[0] == large[0] == 2  # count(*) + the page
    assert small[1] == small[2] == 5  # rows fetched == rows in the page
    assert large[1] == large[2] <= 100
    assert large[2] > 5


def test_page_query_limits_in_sql(populated: Engine, statement_log: StatementLog) -> None:
    run_list(populated, statement_log, "limit=7&offset=140")
    page_statement = statement_log.statements[-1].upper()
    assert "LIMIT" in page_statement and "OFFSET" in page_statement
    assert statement_log.rows_loaded <= 7


def test_json_filter_on_a_number_matches_in_sql(populated: Engine, statement_log: StatementLog) -> None:
    statements, loaded, returned = run_list(populated, statement_log, "resourceCharacteristic.value=42")
    assert (statements, loaded, returned) == (2, 1, 1)


@pytest.mark.pg
def test_jsonb_containment_filter_uses_the_gin_index(populated: Engine) -> None:
    query = service.parse_query("resourceCharacteristic.value=42")
    from sqlalchemy import select

    from common.tmf import where_clause

    statement = select(ResourceRow.id).where(where_clause(query))
    compiled = statement.compile(dialect=populated.dialect)
    with populated.begin() as connection:
        connection.execute(text("ANALYZE resource"))
        # 150 rows are cheaper to scan than to look up: forbid the sequential scan to see that the planner
        # *can* answer the filter from the index (with a million rows it chooses to).
        connection.execute(text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join(row[0] for row in connection.exec_driver_sql(f"EXPLAIN {compiled}", compiled.params))
    assert "ix_resource_document_gin" in plan, plan
    assert "@>" in plan


def test_json_and_column_filters_combine_with_sort(populated: Engine) -> None:
    page = service.list_resources(
        UnitOfWork(make_session_factory(populated)),
        service.parse_query("resourceCharacteristic.value=3,4,5&resourceStatus=available&sort=-name"),
    )
    assert [item.name for item in page.items] == ["vlan-005", "vlan-003"]
