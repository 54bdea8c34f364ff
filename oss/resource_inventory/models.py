"""The ``resource`` table (TMF639 v4 Resource).

Attributes clients filter and sort on have their own indexed columns; the rest of the TMF document
(resourceCharacteristic, relatedParty, note, place, resourceSpecification, resourceRelationship, subtype
attributes such as ``value`` or ``serialNumber``) lives in ``document``: JSON on SQLite, JSONB on
PostgreSQL with a GIN ``jsonb_path_ops`` index so containment filters
(``?resourceCharacteristic.name=vlan``) are answered from the index.

``row_version`` is SQLAlchemy's optimistic version counter: an UPDATE that lost a race changes no row
and fails instead of silently overwriting.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from common.audit import Audited
from common.orm import Base, JSONType, UTCDateTime, id_column_type, new_id


class ResourceRow(Audited, Base):
    __tablename__ = "resource"
    __audit_entity_type__ = "resource"
    __table_args__ = (
        Index("ix_resource_created_at_id", "created_at", "id"),
        # The common TMF639 list (?category=..&resourceStatus=..) in its default order: X-Total-Count is
        # counted from this index alone and a page walks it in order, instead of visiting every row of
        # one status. It also serves ?category= alone, so category needs no index of its own.
        Index("ix_resource_category_resource_status_created_at_id", "category", "resource_status", "created_at", "id"),
        Index(
            "ix_resource_document_gin",
            "document",
            postgresql_using="gin",
            postgresql_ops={"document": "jsonb_path_ops"},
        ).ddl_if(dialect="postgresql"),
    )

    id: Mapped[str] = mapped_column(id_column_type(), primary_key=True, default=new_id)
    type: Mapped[str] = mapped_column("type", String(64), index=True)  # @type
    base_type: Mapped[str | None] = mapped_column(String(64))  # @baseType (none for @type Resource itself)
    name: Mapped[str] = mapped_column(String(255), index=True)
    category: Mapped[str | None] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    resource_status: Mapped[str | None] = mapped_column(String(16), index=True)
    usage_state: Mapped[str | None] = mapped_column(String(16), index=True)
    administrative_state: Mapped[str | None] = mapped_column(String(16), index=True)
    operational_state: Mapped[str | None] = mapped_column(String(16), index=True)
    start_operating_date: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    end_operating_date: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    resource_version: Mapped[str | None] = mapped_column(String(64))
    document: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict, server_default=text("'{}'"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    row_version: Mapped[int] = mapped_column(Integer, server_default=text("1"))

    __mapper_args__ = {"version_id_col": row_version}
