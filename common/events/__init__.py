"""Events: the transactional outbox, hub subscriptions and their query filter (TMF630, TMF688).

Publishing (in a use case, before ``tx.commit()``)::

    from common import events
    events.publish(tx.session, api="resourceInventoryManagement", event_type="ResourceCreateEvent",
                   resource=resource_json)

The dispatcher (``server/dispatcher.py``) delivers what committed to hub listeners and to internal
consumers (``register_consumer``, see ``common/events/consumers.py``); see the README's "Events" section
for the guarantees (at-least-once, stable ``eventId``, per-subscription and per-consumer order, dead letters).
"""

from common.events.consumers import (
    ConsumedEvent,
    Consumer,
    Handler,
    register_consumer,
    registered_consumers,
    unregister_consumer,
)
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
    OutboxEntry,
    add_commit_listener,
    event_payload,
    fan_out,
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
    "ConsumedEvent",
    "Consumer",
    "EventDelivery",
    "EventFilter",
    "EventSubscription",
    "Handler",
    "InvalidEventQuery",
    "OutboxEntry",
    "OutboxEvent",
    "add_commit_listener",
    "event_members",
    "event_payload",
    "event_schema",
    "fan_out",
    "known_event_types",
    "parse_query",
    "publish",
    "register_consumer",
    "register_event_schema",
    "register_event_types",
    "registered_consumers",
    "unregister_consumer",
    "wake_dispatcher_after_commit",
]
