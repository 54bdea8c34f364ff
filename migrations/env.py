"""alembic environment: one migration history for SQLite and PostgreSQL.

- The URL comes from ``DATABASE_URL`` through ``server.settings`` (default: the embedded SQLite file),
  unless the caller set ``sqlalchemy.url`` (``provisio db`` does) or passed a connection in
  ``config.attributes["connection"]`` (the tooling tests do).
- SQLite cannot ALTER most things: ``render_as_batch=True`` makes autogenerate write batch operations
  (copy-and-move) that run on both backends.
- SpatiaLite and PostGIS keep their own bookkeeping tables (spatial_ref_sys, geometry_columns, ...);
  ``include_object`` hides them from autogenerate so that a diff shows only our models.
"""

from __future__ import annotations

import logging
from logging.config import fileConfig
from typing import Any

from alembic import context
from geoalchemy2 import alembic_helpers
from sqlalchemy import Connection

from common.orm import UTCDateTime
from server.db import make_engine
from server.schema import load_all_models
from server.settings import Settings

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")

target_metadata = load_all_models()

# Tables that the spatial extensions create and own: never ours to create, drop or diff.
SPATIAL_SYSTEM_TABLES = frozenset(
    {
        # PostGIS
        "spatial_ref_sys", "geography_columns", "geometry_columns", "raster_columns", "raster_overviews",
        # SpatiaLite
        "spatialite_history", "sql_statements_log", "views_geometry_columns", "virts_geometry_columns",
        "geometry_columns_auth", "geometry_columns_field_infos", "geometry_columns_statistics",
        "geometry_columns_time", "views_geometry_columns_auth", "views_geometry_columns_field_infos",
        "views_geometry_columns_statistics", "virts_geometry_columns_auth", "virts_geometry_columns_field_infos",
        "virts_geometry_columns_statistics", "spatial_ref_sys_aux", "SpatialIndex", "ElementaryGeometries",
        "KNN", "KNN2", "data_licenses", "sqlite_sequence", "sqlite_stat1",
    }
)  # fmt: skip


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Hide the spatial extensions' own tables (and SpatiaLite's R*Tree index tables ``idx_<t>_<col>``)."""
    spatial_table = name is not None and (name in SPATIAL_SYSTEM_TABLES or name.startswith("idx_"))
    if type_ == "table" and reflected and compare_to is None and spatial_table:
        return False
    return bool(alembic_helpers.include_object(obj, name, type_, reflected, compare_to))


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    """Render our TypeDecorators as their database type, so that migrations never import application
    code that may change later; geometry types go through geoalchemy2's renderer."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        autogen_context.imports.add("import sqlalchemy as sa")
        return "sa.DateTime(timezone=True)"
    rendered: str | bool = alembic_helpers.render_item(type_, obj, autogen_context)
    return rendered


def configure_and_run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        include_object=include_object,
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
        include_object=include_object,
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
