"""Catalog tables: one per TMF catalog entity (same columns), and one table of every version of each.

Attributes clients filter and sort on have their own columns; the rest of the TMF document lives in
``document`` (JSON). ``catalog_version`` keeps the document of every version an entity ever had, so an order
item that pinned ``(id, version)`` reads exactly what was sold after the catalog moved on.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from common.audit import Audited
from common.orm import Base, JSONType, UTCDateTime, id_column_type, new_id

VERSION_UNIQUE_CONSTRAINT = "uq_catalog_version_entity_id_version"


class _CatalogEntity(Audited):
    id: Mapped[str] = mapped_column(id_column_type(), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(255), index=True)
    version: Mapped[str] = mapped_column(String(32))
    lifecycle_status: Mapped[str] = mapped_column(String(32), index=True)
    last_update: Mapped[datetime] = mapped_column(UTCDateTime)
    document: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict, server_default=text("'{}'"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    row_version: Mapped[int] = mapped_column(Integer, server_default=text("1"))

    @declared_attr.directive
    def __table_args__(cls) -> tuple[Any, ...]:
        return (Index(f"ix_{cls.__tablename__}_created_at_id", "created_at", "id"),)  # type: ignore[attr-defined]

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        return {"version_id_col": cls.row_version}


class ProductSpecificationRow(_CatalogEntity, Base):
    __tablename__ = "product_specification"
    __audit_entity_type__ = "productSpecification"


class ProductOfferingRow(_CatalogEntity, Base):
    __tablename__ = "product_offering"
    __audit_entity_type__ = "productOffering"


class ProductOfferingPriceRow(_CatalogEntity, Base):
    __tablename__ = "product_offering_price"
    __audit_entity_type__ = "productOfferingPrice"


class ServiceSpecificationRow(_CatalogEntity, Base):
    __tablename__ = "service_specification"
    __audit_entity_type__ = "serviceSpecification"


class ResourceSpecificationRow(_CatalogEntity, Base):
    __tablename__ = "resource_specification"
    __audit_entity_type__ = "resourceSpecification"


class CatalogVersionRow(Audited, Base):
    """One version of one catalog entity, as it was when that version was current (never changed)."""

    __tablename__ = "catalog_version"
    __audit_entity_type__ = "catalogVersion"
    __table_args__ = (UniqueConstraint("entity_id", "version", name=VERSION_UNIQUE_CONSTRAINT),)

    id: Mapped[str] = mapped_column(id_column_type(), primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(32))  # the TMF collection: productOffering, ...
    entity_id: Mapped[str] = mapped_column(id_column_type(), index=True)
    version: Mapped[str] = mapped_column(String(32))
    document: Mapped[dict[str, Any]] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


# The mapped class of each collection (typed loosely: the shared columns come from the mixin).
ROWS: dict[str, type[Any]] = {
    "productSpecification": ProductSpecificationRow,
    "productOffering": ProductOfferingRow,
    "productOfferingPrice": ProductOfferingPriceRow,
    "serviceSpecification": ServiceSpecificationRow,
    "resourceSpecification": ResourceSpecificationRow,
}
