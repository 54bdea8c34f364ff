"""Handlers of ``openapi/audit.yaml`` (served at ``/provisio/audit/v1``): the audit trail, the event
operations (hub listeners, deliveries, dead letters and redelivery) and the durable-step kernel's
(``common.steps``: steps, sweepers, the retry of a dead step).

Lists answer 200 with ``X-Total-Count`` / ``X-Result-Count`` (TMF630 paging), newest first. Every list
(audit records, event subscriptions, event deliveries) is parsed by ``common.tmf.parse_list_query`` from
the raw query string, exactly as TMF639's: filters with operators, ``sort``, ``fields`` checked against the
served schema, paging, and the same 400 for an unknown name, a repeated ``limit`` or a broken escape.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from common import clock, request_context, steps, tmf
from common.audit import AuditRecord
from common.errors import NotFound
from common.events import DELIVERY_STATES, EventDelivery, EventSubscription, OutboxEvent
from common.redaction import redact_url
from server import deps, dispatcher
from server.responses import paging_headers, raw_query_string

BASE_PATH = "/provisio/audit/v1"
SPEC = Path(__file__).resolve().parent.parent / "openapi" / "audit.yaml"

Headers = dict[str, str]


class AuditRecordNotFound(NotFound):
    code = "AUDIT_RECORD_NOT_FOUND"


class EventSubscriptionNotFound(NotFound):
    code = "SUBSCRIPTION_NOT_FOUND"


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
    members=tmf.schema_members(SPEC, "AuditRecord"),
)
_SUBSCRIPTION = EventSubscription.__table__
SUBSCRIPTION_QUERY = tmf.QuerySpec(
    attributes=(
        tmf.column("id", _SUBSCRIPTION.c.id),
        tmf.column("api", _SUBSCRIPTION.c.api),
        tmf.column("callback", _SUBSCRIPTION.c.callback_shown),
        tmf.column("createdAt", _SUBSCRIPTION.c.created_at, kind=tmf.DATETIME),
        tmf.column("createdBy", _SUBSCRIPTION.c.created_by),
    ),
    tiebreaker=_SUBSCRIPTION.c.id,
    members=tmf.schema_members(SPEC, "EventSubscriptionView"),
)
_DELIVERY, _EVENT = EventDelivery.__table__, OutboxEvent.__table__
DELIVERY_QUERY = tmf.QuerySpec(
    attributes=(
        tmf.column("id", _DELIVERY.c.id, kind=tmf.INTEGER),
        tmf.column("state", _DELIVERY.c.state, kind=tmf.enum_of(*DELIVERY_STATES)),
        tmf.column("attempts", _DELIVERY.c.attempts, kind=tmf.INTEGER),
        tmf.column("subscriptionId", _DELIVERY.c.subscription_id),
        tmf.column("consumer", _DELIVERY.c.consumer),
        tmf.column("eventId", _EVENT.c.event_id),
        tmf.column("eventType", _EVENT.c.event_type),
        tmf.column("api", _EVENT.c.api),
        tmf.column("createdAt", _DELIVERY.c.created_at, kind=tmf.DATETIME),
        tmf.column("nextAttemptAt", _DELIVERY.c.next_attempt_at, kind=tmf.DATETIME),
        tmf.column("lastAttemptAt", _DELIVERY.c.last_attempt_at, kind=tmf.DATETIME),
        tmf.column("lastStatus", _DELIVERY.c.last_status, kind=tmf.INTEGER),
        tmf.column("deliveredAt", _DELIVERY.c.delivered_at, kind=tmf.DATETIME),
    ),
    tiebreaker=_DELIVERY.c.id,
    members=tmf.schema_members(SPEC, "EventDelivery"),
)

_STEP = steps.DurableStep.__table__
STEP_QUERY = tmf.QuerySpec(
    attributes=(
        tmf.column("id", _STEP.c.id),
        tmf.column("kind", _STEP.c.kind),
        tmf.column("key", _STEP.c.key),
        tmf.column("state", _STEP.c.state, kind=tmf.enum_of(*steps.STEP_STATES)),
        tmf.column("dueAt", _STEP.c.due_at, kind=tmf.DATETIME),
        tmf.column("attempts", _STEP.c.attempts, kind=tmf.INTEGER),
        tmf.column("failures", _STEP.c.failures, kind=tmf.INTEGER),
        tmf.column("claimedBy", _STEP.c.claimed_by),
        tmf.column("lastAttemptAt", _STEP.c.last_attempt_at, kind=tmf.DATETIME),
        tmf.column("createdAt", _STEP.c.created_at, kind=tmf.DATETIME),
        tmf.column("updatedAt", _STEP.c.updated_at, kind=tmf.DATETIME),
        tmf.column("finishedAt", _STEP.c.finished_at, kind=tmf.DATETIME),
    ),
    tiebreaker=_STEP.c.id,
    members=tmf.schema_members(SPEC, "DurableStep"),
)
_SWEEPER = steps.Sweeper.__table__
SWEEPER_QUERY = tmf.QuerySpec(
    attributes=(
        tmf.column("id", _SWEEPER.c.name),
        tmf.column("name", _SWEEPER.c.name),
        tmf.column("state", _SWEEPER.c.state, kind=tmf.enum_of(*steps.SWEEPER_STATES)),
        tmf.column("dueAt", _SWEEPER.c.due_at, kind=tmf.DATETIME),
        tmf.column("runs", _SWEEPER.c.runs, kind=tmf.INTEGER),
        tmf.column("failures", _SWEEPER.c.failures, kind=tmf.INTEGER),
        tmf.column("lastStartedAt", _SWEEPER.c.last_started_at, kind=tmf.DATETIME),
        tmf.column("lastFinishedAt", _SWEEPER.c.last_finished_at, kind=tmf.DATETIME),
    ),
    tiebreaker=_SWEEPER.c.name,
    members=tmf.schema_members(SPEC, "Sweeper"),
)


# The query rules of these operations, declared in the served document (server.documents).
QUERY_CONTRACTS = {
    "listAuditRecord": AUDIT_QUERY,
    "retrieveAuditRecord": AUDIT_QUERY,
    "listEventSubscription": SUBSCRIPTION_QUERY,
    "listEventDelivery": DELIVERY_QUERY,
    "listStep": STEP_QUERY,
    "listSweeper": SWEEPER_QUERY,
}


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


def retrieve_audit_record(id: str, **_declared: Any) -> dict[str, Any]:
    fields = tmf.parse_item_query(raw_query_string(), AUDIT_QUERY.members)
    record_id = _as_int(id)
    with deps.uow(read_only=True) as tx:
        record = tx.session.get(AuditRecord, record_id) if record_id is not None else None
        if record is None:
            raise AuditRecordNotFound(f"No audit record with id {id}.")
        return tmf.project(audit_record_json(record), fields)


def list_event_subscription(**_declared: Any) -> tuple[list[dict[str, Any]], int, Headers]:
    """Hub listeners of every API, newest first unless ``sort`` says otherwise (``?api=...``, TMF630)."""
    query = tmf.parse_list_query(raw_query_string(), SUBSCRIPTION_QUERY)
    condition = tmf.where_clause(query)
    ordering = (
        tmf.order_by(query, SUBSCRIPTION_QUERY)
        if query.sort
        else [EventSubscription.created_at.desc(), EventSubscription.id]
    )
    with deps.uow(read_only=True) as tx:
        total = tx.session.execute(select(func.count()).select_from(EventSubscription).where(condition)).scalar_one()
        rows = (
            tx.session.execute(
                select(EventSubscription).where(condition).order_by(*ordering).offset(query.offset).limit(query.limit)
            )
            .scalars()
            .all()
        )
        body = [tmf.project(event_subscription_json(row), query.fields) for row in rows]
    return body, 200, paging_headers(total, len(body))


def retrieve_event_subscription(id: str) -> dict[str, Any]:
    """One hub listener of any API, its callback's credentials masked (``common.redaction``)."""
    with deps.uow(read_only=True) as tx:
        subscription = tx.session.get(EventSubscription, id)
        if subscription is None:
            raise EventSubscriptionNotFound(f"No event subscription with id {id}.")
        return event_subscription_json(subscription)


