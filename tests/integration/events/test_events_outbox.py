"""The transactional outbox: an event exists iff its change committed; fan-out at publish time."""

from __future__ import annotations

import pytest
from helpers_events import API, deliveries, outbox, publish, subscribe
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from common import clock, events, request_context
from common.events import EventSubscription
from common.uow import UnitOfWork

pytestmark = pytest.mark.integration


def test_publish_in_committed_unit_of_work_stores_the_tmf_event(
    session_factory: sessionmaker[Session], fixed_clock: clock.FixedClock
) -> None:
    with request_context.bind(request_id="req-42", actor="alice"):
        event_id = publish(session_factory, "ResourceCreateEvent", name="port-1")

    [stored] = outbox(session_factory)
    assert stored.event_id == event_id
    assert stored.payload == {
        "eventId": event_id,
        "eventTime": "2026-11-29T10:00:00.000Z",
        "eventType": "ResourceCreateEvent",
        "@type": "ResourceCreateEvent",
        "@baseType": "Event",
        "domain": API,
        "correlationId": "req-42",
        "event": {"resource": {"id": "r-1", "@type": "LogicalResource", "name": "port-1"}},
    }


def test_rolled_back_unit_of_work_leaves_no_event_and_no_delivery(session_factory: sessionmaker[Session]) -> None:
    subscribe(session_factory, "http://127.0.0.1:9/listener")

    with pytest.raises(RuntimeError), UnitOfWork(session_factory) as tx:
        events.publish(tx.session, api=API, event_type="ResourceCreateEvent", resource={"id": "r-1"})
        tx.session.flush()
        raise RuntimeError("the use case failed after publishing")

    with UnitOfWork(session_factory) as tx:  # leaving without commit() rolls back too
        events.publish(tx.session, api=API, event_type="ResourceCreateEvent", resource={"id": "r-2"})

    assert outbox(session_factory) == []
    assert deliveries(session_factory) == []


def test_fan_out_creates_one_delivery_per_matching_subscription(session_factory: sessionmaker[Session]) -> None:
    everything = subscribe(session_factory, "http://127.0.0.1:9/a")
    creates = subscribe(session_factory, "http://127.0.0.1:9/b", "eventType=ResourceCreateEvent")
    available = subscribe(session_factory, "http://127.0.0.1:9/c", "event.resource.resourceStatus=available")
    subscribe(session_factory, "http://127.0.0.1:9/d", "eventType=ResourceDeleteEvent")
    subscribe(session_factory, "http://127.0.0.1:9/e", api="serviceInventory")  # another API's hub

    publish(session_factory, "ResourceCreateEvent", resourceStatus="available")

    got = {delivery.subscription_id for delivery, _ in deliveries(session_factory)}
    assert got == {everything, creates, available}
    assert all(
        delivery.state == events.PENDING and delivery.attempts == 0 for delivery, _ in deliveries(session_factory)
    )


def test_listener_registered_after_the_event_does_not_get_it(session_factory: sessionmaker[Session]) -> None:
    early = subscribe(session_factory, "http://127.0.0.1:9/early")
    first = publish(session_factory)
    late = subscribe(session_factory, "http://127.0.0.1:9/late")
    second = publish(session_factory)

    pairs = {(delivery.subscription_id, event.event_id) for delivery, event in deliveries(session_factory)}
    assert pairs == {(early, first), (early, second), (late, second)}


def test_unregistering_a_listener_drops_its_pending_deliveries(session_factory: sessionmaker[Session]) -> None:
    gone = subscribe(session_factory, "http://127.0.0.1:9/gone")
    stays = subscribe(session_factory, "http://127.0.0.1:9/stays")
    publish(session_factory)
    with UnitOfWork(session_factory) as tx:
        tx.session.delete(tx.session.get(EventSubscription, gone))
        tx.commit()

    assert [delivery.subscription_id for delivery, _ in deliveries(session_factory)] == [stays]
    with session_factory() as session, session.begin():
        assert session.execute(select(EventSubscription.id)).scalars().all() == [stays]


def test_publishing_events_wakes_commit_listeners_only_on_commit_of_a_delivery(
    session_factory: sessionmaker[Session],
) -> None:
    calls: list[str] = []
    remove = events.add_commit_listener(lambda: calls.append("woken"))
    try:
        publish(session_factory)
        assert calls == []  # an event nobody gets leaves the dispatchers nothing to claim
        subscribe(session_factory, "http://127.0.0.1:9/listener")
        with UnitOfWork(session_factory) as tx:
            events.publish(tx.session, api=API, event_type="ResourceCreateEvent", resource={"id": "r"})
        assert calls == []
        with UnitOfWork(session_factory) as tx:
            tx.session.execute(select(1))
            tx.commit()
        assert calls == []  # a commit without events wakes nobody
        publish(session_factory)
        assert calls == ["woken"]
    finally:
        remove()
