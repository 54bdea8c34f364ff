"""What migrations/env.py and the migration tests share: which tables are ours, how types render.

SpatiaLite and PostGIS keep their own bookkeeping tables (spatial_ref_sys, geometry_columns, SpatiaLite's
R*Tree index tables ``idx_<table>_<column>``, ...). ``include_object`` hides them, so that autogenerate and
the models-versus-migrations test see only our tables.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from geoalchemy2 import alembic_helpers
from sqlalchemy import JSON
from sqlalchemy.dialects.postgresql import JSONB

from common.orm import UTCDateTime

# geoalchemy2's hooks are untyped; typed aliases keep strict mypy happy without ignores.
_geo_include_object: Callable[..., Any] = alembic_helpers.include_object
_geo_render_item: Callable[..., Any] = alembic_helpers.render_item

# Tables the spatial extensions create and own: never ours to create, drop or diff.
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


def is_spatial_system_table(name: str | None) -> bool:
    return name is not None and (name in SPATIAL_SYSTEM_TABLES or name.startswith("idx_"))


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """alembic's ``include_object`` hook: skip the spatial extensions' tables found in the database."""
    if type_ == "table" and reflected and compare_to is None and is_spatial_system_table(name):
        return False
    return bool(_geo_include_object(obj, name, type_, reflected, compare_to))


def include_object_for(dialect_name: str) -> Callable[[Any, str | None, str, bool, Any], bool]:
    """``include_object`` that also leaves out model objects declared for another dialect only
    (``Index(...).ddl_if(dialect="postgresql")``, e.g. the JSONB GIN index), which the migration creates
    under the same condition. Caution: autogenerate on SQLite therefore omits them; the PostgreSQL
    migration test fails if a regenerated migration lost one."""

    def hook(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
        condition = getattr(obj, "_ddl_if", None)
        if not reflected and condition is not None and condition.dialect not in (None, dialect_name):
            return False
        return include_object(obj, name, type_, reflected, compare_to)

    return hook


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | Literal[False]:
    """Render our TypeDecorators as their database type, so that a migration never imports application code
    that may change after it was written; geometry types go through geoalchemy2's renderer."""
    if type_ == "exclude":
        return _postgresql_only_exclude_constraint(obj, autogen_context)
    if type_ == "type" and isinstance(obj, UTCDateTime):
        autogen_context.imports.add("import sqlalchemy as sa")
        return "sa.DateTime(timezone=True)"
    if type_ == "type" and isinstance(obj, JSON) and isinstance(_variants(obj).get("postgresql"), JSONB):
        # common.orm.JSONType. alembic would write JSONB(astext_type=Text()) without importing Text.
        autogen_context.imports.add("from sqlalchemy.dialects import postgresql")
        return 'sa.JSON().with_variant(postgresql.JSONB(), "postgresql")'
    rendered = _geo_render_item(type_, obj, autogen_context)
    return rendered if isinstance(rendered, str) else False


def _postgresql_only_exclude_constraint(constraint: Any, autogen_context: Any) -> str:
    """An exclusion constraint (PostgreSQL only; the models declare it ``.ddl_if(dialect="postgresql")``)
    renders inside its ``create_table`` with that condition, so the same migration still runs on SQLite.
    alembic renders table constraints inline, where ``include_object`` cannot leave them out, and from a copy
    of the table that has lost the model's ``ddl_if``: every ``ExcludeConstraint`` is PostgreSQL's."""
    from alembic.ddl.postgresql import _exclude_constraint  # alembic's own rendering, then the condition

    rendered: str = _exclude_constraint(constraint, autogen_context, False)
    return f'{rendered}.ddl_if(dialect="postgresql")'


def _variants(type_: Any) -> dict[str, Any]:
    return dict(getattr(type_, "_variant_mapping", {}) or {})


def migration_context_options(dialect_name: str) -> dict[str, Any]:
    """The comparison options env.py uses, for tests that call ``compare_metadata`` themselves."""
    return {"include_object": include_object_for(dialect_name), "compare_type": True, "render_as_batch": True}