def event_subscription_json(row: EventSubscription) -> dict[str, Any]:
    return {
        "id": row.id,
        "api": row.api,
        "callback": redact_url(row.callback),
        "query": row.query,
        "createdAt": clock.isoformat(row.created_at),
        "createdBy": row.created_by,
    }


def list_event_delivery(**_declared: Any) -> tuple[list[dict[str, Any]], int, Headers]:
    """Deliveries, newest first unless ``sort`` says otherwise (``?state=dead``: the dead letters)."""
    query = tmf.parse_list_query(raw_query_string(), DELIVERY_QUERY)
    ordering = tmf.order_by(query, DELIVERY_QUERY) if query.sort else [EventDelivery.id.desc()]
    joined = (
        select(EventDelivery, OutboxEvent, EventSubscription)
        .join(OutboxEvent, OutboxEvent.seq == EventDelivery.event_seq)
        # Outer: a delivery may go to an internal consumer rather than a hub subscription.
        .outerjoin(EventSubscription, EventSubscription.id == EventDelivery.subscription_id)
        .where(tmf.where_clause(query))
    )
    with deps.uow(read_only=True) as tx:
        total = tx.session.execute(select(func.count()).select_from(joined.subquery())).scalar_one()
        rows = tx.session.execute(joined.order_by(*ordering).offset(query.offset).limit(query.limit)).all()
        body = [tmf.project(dispatcher.delivery_json(*row), query.fields) for row in rows]
    return body, 200, paging_headers(total, len(body))


