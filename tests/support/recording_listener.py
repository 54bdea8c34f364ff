"""A real HTTP listener for hub tests: a threaded ``http.server`` on 127.0.0.1 that records every
event POSTed to it, can answer with an error status, and can go down and come back on the same port.

It verifies every delivery as the README tells listeners to (``common.events.signing.verify_signature``,
the function the README shows): a POST whose ``X-Provisio-Signature`` does not verify with a secret it
was given (``trust(secret)``, the ``secret`` of the 201 of ``POST /hub``) is answered 401 and never
recorded, so a test that forgets to trust its subscription's secret gets no events."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from common.events.signing import EVENT_ID_HEADER, SIGNATURE_HEADER, verify_signature
from tests.support.ports import free_port


class _Server(ThreadingHTTPServer):
    allow_reuse_address = True  # come back on the same port right after going down
    daemon_threads = True


@dataclass(frozen=True)
class Attempt:
    """One POST the listener got, recorded or not: its signing headers and whether they verified."""

    event_id: str | None
    signature: str | None
    verified: bool
    status: int


class RecordingListener:
    def __init__(self, port: int | None = None, tolerance: float = 300) -> None:
        self.port = port or free_port()
        self.secrets: list[str] = []  # signing secrets of the subscriptions that deliver here
        self.tolerance = tolerance  # seconds a signature's timestamp may be away from this clock
        self.attempts: list[Attempt] = []  # every POST, in arrival order (failed and refused ones too)
        self.received: list[dict[str, Any]] = []
        self.paths: list[str] = []
        self.authorizations: list[str | None] = []  # the Authorization header of each recorded event
        self.status = 201  # what the listener answers; set to 500 to make deliveries fail
        self.script: list[int] = []  # statuses to answer first, one per request, before ``status``
        self._condition = threading.Condition()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/listener"

    def start(self) -> RecordingListener:
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                signature = self.headers.get(SIGNATURE_HEADER)
                verified = listener.verify(raw, signature)
                with listener._condition:
                    # 401: forged, stale or signed with a key this listener was not given.
                    status = (listener.script.pop(0) if listener.script else listener.status) if verified else 401
                    listener.attempts.append(Attempt(self.headers.get(EVENT_ID_HEADER), signature, verified, status))
                    if 200 <= status < 300:
                        listener.received.append(json.loads(raw or b"null"))
                        listener.paths.append(self.path)
                        listener.authorizations.append(self.headers.get("Authorization"))
                    listener._condition.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self._server = _Server(("127.0.0.1", self.port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Go down: the port is closed, connections are refused."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def trust(self, secret: str) -> RecordingListener:
        """Accept deliveries signed with ``secret`` (the ``secret`` a registration answered)."""
        with self._condition:
            self.secrets.append(secret)
        return self

    def verify(self, body: bytes, signature: str | None) -> bool:
        with self._condition:
            secrets = list(self.secrets)
        return any(verify_signature(secret, body, signature, self.tolerance) for secret in secrets)

    def events(self, event_type: str | None = None) -> list[dict[str, Any]]:
        with self._condition:
            return [event for event in self.received if event_type is None or event.get("eventType") == event_type]

    def wait_for(
        self, predicate: Callable[[list[dict[str, Any]]], bool], timeout: float = 10.0
    ) -> list[dict[str, Any]]:
        """Block until ``predicate(received events)`` holds; fail the test after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self._condition:
            while not predicate(self.received):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    refused = sum(1 for attempt in self.attempts if not attempt.verified)
                    raise AssertionError(
                        f"listener did not get the expected events in {timeout}s ({refused} POSTs refused for"
                        f" their signature): {self.received}"
                    )
                self._condition.wait(remaining)
            return list(self.received)

    def wait_for_count(self, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        return self.wait_for(lambda received: len(received) >= count, timeout)
