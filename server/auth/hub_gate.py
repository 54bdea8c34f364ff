"""Hub listeners see only what their registering credential could read (issue 15).

``POST /hub`` records the credential on the subscription (kind, subject, scopes, token id, expiry). Before
the dispatcher sends a run of events to a listener, ``CredentialGate.refusal`` checks that credential
again: it must hold the read scope of the event's API (``ApiEntry.read_scope``), must not have expired,
and an API token must still exist unrevoked (read from the database at each run, so a revocation stops
deliveries at the next event). A JWT cannot be revoked here (the identity provider does not tell us), so
a listener registered with one is served until the JWT's ``exp``: register long-lived listeners with an
API token. A refused event goes to the dead letters with the reason as its error, so an operator sees why;
a redelivery is checked again. With authentication off nothing is checked (and a listener registered then
has no credential: once authentication is on, it gets nothing until registered again with one).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from common.events import EventSubscription
from server.apis import APIS
from server.auth import tokens

logger = logging.getLogger(__name__)

_READ_SCOPE = {api.name: api.read_scope for api in APIS}


class CredentialGate:
    def __init__(self, session_factory: Callable[[], Session]) -> None:
        self.session_factory = session_factory

    def refusal(self, subscription_id: str, api: str) -> str | None:
        """Why events of ``api`` may not go to this listener now; None when they may."""
        with self.session_factory() as session, session.begin():
            row = session.execute(
                select(
                    EventSubscription.credential_kind,
                    EventSubscription.credential_token_id,
                    EventSubscription.credential_scopes,
                    EventSubscription.credential_expires_at,
                ).where(EventSubscription.id == subscription_id)
            ).one_or_none()
            if row is None:
                return None  # unregistered meanwhile: the fenced record drops the outcome anyway
            kind, token_id, scopes, expires_at = row
            if kind in (None, "none"):
                return "the listener was registered without a credential (authentication was off)"
            needed = _READ_SCOPE.get(api, "")
            if needed and needed not in set(scopes or ()):
                return f"the registering credential lacks the scope {needed}"
            now = datetime.now(UTC)
            if expires_at is not None and expires_at <= now:
                return "the registering credential has expired"
            if kind == "token":
                state = tokens.token_state(session, token_id) if token_id else None
                if state is None or state.revoked:
                    return "the registering API token was revoked"
                if state.expires_at is not None and state.expires_at <= now:
                    return "the registering API token has expired"
        return None