def retrieve_event_delivery(id: str) -> dict[str, Any]:
    """One delivery with its event and listener, as ``GET /eventDelivery`` lists it."""
    delivery_id = _as_int(id)
    with deps.uow(read_only=True) as tx:
        row = (
            tx.session.execute(
                select(EventDelivery, OutboxEvent, EventSubscription)
                .join(OutboxEvent, OutboxEvent.seq == EventDelivery.event_seq)
                .join(EventSubscription, EventSubscription.id == EventDelivery.subscription_id)
                .where(EventDelivery.id == delivery_id)
            ).first()
            if delivery_id is not None
            else None
        )
        if row is None:
            raise dispatcher.DeliveryNotFound(f"No event delivery with id {id}.")
        return dispatcher.delivery_json(*row)


def redeliver_event_delivery(id: str) -> dict[str, Any]:
    delivery_id = _as_int(id)
    if delivery_id is None:
        raise dispatcher.DeliveryNotFound(f"No event delivery with id {id}.")
    with deps.uow() as tx:
        body = dispatcher.redeliver(tx.session, delivery_id)
        tx.commit()
    return body


def list_step(**_declared: Any) -> tuple[list[dict[str, Any]], int, Headers]:
    """Durable steps, soonest due first (those due at no time last) unless ``sort`` says otherwise
    (``?kind=reservation.expiry&state=dead``)."""
    query = tmf.parse_list_query(raw_query_string(), STEP_QUERY)
    condition = tmf.where_clause(query)
    Step = steps.DurableStep
    ordering = tmf.order_by(query, STEP_QUERY) if query.sort else [Step.due_at.is_(None), Step.due_at, Step.id]
    with deps.uow(read_only=True) as tx:
        total = tx.session.execute(select(func.count()).select_from(Step).where(condition)).scalar_one()
        rows = (
            tx.session.execute(
                select(Step).where(condition).order_by(*ordering).offset(query.offset).limit(query.limit)
            )
            .scalars()
            .all()
        )
        body = [tmf.project(steps.step_json(row), query.fields) for row in rows]
    return body, 200, paging_headers(total, len(body))


def retrieve_step(id: str) -> dict[str, Any]:
    with deps.uow(read_only=True) as tx:
        step = tx.session.get(steps.DurableStep, id)
        if step is None:
            raise steps.StepNotFound(f"No durable step with id {id}.")
        return steps.step_json(step)


def retry_step(id: str) -> dict[str, Any]:
    """A dead step back in the queue, due now (409 ``STEP_NOT_DEAD`` for any other state)."""
    with deps.uow() as tx:
        body = steps.retry_step(tx.session, id)
        tx.commit()
    return body


def list_sweeper(**_declared: Any) -> tuple[list[dict[str, Any]], int, Headers]:
    """Sweepers by name unless ``sort`` says otherwise."""
    query = tmf.parse_list_query(raw_query_string(), SWEEPER_QUERY)
    condition = tmf.where_clause(query)
    Sweeper = steps.Sweeper
    ordering = tmf.order_by(query, SWEEPER_QUERY) if query.sort else [Sweeper.name]
    with deps.uow(read_only=True) as tx:
        total = tx.session.execute(select(func.count()).select_from(Sweeper).where(condition)).scalar_one()
        rows = (
            tx.session.execute(
                select(Sweeper).where(condition).order_by(*ordering).offset(query.offset).limit(query.limit)
            )
            .scalars()
            .all()
        )
        body = [tmf.project(steps.sweeper_json(row), query.fields) for row in rows]
    return body, 200, paging_headers(total, len(body))


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
    """An integer id from a path: ASCII digits only (``common.tmf.integer_id``; ``str.isdigit`` admits
    "¹", a 500 in ``int``, and "٣", which ``int`` reads as 3)."""
    return tmf.integer_id(text)
