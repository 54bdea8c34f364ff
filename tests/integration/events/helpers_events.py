"""Helpers shared by the event integration tests (imported by module name: this directory is on sys.path)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from common import clock, events
from common.events import EventDelivery, EventSubscription, OutboxEvent
from common.uow import UnitOfWork
from tests.support.recording_listener import RecordingListener

API = "resourceInventoryManagement"


def subscribe(
    factory: sessionmaker[Session],
    callback: str | RecordingListener,
    query: str | None = None,
    api: str = API,
    *,
    path: str = "",
) -> str:
    """Register a subscription as ``POST /hub`` does; given a listener (``path`` under its URL), hand it
    the subscription's signing secret, as a real listener keeps the secret of its 201."""
    url = callback.url + path if isinstance(callback, RecordingListener) else callback + path
    with UnitOfWork(factory) as tx:
        subscription = EventSubscription(
            api=api, callback=url, query=query, created_at=clock.now(), created_by="tester"
        )
        tx.session.add(subscription)
        tx.session.flush()
        subscription_id, secret = subscription.id, subscription.signing_secret
        tx.commit()
    if isinstance(callback, RecordingListener):
        callback.trust(secret)
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
