"""Generic hub handlers (TMF630 Part 1 "Notifications": ``POST /hub``, ``GET /hub/{id}``, ``DELETE /hub/{id}``).

Every API that serves a hub re-exports these functions from its ``api`` module::

    from server.hub import register_listener, retrieve_listener, unregister_listener

A callback is stored as registered (delivery needs its credentials) and shown everywhere else through
``common.redaction.redact_url``: userinfo and secret-looking query parameters masked, in responses and
log lines alike.

Registration makes the subscription's signing secret (``common.events.signing``): the 201 answers it,
once; ``GET /hub/{id}`` and every other representation leave it out.

The API a request belongs to is taken from connexion's routing context (the base path the operation
was matched under), so subscriptions are per API: the TMF639 hub only ever gets TMF639 events, and a
TMF639 hub id cannot be deleted through another API's hub.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

import connexion
from sqlalchemy import delete

from common import clock, events, request_context
from common.errors import InvalidInput, NotFound
from common.events import EventSubscription, signing
from common.redaction import redact_url
from server import deps, idempotency
from server.apis import APIS, ApiEntry
from server.auth.security import current_credential

logger = logging.getLogger(__name__)

# Event types of the APIs this server publishes; a hub query naming another eventType is a 400.
events.register_event_types(
    "resourceInventoryManagement",
    (
        "ResourceCreateEvent",
        "ResourceAttributeValueChangeEvent",
        "ResourceStateChangeEvent",
        "ResourceDeleteEvent",
    ),
)


class InvalidCallback(InvalidInput):
    code = "INVALID_CALLBACK"


class SubscriptionNotFound(NotFound):
    code = "SUBSCRIPTION_NOT_FOUND"


def register_listener(body: dict[str, Any]) -> tuple[dict[str, Any], int, dict[str, str]]:
    """``POST /hub``: 201 EventSubscription (id, callback, query, and the signing ``secret``, shown only
    here) with a Location header."""
    api = current_api()
    callback = str(body.get("callback", "")).strip()
    query = body.get("query")
    query = str(query).strip() if query is not None else None
    validate_callback(callback)
    # Raises 400 now, not at delivery: event types the API publishes, paths its events' schema has.
    events.parse_query(query, events.known_event_types(api.name), events.event_schema(api.name))
    credential = current_credential()  # None with authentication off
    with deps.uow() as tx:
        subscription = EventSubscription(
            api=api.name,
            callback=callback,
            query=query or None,
            created_at=clock.now(),
            created_by=request_context.current().actor,
            signing_secret=signing.new_secret(),
            # Deliveries go out only while this credential could still read the API (server.auth.hub_gate).
            credential_kind=credential.kind if credential else "none",
            credential_subject=credential.subject if credential else None,
            credential_token_id=credential.token_id if credential else None,
            credential_scopes=sorted(credential.scopes) if credential else None,
            credential_expires_at=credential.expires_at if credential else None,
        )
        tx.session.add(subscription)
        tx.session.flush()
        # The only time the secret leaves the server: the listener keeps it to verify deliveries.
        representation = {**subscription_json(subscription), "secret": subscription.signing_secret}
        tx.commit()
    logger.info("listener %s registered on %s hub: %s", subscription.id, api.name, redact_url(callback))
    location = f"{request_context.current().base_url}{api.base_path}/hub/{subscription.id}"
    return representation, 201, {"Location": location}


def _registration_again(subscription_id: str, location: str) -> idempotency.Answer | None:
    """A ``POST /hub`` whose answer was lost, answered again (``server.idempotency``) with the secret, as the
    first answer had it: ``GET /hub/{id}`` never shows it."""
    with deps.uow(read_only=True) as tx:
        subscription = tx.session.get(EventSubscription, subscription_id)
        if subscription is None:
            return None
        representation = {**subscription_json(subscription), "secret": subscription.signing_secret}
    return idempotency.Answer.created(representation, location)


idempotency.register_effect(EventSubscription.__tablename__, render=_registration_again)


def retrieve_listener(id: str) -> dict[str, Any]:
    """``GET /hub/{id}``: the listener registered on this API's hub (404 for another API's id)."""
    api = current_api()
    with deps.uow(read_only=True) as tx:
        subscription = tx.session.get(EventSubscription, id)
        if subscription is None or subscription.api != api.name:
            raise SubscriptionNotFound(f"No listener with id {id} is registered on this hub.")
        return subscription_json(subscription)


def unregister_listener(id: str) -> tuple[None, int]:
    """``DELETE /hub/{id}``: 204; pending deliveries to that listener go with it (ON DELETE CASCADE)."""
    api = current_api()
    with deps.uow() as tx:
        result = tx.session.execute(
            delete(EventSubscription).where(EventSubscription.id == id, EventSubscription.api == api.name)
        )
        if result.rowcount == 0:  # type: ignore[attr-defined]
            raise SubscriptionNotFound(f"No listener with id {id} is registered on this hub.")
        tx.commit()
    logger.info("listener %s unregistered from %s hub", id, api.name)
    return None, 204


def subscription_json(subscription: EventSubscription) -> dict[str, Any]:
    representation: dict[str, Any] = {"id": subscription.id, "callback": redact_url(subscription.callback)}
    if subscription.query:
        representation["query"] = subscription.query
    return representation


def validate_callback(callback: str) -> None:
    """The callback must be an absolute http(s) URL with a host: anything else can never be delivered."""
    width: int | None = getattr(EventSubscription.__table__.c.callback.type, "length", None)
    if width is not None and len(callback) > width:
        raise InvalidCallback(f"callback is longer than {width} characters.")
    try:
        parts = urlsplit(callback)
    except ValueError as error:  # an unbalanced IPv6 bracket: http://[::1/
        raise InvalidCallback(f"callback {redact_url(callback)!r} is not a URL: {error}.") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidCallback(f"callback {redact_url(callback)!r} is not an absolute http or https URL.")
    try:
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError as error:
        raise InvalidCallback(f"callback {redact_url(callback)!r} has an invalid port.") from error


def current_api() -> ApiEntry:
    """The API table row of the request being served."""
    base_path = ""
    try:
        routing = connexion.context.scope.get("extensions", {}).get("connexion_routing", {})
        base_path = routing.get("api_base_path") or ""
        path = str(connexion.context.scope.get("path", ""))
    except (LookupError, RuntimeError):
        path = ""
    for api in APIS:
        if base_path.rstrip("/") == api.base_path.rstrip("/"):
            return api
    # Fall back on the longest base path that prefixes the request path.
    matches = [api for api in APIS if path.startswith(api.base_path.rstrip("/") + "/")]
    if not matches:
        raise RuntimeError(f"no API in server.apis serves {path!r}")
    return max(matches, key=lambda api: len(api.base_path))
