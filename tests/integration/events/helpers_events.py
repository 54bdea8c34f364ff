"""Helpers shared by the event integration tests (imported by module name: this directory is on sys.path)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from common import clock, events
from common.events import EventDelivery, EventSubscription, OutboxEvent
from common.uow import UnitOfWork

API = "resourceInventoryManagement"


def subscribe(
    factory: sessionmaker[Session], callback: str, query: str | None = None, api: str = API, *, credential: bool = True
) -> str:
    """A listener as ``POST /hub`` registers it; ``credential`` records a registering credential (a JWT with
    the read scope, no expiry) so that dispatchers with the credential gate deliver to it."""
    recorded = (
        {"credential_kind": "jwt", "credential_subject": "tester", "credential_scopes": ["resourceInventory:read"]}
        if credential
        else {"credential_kind": "none"}
    )
    with UnitOfWork(factory) as tx:
        subscription = EventSubscription(
            api=api, callback=callback, query=query, created_at=clock.now(), created_by="tester", **recorded
        )
        tx.session.add(subscription)
        tx.session.flush()
        subscription_id = subscription.id
        tx.commit()
    return subscription_id


def publish(
    factory: sessionmaker[Session], event_type: str = "ResourceCreateEvent", api: str = API, **resource: Any
) -> str:
    with UnitOfWork(factory) as tx:
        event_id = events.publish(
            tx.session, api=api, event_type=event_type, resource={"id": "r-1", "@type": "LogicalResource", **resource}
        )
        tx.commit()
    return event_id


def deliveries(factory: sessionmaker[Session]) -> list[tuple[EventDelivery, OutboxEvent]]:
    with factory() as session, session.begin():
        rows = session.execute(
            select(EventDelivery, OutboxEvent)
            .join(OutboxEvent, OutboxEvent.seq == EventDelivery.event_seq)
            .order_by(EventDelivery.id)
        ).all()
        return [(row[0], row[1]) for row in rows]


def outbox(factory: sessionmaker[Session]) -> list[OutboxEvent]:
    with factory() as session, session.begin():
        return list(session.execute(select(OutboxEvent).order_by(OutboxEvent.seq)).scalars())
