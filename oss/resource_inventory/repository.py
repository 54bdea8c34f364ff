"""Queries on the ``resource`` table. Never commits (the use case does).

``RESOURCE_QUERY`` declares, once, which TMF attributes a list can filter and sort on and where each
lives; ``common.tmf`` turns a query string into SQL from it. A list is two statements whatever the page
size: ``count(*)`` for X-Total-Count and the page itself with LIMIT/OFFSET.

``find`` (GET by id) and ``list`` select plain rows, not ORM instances: a read changes nothing, so identity-map
bookkeeping, instance state and its expiry on rollback would be pure overhead (measured: about a sixth of
the request's CPU time), and they run on the session's connection, past the ORM's execution layer (a
further sixth of a 100-row list). Writes load ORM instances (``get_for_update``) so that flushes are versioned and
audited.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Table, bindparam, select
from sqlalchemy.orm import Session

from common import tmf
from common.prepared import PreparedSelect, prepared
from common.tmf import DATETIME, column, enum_of, json_array, json_object, json_value
from common.uow import Reads
from oss.resource_inventory.domain import register_builtin_types
from oss.resource_inventory.models import ResourceRow

SPEC = Path(__file__).resolve().parents[2] / "openapi" / "resource_inventory.yaml"
# TMF639's own types, with the attributes their served (closed) create schemas declare.
register_builtin_types(lambda schema: tmf.schema_members(SPEC, schema).members)
_DOC = ResourceRow.document
_TABLE: Table = ResourceRow.__table__  # type: ignore[assignment]
_BY_ID = select(_TABLE).where(_TABLE.c.id == bindparam("resource_id"))

RESOURCE_QUERY = tmf.QuerySpec(
    attributes=(
        column("id", ResourceRow.id),
        column("name", ResourceRow.name),
        column("@type", ResourceRow.type),
        column("@baseType", ResourceRow.base_type),
        column("category", ResourceRow.category),
        column("description", ResourceRow.description),
        column("resourceVersion", ResourceRow.resource_version),
        column("resourceStatus", ResourceRow.resource_status, enum_of(*tmf.component_enum(SPEC, "ResourceStatusType"))),
        column("usageState", ResourceRow.usage_state, enum_of(*tmf.component_enum(SPEC, "ResourceUsageStateType"))),
        column(
            "administrativeState",
            ResourceRow.administrative_state,
            enum_of(*tmf.component_enum(SPEC, "ResourceAdministrativeStateType")),
        ),
        column(
            "operationalState",
            ResourceRow.operational_state,
            enum_of(*tmf.component_enum(SPEC, "ResourceOperationalStateType")),
        ),
        column("startOperatingDate", ResourceRow.start_operating_date, DATETIME),
        column("endOperatingDate", ResourceRow.end_operating_date, DATETIME),
        *json_array(_DOC, "resourceCharacteristic", "id", "name", "value", "valueType", "@type"),
        *json_array(_DOC, "relatedParty", "id", "name", "role", "@referredType", "@type"),
        *json_array(_DOC, "note", "id", "author", "text", "date"),
        *json_array(
            _DOC, "resourceRelationship", "id", "relationshipType", "resource.id", "resource.name", "resource.@type"
        ),
        *json_array(_DOC, "activationFeature", "id", "name", "isEnabled"),
        *json_array(_DOC, "attachment", "id", "name", "attachmentType", "mimeType"),
        *json_object(_DOC, "resourceSpecification", "id", "name", "version", "@referredType"),
        *json_object(_DOC, "place", "id", "name", "role", "@referredType"),
        json_value(_DOC, "@schemaLocation"),
        # Subtype attributes (TMF639 LogicalResource / PhysicalResource).
        json_value(_DOC, "value"),
        json_value(_DOC, "serialNumber"),
        json_value(_DOC, "versionNumber"),
        json_value(_DOC, "powerState"),
    ),
    default_order=(ResourceRow.created_at,),
    tiebreaker=ResourceRow.id,
    # What ``fields=`` may name: the members of the served Resource schemas (base class and subclasses).
    members=tmf.schema_members(SPEC, "Resource", "LogicalResource", "PhysicalResource"),
)


# Count and page statements per list shape, built once (common.tmf.ListStatements).
_LISTS = tmf.ListStatements(_TABLE, RESOURCE_QUERY)


_FIND = PreparedSelect(_BY_ID)


def find_row(reads: Reads, resource_id: str) -> tuple[Any, ...] | None:
    """The row's values in ``ResourceRow``'s column order, for reading only: run on the driver's cursor of
    any unit of work (``common.prepared``), so a read-only one needs neither a session nor a Connection."""
    return _FIND.first(reads, {"resource_id": resource_id})


class ResourceRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get_for_update(self, resource_id: str) -> ResourceRow | None:
        """The row, locked until the transaction ends (``FOR UPDATE`` on PostgreSQL; SQLite's
        ``BEGIN IMMEDIATE`` already serialises writers)."""
        return self.session.get(ResourceRow, resource_id, with_for_update=True)

    def add(self, row: ResourceRow) -> None:
        self.session.add(row)

    def delete(self, row: ResourceRow) -> None:
        self.session.delete(row)


def list_rows(reads: Reads, query: tmf.ListQuery) -> tuple[list[tuple[Any, ...]], int]:
    """One page of rows matching ``query`` (values as ``find_row``'s) and the number of all matching rows
    (two statements), on the driver's cursor of any unit of work with a Connection (``common.prepared``;
    a statement with an expanding IN list goes through SQLAlchemy's execute on that Connection)."""
    count, page, params = _LISTS.for_query(query)
    total = prepared(count).scalar(reads, params) or 0
    if query.limit == 0 or query.offset >= total:
        return [], total
    return prepared(page).all(reads, params), total
