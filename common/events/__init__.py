"""Events: the transactional outbox, hub subscriptions and their query filter (TMF630, TMF688).

Publishing (in a use case, before ``tx.commit()``)::

    from common import events
    events.publish(tx.session, api="resourceInventoryManagement", event_type="ResourceCreateEvent",
                   resource=resource_json)

The dispatcher (``server/dispatcher.py``) delivers what committed; see the README's "Events" section for
the guarantees (at-least-once, stable ``eventId``, per-subscription order, dead letters).
"""

from common.events.models import (
    DEAD,
    DELIVERED,
    DELIVERY_STATES,
    PENDING,
    EventDelivery,
    EventSubscription,
    OutboxEvent,
)
from common.events.outbox import (
    add_commit_listener,
    known_event_types,
    publish,
    register_event_types,
    wake_dispatcher_after_commit,
)
from common.events.query import (
    EventFilter,
    InvalidEventQuery,
    event_members,
    event_schema,
    parse_query,
    register_event_schema,
)

__all__ = [
    "DEAD",
    "DELIVERED",
    "DELIVERY_STATES",
    "PENDING",
    "EventDelivery",
    "EventFilter",
    "EventSubscription",
    "InvalidEventQuery",
    "OutboxEvent",
    "add_commit_listener",
    "event_members",
    "event_schema",
    "known_event_types",
    "parse_query",
    "publish",
    "register_event_schema",
    "register_event_types",
    "wake_dispatcher_after_commit",
]
