"""The ASGI side of ``Idempotency-Key`` (draft-ietf-httpapi-idempotency-key-header-07), for every POST of
every served API, with no code in the handlers.

``IdempotencyMiddleware`` sits after the authentication check (the key belongs to the authenticated user)
and before validation. For a POST with the header it looks the key up and either replays the first answer,
refuses (422 another request, 409 in flight), or runs the request with a ``Claim`` watching its units of
work, and keeps the answer once the handler has rendered it. A lost answer is rendered again by a GET of the
effect through the whole application (``application``: routing, authentication, handler, as a client's GET).

A POST without the header costs a scan of its header list; other methods a dict lookup.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from common import clock, request_context
from common.uow import watch_transactions
from server import deps
from server.idempotency import store
from server.idempotency.claim import (
    HEADER,
    REPLAYED_HEADER,
    Claim,
    IdempotencyKeyInFlight,
    IdempotencyKeyReused,
    IdempotentAnswerLost,
    InvalidIdempotencyKey,
    KeyAlreadyRecorded,
    fingerprint,
    parse_key,
    policy,
)
from server.validation import PARSED_BODY_KEY

logger = logging.getLogger(__name__)

_HEADER_NAME = HEADER.lower().encode("latin-1")
# The exit status of the test hook PROVISIO_TEST_EXIT_BEFORE_IDEMPOTENT_ANSWER (EX_SOFTWARE).
EXIT_BEFORE_ANSWER_STATUS = 70
# Request headers a GET of the effect does not inherit from the POST.
_NOT_FOR_GET = frozenset(
    {
        b"content-type",
        b"content-length",
        b"transfer-encoding",
        b"expect",
        _HEADER_NAME,
        b"if-match",
        b"if-none-match",
        b"if-modified-since",
        b"if-unmodified-since",
    }
)
_CONNECTION_KEYS = frozenset({"type", "asgi", "http_version", "scheme", "server", "client", "state"})
# Of a GET's answer, what a create's 201 carries besides its Location.
_KEPT_FROM_GET = frozenset({"content-type", "etag", "last-modified"})


class IdempotencyMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        application: ASGIApp | None = None,
        ttl_seconds: float = 24 * 3600.0,
        exit_before_answer: bool = False,
    ) -> None:
        self.app = app
        self.application = application  # the whole app, for a GET of the effect
        self.ttl = timedelta(seconds=ttl_seconds)
        self.exit_before_answer = exit_before_answer
        # Keys of this process's requests in progress: a duplicate is a 409 before it does any work. Another
        # process's are found at commit time, by the key row's primary key (``store.insert_key``).
        self._in_flight: set[store.Slot] = set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "POST":
            await self.app(scope, receive, send)
            return
        raw = _key_header(scope)
        if raw is None:
            await self.app(scope, receive, send)
            return
        await self._keyed(scope, receive, send, parse_key(raw))

    async def _keyed(self, scope: Scope, receive: Receive, send: Send, key: str) -> None:
        context = request_context.current()
        slot = store.Slot(context.actor, key)
        parsed = scope.get(PARSED_BODY_KEY)
        body = b""
        if parsed is None:
            body, receive = await _read_body(receive)
        request_print = fingerprint(scope["method"], scope["path"], scope.get("query_string", b""), body, parsed)
        if slot in self._in_flight:
            raise IdempotencyKeyInFlight(f"A request with this {HEADER} is still being processed; retry later.")
        self._in_flight.add(slot)
        try:
            answer = await self._earlier_answer(scope, slot, request_print, after_conflict=False)
            if answer is None:
                claim = Claim(slot, request_print, context.request_id, scope["path"], clock.now, self.ttl)
                answer = await self._run(scope, receive, send, claim)
            if answer is not None:
                await _send_answer(send, answer)
        finally:
            self._in_flight.discard(slot)

    async def _run(self, scope: Scope, receive: Receive, send: Send, claim: Claim) -> store.Answer | None:
        """Serve the request with ``claim`` watching its units of work; None once the answer was sent, or
        the earlier request's answer when that one recorded the key first."""
        recorder = _Recorder(send, claim, self._keep)
        try:
            with watch_transactions(claim):
                await self.app(scope, receive, recorder.send)
        except KeyAlreadyRecorded:
            return await self._earlier_answer(scope, claim.slot, claim.fingerprint, after_conflict=True)
        return None

    async def _earlier_answer(
        self, scope: Scope, slot: store.Slot, request_print: str, *, after_conflict: bool
    ) -> store.Answer | None:
        """The answer an earlier request with this key gives this one: None when there is none (go ahead)."""
        record = await run_in_threadpool(_find, slot)
        now = clock.now()
        if record is not None and record.expires_at <= now:
            if after_conflict:  # expired under our feet: the key is free again, for the next try
                record = None
            else:
                await run_in_threadpool(_forget_expired, slot, now)
                return None
        if record is None:
            if after_conflict:  # the other request's transaction is still open, or it just expired
                raise IdempotencyKeyInFlight(f"A request with this {HEADER} is being processed; retry later.")
            return None
        if record.fingerprint != request_print:
            raise IdempotencyKeyReused(
                f"This {HEADER} was used for another request (another method, path, query or body)."
            )
        answer = record.answer or await self._render_again(scope, slot, record)
        return answer.with_header(REPLAYED_HEADER, "true")

    async def _render_again(self, scope: Scope, slot: store.Slot, record: store.Record) -> store.Answer:
        """The first request committed but its answer was not kept (the process died in between, or it is
        being rendered right now): render it from the effect."""
        if record.effect_path is None or record.effect_id is None:
            raise IdempotentAnswerLost(
                f"The request with this {HEADER} was carried out, but its answer was lost and it created"
                " nothing a GET could show."
            )
        location = request_context.current().base_url + record.effect_path
        effect_policy = policy(record.effect_type)
        if effect_policy.render is not None:
            answer = await run_in_threadpool(effect_policy.render, record.effect_id, location)
        else:
            answer = await self._get_through_app(scope, record.effect_path, location)
        if answer is None:
            raise IdempotentAnswerLost(
                f"The request with this {HEADER} was carried out ({location}), but its answer was lost and"
                " that resource can no longer be shown."
            )
        if effect_policy.keep_answer:
            await run_in_threadpool(_save_answer, slot, answer)
        return answer

    async def _get_through_app(self, scope: Scope, path: str, location: str) -> store.Answer | None:
        """A create's 201 rendered again: a GET of ``path`` through the whole application, with the POST's
        credentials, answered as 201 with ``location``; None unless the GET answers 200."""
        if self.application is None:
            return None
        headers = [(name, value) for name, value in scope["headers"] if name not in _NOT_FOR_GET]
        extensions = {
            name: value for name, value in (scope.get("extensions") or {}).items() if not name.startswith("connexion")
        }
        # The connection's keys only: the outer middlewares add theirs again, routing its own for the GET.
        kept = {name: value for name, value in scope.items() if name in _CONNECTION_KEYS}
        get_scope: Scope = {
            **kept,
            # As the client addressed us: connexion's routing hands on the scope as it was before its mounts.
            "root_path": scope.get("app_root_path", scope.get("root_path", "")),
            "method": "GET",
            "path": path,
            "raw_path": path.encode("utf-8"),
            "query_string": b"",
            "headers": headers,
            "extensions": extensions,
        }
        messages: list[Message] = []

        async def receive() -> Message:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def collect(message: Message) -> None:
            messages.append(message)

        await self.application(get_scope, receive, collect)
        start = next((m for m in messages if m["type"] == "http.response.start"), None)
        if start is None or start["status"] != 200:
            return None
        body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
        carried = [
            (name.decode("latin-1"), value.decode("latin-1"))
            for name, value in start["headers"]
            if name.decode("latin-1").lower() in _KEPT_FROM_GET
        ]
        return store.Answer(201, (*carried, ("location", location), ("content-length", str(len(body)))), body)

    async def _keep(self, claim: Claim, answer: store.Answer) -> None:
        """The second write: the rendered answer, unless it is a server error (a retry then renders it
        again from the effect) or holds a secret that must not be kept (``register_effect``)."""
        if self.exit_before_answer:
            logger.warning("PROVISIO_TEST_EXIT_BEFORE_IDEMPOTENT_ANSWER: exiting between the two writes")
            os._exit(EXIT_BEFORE_ANSWER_STATUS)
        if answer.status >= 500 or not claim.keep_answer:
            return
        try:
            await run_in_threadpool(_save_answer, claim.slot, answer)
        except Exception:  # the client still gets its answer; a retry renders it again from the effect
            logger.exception("could not keep the answer of %s %s", HEADER, claim.slot.key)


