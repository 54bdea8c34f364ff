"""Handlers of ``openapi/audit.yaml`` (served at ``/provisio/audit/v1``): the audit trail and the event
operations (hub listeners, deliveries, dead letters and redelivery).

Lists answer 200 with ``X-Total-Count`` / ``X-Result-Count`` (TMF630 paging), newest first. The audit
list reuses the TMF630 query behaviours of ``common.tmf`` (filters, operators, sort, fields, paging);
the event lists are small fixed queries (exact-match filters, offset/limit).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from common import clock, request_context, tmf
from common.audit import AuditRecord
from common.errors import NotFound
from common.events import EventSubscription
from server import deps, dispatcher
from server.responses import paging_headers, raw_query_string

BASE_PATH = "/provisio/audit/v1"
DEFAULT_LIMIT = 100

Headers = dict[str, str]


class AuditRecordNotFound(NotFound):
    code = "AUDIT_RECORD_NOT_FOUND"


_AUDIT = AuditRecord.__table__
AUDIT_QUERY = tmf.QuerySpec(
    attributes=(
        tmf.column("entityType", _AUDIT.c.entity_type),
        tmf.column("entityId", _AUDIT.c.entity_id),
        tmf.column("actor", _AUDIT.c.actor),
        tmf.column("requestId", _AUDIT.c.request_id),
        tmf.column("action", _AUDIT.c.action, kind=tmf.enum_of("create", "update", "delete")),
        tmf.column("recordedAt", _AUDIT.c.recorded_at, kind=tmf.DATETIME),
    ),
    tiebreaker=_AUDIT.c.id,
)


def list_audit_record(**_declared: Any) -> tuple[list[dict[str, Any]], int, Headers]:
    """Newest first unless ``sort`` says otherwise; TMF630 filters (``actor=alice``,
    ``recordedAt.gte=...``) and paging come from ``common.tmf``, parsed from the raw query string."""
    query = tmf.parse_list_query(raw_query_string(), AUDIT_QUERY)
    condition = tmf.where_clause(query)
    ordering = tmf.order_by(query, AUDIT_QUERY) if query.sort else [AuditRecord.id.desc()]
    with deps.uow(read_only=True) as tx:
        total = tx.session.execute(select(func.count()).select_from(AuditRecord).where(condition)).scalar_one()
        records = (
            tx.session.execute(
                select(AuditRecord).where(condition).order_by(*ordering).offset(query.offset).limit(query.limit)
            )
            .scalars()
            .all()
        )
        body = [tmf.project(audit_record_json(record), query.fields) for record in records]
    return body, 200, paging_headers(total, len(body))


def retrieve_audit_record(id: str) -> dict[str, Any]:
    record_id = _as_int(id)
    with deps.uow(read_only=True) as tx:
        record = tx.session.get(AuditRecord, record_id) if record_id is not None else None
        if record is None:
            raise AuditRecordNotFound(f"No audit record with id {id}.")
        return audit_record_json(record)


def list_event_subscription(
    api: str | None = None, offset: int = 0, limit: int = DEFAULT_LIMIT
) -> tuple[list[dict[str, Any]], int, Headers]:
    conditions = [EventSubscription.api == api] if api else []
    with deps.uow(read_only=True) as tx:
        total = tx.session.execute(select(func.count()).select_from(EventSubscription).where(*conditions)).scalar_one()
        rows = (
            tx.session.execute(
                select(EventSubscription)
                .where(*conditions)
                .order_by(EventSubscription.created_at.desc(), EventSubscription.id)
                .offset(offset)
                .limit(limit)
            )
            .scalars()
            .all()
        )
        body = [
            {
                "id": row.id,
                "api": row.api,
                "callback": row.callback,
                "query": row.query,
                "createdAt": clock.isoformat(row.created_at),
                "createdBy": row.created_by,
            }
            for row in rows
        ]
    return body, 200, paging_headers(total, len(body))


def list_event_delivery(
    state: str | None = None,
    subscriptionId: str | None = None,
    eventId: str | None = None,
    consumer: str | None = None,
    offset: int = 0,
    limit: int = DEFAULT_LIMIT,
) -> tuple[list[dict[str, Any]], int, Headers]:
    with deps.uow(read_only=True) as tx:
        body, total = dispatcher.list_deliveries(
            tx.session,
            state=state,
            subscription_id=subscriptionId,
            event_id=eventId,
            consumer=consumer,
            offset=offset,
            limit=limit,
        )
    return body, 200, paging_headers(total, len(body))


def redeliver_event_delivery(id: str) -> dict[str, Any]:
    delivery_id = _as_int(id)
    if delivery_id is None:
        raise dispatcher.DeliveryNotFound(f"No event delivery with id {id}.")
    with deps.uow() as tx:
        body = dispatcher.redeliver(tx.session, delivery_id)
        tx.commit()
    return body


def audit_record_json(record: AuditRecord) -> dict[str, Any]:
    return {
        "id": str(record.id),
        "href": f"{request_context.current().base_url}{BASE_PATH}/auditRecord/{record.id}",
        "@type": "AuditRecord",
        "recordedAt": clock.isoformat(record.recorded_at),
        "actor": record.actor,
        "requestId": record.request_id,
        "entityType": record.entity_type,
        "entityId": record.entity_id,
        "action": record.action,
        "before": record.before,
        "after": record.after,
    }


def _as_int(text: str) -> int | None:
    return int(text) if text.isdigit() and len(text) < 19 else None
