"""Queries on the catalog tables. Never commits (the use case does).

One ``QuerySpec`` per entity kind declares which TMF attributes a list filters and sorts on and what
``fields=`` may name (the served schemas' members).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Row, Table, select
from sqlalchemy.orm import Session

from bss.catalog.domain import KINDS, LIFECYCLE_STATUSES, PRODUCT_CATALOG, RESOURCE_CATALOG, SERVICE_CATALOG
from bss.catalog.models import ROWS, CatalogVersionRow
from common import tmf
from common.tmf import DATETIME, column, enum_of, json_array, json_object, json_value

OPENAPI = Path(__file__).resolve().parents[2] / "openapi"
SPECS = {
    PRODUCT_CATALOG: OPENAPI / "product_catalog.yaml",
    SERVICE_CATALOG: OPENAPI / "service_catalog.yaml",
    RESOURCE_CATALOG: OPENAPI / "resource_catalog.yaml",
}

_EXTRA: dict[str, tuple[Any, ...]] = {}


def _query_spec(collection: str) -> tmf.QuerySpec:
    kind = KINDS[collection]
    row = ROWS[collection]
    table: Table = row.__table__
    doc = table.c.document
    extra: list[Any] = []
    if collection == "productOffering":
        extra += [*json_object(doc, "productSpecification", "id", "name", "version"), json_value(doc, "isSellable"),
                  *json_array(doc, "productOfferingPrice", "id", "name")]  # fmt: skip
    elif collection == "productOfferingPrice":
        extra += [json_value(doc, "priceType"), *json_object(doc, "price", "unit", "value")]
    elif collection == "productSpecification":
        extra += [json_value(doc, "brand"), json_value(doc, "productNumber"),
                  *json_array(doc, "serviceSpecification", "id", "name")]  # fmt: skip
    elif collection == "serviceSpecification":
        extra += [*json_array(doc, "resourceSpecification", "id", "name")]
    elif collection == "resourceSpecification":
        extra += [json_value(doc, "category")]
    return tmf.QuerySpec(
        attributes=(
            column("id", table.c.id),
            column("name", table.c.name),
            column("version", table.c.version),
            column("lifecycleStatus", table.c.lifecycle_status, enum_of(*LIFECYCLE_STATUSES)),
            column("lastUpdate", table.c.last_update, DATETIME),
            json_value(doc, "description"),
            json_value(doc, "isBundle"),
            *extra,
        ),
        default_order=(table.c.created_at,),
        tiebreaker=table.c.id,
        members=tmf.schema_members(SPECS[kind.api], kind.type),
    )


QUERIES: dict[str, tmf.QuerySpec] = {collection: _query_spec(collection) for collection in KINDS}
_LISTS = {collection: tmf.ListStatements(ROWS[collection].__table__, QUERIES[collection]) for collection in KINDS}


def list_page(session: Session, collection: str, query: tmf.ListQuery) -> tuple[list[Row[Any]], int]:
    count, page, params = _LISTS[collection].for_query(query)
    connection = session.connection()
    total = connection.scalar(count, params) or 0
    if query.limit == 0 or query.offset >= total:
        return [], total
    return list(connection.execute(page, params)), total


def get(session: Session, collection: str, entity_id: str, *, for_update: bool = False) -> Any:
    return session.get(ROWS[collection], entity_id, with_for_update=for_update)


def find_version(session: Session, entity_id: str, version: str | None) -> CatalogVersionRow | None:
    """The entity's version ``version``, or its latest version when ``version`` is None."""
    statement = select(CatalogVersionRow).where(CatalogVersionRow.entity_id == entity_id)
    if version is not None:
        statement = statement.where(CatalogVersionRow.version == version)
    else:
        statement = statement.order_by(CatalogVersionRow.created_at.desc(), CatalogVersionRow.id.desc())
    return session.scalars(statement.limit(1)).first()


def versions_of(session: Session, entity_id: str) -> list[CatalogVersionRow]:
    statement = select(CatalogVersionRow).where(CatalogVersionRow.entity_id == entity_id)
    return list(session.scalars(statement.order_by(CatalogVersionRow.created_at, CatalogVersionRow.id)))


def find_by_name(session: Session, collection: str, name: str) -> Any:
    row = ROWS[collection]
    return session.scalars(select(row).where(row.name == name).order_by(row.created_at, row.id).limit(1)).first()