class _Recorder:
    """The ``send`` of a keyed request: once its key is recorded, the answer is held until it is kept."""

    def __init__(self, send: Send, claim: Claim, keep: Callable[[Claim, store.Answer], Awaitable[None]]) -> None:
        self._send = send
        self._claim = claim
        self._keep = keep
        self._start: Message | None = None
        self._chunks: list[bytes] = []
        self._passing = False

    async def send(self, message: Message) -> None:
        if self._passing:
            await self._send(message)
            return
        if message["type"] == "http.response.start":
            if not self._claim.recorded:  # nothing changed (a 4xx, a read): nothing to keep, key stays free
                self._passing = True
                await self._send(message)
                return
            self._start = message
            return
        if message["type"] != "http.response.body" or self._start is None:
            await self._send(message)
            return
        self._chunks.append(message.get("body", b""))
        if message.get("more_body", False):
            return
        body = b"".join(self._chunks)
        headers = tuple((name.decode("latin-1"), value.decode("latin-1")) for name, value in self._start["headers"])
        await self._keep(self._claim, store.Answer(int(self._start["status"]), headers, body))
        await self._send(self._start)
        await self._send({"type": "http.response.body", "body": body})


def _key_header(scope: Scope) -> str | None:
    found: bytes | None = None
    for name, value in scope["headers"]:
        if name == _HEADER_NAME:
            if found is not None:
                raise InvalidIdempotencyKey(f"A request carries one {HEADER}, not several.")
            found = value
    return None if found is None else found.decode("latin-1")


async def _read_body(receive: Receive) -> tuple[bytes, Receive]:
    """The whole body (a JSON one was parsed already by the request guard), and a receive that replays it."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    delivered = False

    async def replay() -> Message:
        nonlocal delivered
        if delivered:
            return await receive()
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    return body, replay


async def _send_answer(send: Send, answer: store.Answer) -> None:
    headers = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in answer.headers]
    await send({"type": "http.response.start", "status": answer.status, "headers": headers})
    await send({"type": "http.response.body", "body": answer.body})


# --- database calls, run in worker threads ---------------------------------------------------------------


def _find(slot: store.Slot) -> store.Record | None:
    with deps.read_uow() as tx:
        return store.find(tx.connection, slot)


def _forget_expired(slot: store.Slot, now: datetime) -> None:
    with deps.uow() as tx:
        store.forget_expired(tx.connection, slot, now)
        tx.commit()


def _save_answer(slot: store.Slot, answer: store.Answer) -> None:
    with deps.uow() as tx:
        store.save_answer(tx.connection, slot, answer)
        tx.commit()
