"""``Idempotency-Key`` for every POST of every served API (issue 16; draft-ietf-httpapi-idempotency-key-header).

A retried POST with the same key, from the same user, with the same method, path, query and body gets the
first answer again (status, headers, body; plus ``Idempotent-Replayed: true``) and changes nothing; the same
key on another request is a 422; a duplicate while the first is in progress a 409; keys expire after
``PROVISIO_IDEMPOTENCY_TTL`` seconds (24 h) and are purged with the delivered events (``server.event_purge``).

How (README "Idempotency-Key"): the key, the fingerprint and the effect (the first row the use case
created) are written by a ``common.uow`` before-commit hook in the use case's own transaction; the rendered
answer right after the commit. A retry that finds the key without an answer renders it again from the
effect: a GET of ``<POST path>/<id>`` through the app, or the renderer a context registers for its table
(``register_effect``). A request that committed nothing (a 4xx, a read-only POST) records nothing: its key
stays free for the corrected retry.

A context whose 201 shows something its GET does not (a secret shown once) registers its table::

    register_effect("event_subscription", render=render_registration)   # the hub: the signing secret
    register_effect("api_token", keep_answer=False)                       # the key is kept only hashed
"""

from server.idempotency.claim import (
    HEADER,
    KEY_PATTERN,
    REPLAYED_HEADER,
    IdempotencyKeyInFlight,
    IdempotencyKeyReused,
    IdempotentAnswerLost,
    InvalidIdempotencyKey,
    register_effect,
)
from server.idempotency.middleware import EXIT_BEFORE_ANSWER_STATUS, IdempotencyMiddleware
from server.idempotency.models import IdempotencyRecord
from server.idempotency.store import Answer, purge_expired

__all__ = [
    "EXIT_BEFORE_ANSWER_STATUS",
    "HEADER",
    "KEY_PATTERN",
    "REPLAYED_HEADER",
    "Answer",
    "IdempotencyKeyInFlight",
    "IdempotencyKeyReused",
    "IdempotencyMiddleware",
    "IdempotencyRecord",
    "IdempotentAnswerLost",
    "InvalidIdempotencyKey",
    "purge_expired",
    "register_effect",
]
