"""The migrations build exactly the schema the models describe, on SQLite and on PostgreSQL, and undo it.

The test database fixtures build the schema with ``metadata.create_all`` for speed; these tests are what
makes that shortcut safe: a model change without a migration (or the reverse) fails here.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text
from sqlalchemy.engine import make_url

from server.alembic_support import is_spatial_system_table, migration_context_options
from server.cli import alembic_config, db_create
from server.db import make_engine
from server.schema import load_all_models


def _config(url: str) -> Any:
    config = alembic_config(url)
    config.attributes["configure_logger"] = False  # keep pytest's logging set-up
    return config


def _diff(engine: Engine) -> list[Any]:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts=migration_context_options(engine.dialect.name))
        return list(compare_metadata(context, load_all_models()))


def _our_tables(engine: Engine) -> set[str]:
    return {name for name in inspect(engine).get_table_names() if not is_spatial_system_table(name)}


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'migrations.db'}"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A database of its own next to DATABASE_URL's, so the suite's schema there stays untouched."""
    base = make_url(os.environ["DATABASE_URL"])
    url = base.set(database=f"{base.database}_mig_{uuid.uuid4().hex[:8]}")
    text_url = url.render_as_string(hide_password=False)
    db_create(text_url, recreate=True)
    yield text_url
    admin = make_engine(
        base.set(database="postgres").render_as_string(hide_password=False), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
    admin.dispose()


def _assert_head_matches_models(url: str) -> None:
    command.upgrade(_config(url), "head")
    engine = make_engine(url)
    try:
        assert _diff(engine) == []
    finally:
        engine.dispose()


def _assert_round_trip(url: str) -> None:
    config = _config(url)
    command.upgrade(config, "head")
    engine = make_engine(url)
    try:
        assert _our_tables(engine) >= {table for table in load_all_models().tables}
        command.downgrade(config, "base")
        assert _our_tables(engine) <= {"alembic_version"}
        command.upgrade(config, "head")  # and back up again: downgrade left nothing in the way
        assert _diff(engine) == []
    finally:
        engine.dispose()


def test_history_has_one_head_and_one_base() -> None:
    script = ScriptDirectory.from_config(_config("sqlite://"))
    assert len(script.get_heads()) == 1
    assert len(script.get_bases()) == 1


def test_head_migration_matches_models_on_sqlite(sqlite_url: str) -> None:
    _assert_head_matches_models(sqlite_url)


def test_upgrade_then_downgrade_to_base_on_sqlite(sqlite_url: str) -> None:
    _assert_round_trip(sqlite_url)


def test_diff_reports_a_table_missing_from_migrations_on_sqlite(sqlite_url: str) -> None:
    """The comparison itself works: a database at base (no tables) differs from the models."""
    command.upgrade(_config(sqlite_url), "head")
    command.downgrade(_config(sqlite_url), "base")
    engine = make_engine(sqlite_url)
    try:
        missing = {op[1].name for op in _diff(engine) if isinstance(op, tuple) and op[0] == "add_table"}
    finally:
        engine.dispose()
    assert missing == set(load_all_models().tables)


@pytest.mark.pg
def test_head_migration_matches_models_on_postgresql(postgres_url: str) -> None:
    _assert_head_matches_models(postgres_url)


@pytest.mark.pg
def test_upgrade_then_downgrade_to_base_on_postgresql(postgres_url: str) -> None:
    _assert_round_trip(postgres_url)
