"""What one keyed POST writes in its use case's transaction: the ``common.uow`` hook (``Claim``), the
key's syntax, the request fingerprint, and the effects' registry (how a lost answer is rendered again)."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import event
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Session, UOWTransaction

from common.audit import AuditRecord
from common.errors import Conflict, InvalidInput, Unprocessable
from common.events import EventDelivery, OutboxEvent
from server.idempotency import store
from server.idempotency.models import MAX_KEY_LENGTH, PATH_MAX_LENGTH, IdempotencyRecord

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"


class InvalidIdempotencyKey(InvalidInput):
    code = "INVALID_IDEMPOTENCY_KEY"


class IdempotencyKeyReused(Unprocessable):
    """The draft's 422: the key was used for another request (another body, path or query)."""

    code = "IDEMPOTENCY_KEY_REUSED"


class IdempotencyKeyInFlight(Conflict):
    """The draft's 409: a request with this key is still being processed."""

    code = "IDEMPOTENCY_KEY_IN_FLIGHT"


class IdempotentAnswerLost(Conflict):
    """The request was carried out, but its answer was lost and cannot be rendered again."""

    code = "IDEMPOTENT_ANSWER_LOST"


class KeyAlreadyRecorded(IdempotencyKeyInFlight):
    """Raised from the before-commit hook: another request recorded the key first, so this use case rolls
    back. ``server.idempotency.middleware`` turns it into the other request's answer (or a 409)."""


# A key: 1 to 255 printable ASCII characters but the double quote and the backslash (so that its Structured
# Field String form needs no escapes), without white space at either end (HTTP strips it). The served
# documents declare the same rule (``KEY_PATTERN``), bare or in double quotes.
_KEY_CHARACTER = r"!#-\[\]-~"
_KEY = rf"[{_KEY_CHARACTER}](?:[ {_KEY_CHARACTER}]{{0,{MAX_KEY_LENGTH - 2}}}[{_KEY_CHARACTER}])?"
KEY_PATTERN = rf'^(?:{_KEY}|"{_KEY}")$'
_KEY_RULE = re.compile(KEY_PATTERN)


def parse_key(raw: str) -> str:
    """The key of an ``Idempotency-Key`` field. The draft makes it a Structured Field String (RFC 8941
    §3.3.3, ``"8e03978e-..."``); a bare value, as many clients send it, is the same key."""
    value = raw.strip(" \t")
    if not _KEY_RULE.fullmatch(value):  # not match: "$" would let a trailing newline through
        raise InvalidIdempotencyKey(
            f"{HEADER} must be 1 to {MAX_KEY_LENGTH} printable ASCII characters (no double quote or backslash,"
            " no space at either end), bare or in double quotes."
        )
    return value[1:-1] if value.startswith('"') else value


def fingerprint(method: str, path: str, query: bytes, body: bytes, parsed: tuple[Any] | None = None) -> str:
    """SHA-256 of what makes two requests "the same": method, path, query and body. A JSON body counts by
    its value (member order and white space do not make a retry a different request): ``parsed`` is the
    document the request guard parsed (``server.validation.PARSED_BODY_KEY``, a 1-tuple)."""
    digest = hashlib.sha256()
    for part in (method.encode(), path.encode("utf-8", "surrogateescape"), query):
        digest.update(len(part).to_bytes(8, "big") + part)
    if parsed is not None:
        body = json.dumps(parsed[0], sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    digest.update(body)
    return digest.hexdigest()


# --- effects --------------------------------------------------------------------------------------------

# Tables a use case writes besides its own entity: never "the effect".
INFRASTRUCTURE_TABLES = frozenset(
    model.__tablename__ for model in (OutboxEvent, EventDelivery, AuditRecord, IdempotencyRecord)
)

Renderer = Callable[[str, str], "store.Answer | None"]


@dataclass(frozen=True)
class EffectPolicy:
    """How an effect's answer is rendered again when the first one was lost. ``render(id, location)``
    (in a worker thread; it opens its own unit of work) replaces the default, a GET of the Location through
    the app; ``keep_answer=False`` never stores the answer (it holds a secret the server keeps only hashed)."""

    render: Renderer | None = None
    keep_answer: bool = True


_POLICIES: dict[str, EffectPolicy] = {}
_DEFAULT = EffectPolicy()


def register_effect(table: str, *, render: Renderer | None = None, keep_answer: bool = True) -> None:
    _POLICIES[table] = EffectPolicy(render, keep_answer)


def policy(table: str | None) -> EffectPolicy:
    return _POLICIES.get(table or "", _DEFAULT)


@dataclass(frozen=True)
class Effect:
    table: str
    id: str


_EFFECT_KEY = "provisio.idempotency.effect"


def _created_entity(session: Session, _flush_context: UOWTransaction) -> None:
    """``after_flush`` of a keyed request's sessions: the first row the transaction creates is its effect
    (session.new keeps the order the use case added its objects in)."""
    if _EFFECT_KEY in session.info:
        return
    for instance in session.new:
        state = sa_inspect(instance)
        table = state.mapper.local_table
        name = str(getattr(table, "name", ""))
        if name in INFRASTRUCTURE_TABLES:
            continue
        values = [
            state.dict.get(state.mapper.get_property_by_column(column).key) for column in state.mapper.primary_key
        ]
        session.info[_EFFECT_KEY] = Effect(name, "/".join(str(value) for value in values))
        return


@dataclass
class Claim:
    """One keyed POST's ``common.uow.TransactionHook``: its first unit of work that commits also writes the
    key, the fingerprint and the effect, in the same transaction (so the effect never commits without the
    key); later commits of the same request write nothing more."""

    slot: store.Slot
    fingerprint: str
    request_id: str
    path: str  # the POST's path: the effect's GET is ``<path>/<id>`` (TMF630: a create's Location)
    now: Callable[[], datetime]
    ttl: timedelta
    recorded: bool = False
    effect: Effect | None = None
    keep_answer: bool = True

    @property
    def effect_path(self) -> str | None:
        if self.effect is None:
            return None
        path = f"{self.path.rstrip('/')}/{self.effect.id}"
        return path if len(path) <= PATH_MAX_LENGTH else None

    def began(self, session: Session) -> None:
        if not self.recorded:
            event.listen(session, "after_flush", _created_entity)

    def before_commit(self, session: Session) -> None:
        if self.recorded:
            return
        session.flush()
        effect = session.info.get(_EFFECT_KEY)
        now = self.now()
        values = {
            "actor": self.slot.actor,
            "key": self.slot.key,
            "fingerprint": self.fingerprint,
            "request_id": self.request_id,
            "created_at": now,
            "expires_at": now + self.ttl,
            "effect_type": effect.table if effect else None,
            "effect_id": effect.id[:128] if effect else None,
        }
        self.effect = effect
        values["effect_path"] = self.effect_path
        if not store.insert_key(session.connection(), values):
            raise KeyAlreadyRecorded(f"Another request with this {HEADER} was carried out first.")
        self.recorded = True
        self.keep_answer = policy(effect.table if effect else None).keep_answer
