"""alembic environment: one migration history for SQLite and PostgreSQL.

- The URL comes from ``DATABASE_URL`` through ``server.settings`` (default: the embedded SQLite file),
  unless the caller set ``sqlalchemy.url`` (``provisio db`` does) or passed a connection in
  ``config.attributes["connection"]`` (for callers that hold one already).
- SQLite cannot ALTER most things: ``render_as_batch=True`` makes autogenerate write batch operations
  (copy-and-move) that run on both backends.
- SpatiaLite and PostGIS keep their own bookkeeping tables (spatial_ref_sys, geometry_columns, ...);
  ``include_object`` hides them from autogenerate so that a diff shows only our models.
"""

from __future__ import annotations

import logging
from logging.config import fileConfig

from alembic import context
from geoalchemy2 import alembic_helpers
from sqlalchemy import Connection
from sqlalchemy.engine import make_url

from server.alembic_support import include_object_for, render_item
from server.db import make_engine
from server.schema import load_all_models
from server.settings import Settings

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")

target_metadata = load_all_models()


def configure_and_run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        include_object=include_object_for(connection.dialect.name),
        render_item=render_item,
        process_revision_directives=alembic_helpers.writer,
        compare_type=True,
        user_module_prefix="sa.",
    )
    with context.begin_transaction():
        context.run_migrations()


def database_url() -> str:
    return config.get_main_option("sqlalchemy.url") or Settings.from_env().database_url


def run_migrations_offline() -> None:
    """``alembic upgrade --sql``: print the SQL instead of running it."""
    context.configure(
        url=database_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
        include_object=include_object_for(make_url(database_url()).get_backend_name()),
        render_item=render_item,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        configure_and_run(connection)
        return
    engine = make_engine(database_url())
    try:
        with engine.connect() as connection:
            configure_and_run(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
