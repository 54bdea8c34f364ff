"""ASGI middleware that runs before everything else: request id, caller identity, base URL, access log.

Identity comes from the ``X-User`` header until authentication lands (the audit trail records it);
``X-Request-ID`` is taken from the client or made up, bound for every log line and echoed back.
"""

from __future__ import annotations

import logging
import time
import uuid

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from common import request_context

logger = logging.getLogger("provisio.access")

ANONYMOUS = "anonymous"


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        request_id = headers.get("x-request-id") or uuid.uuid4().hex
        actor = headers.get("x-user") or ANONYMOUS
        base_url = _base_url(scope, headers)
        started = time.perf_counter()
        status_holder = {"status": 500}

        async def send_with_request_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                MutableHeaders(scope=message)["X-Request-ID"] = request_id
            await send(message)

        with request_context.bind(request_id=request_id, actor=actor, base_url=base_url):
            try:
                await self.app(scope, receive, send_with_request_id)
            finally:
                logger.info(
                    "%s %s %s %.1fms",
                    scope.get("method"),
                    scope.get("path"),
                    status_holder["status"],
                    (time.perf_counter() - started) * 1000,
                )


def _base_url(scope: Scope, headers: Headers) -> str:
    """scheme://host[:port] as the client addressed us, honouring a reverse proxy's X-Forwarded-*."""
    scheme = headers.get("x-forwarded-proto") or scope.get("scheme", "http")
    host = headers.get("x-forwarded-host") or headers.get("host")
    if not host:
        server = scope.get("server") or ("127.0.0.1", 80)
        host = f"{server[0]}:{server[1]}"
    return f"{scheme}://{host}"
