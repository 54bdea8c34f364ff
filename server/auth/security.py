"""The functions every served document's ``securitySchemes`` name, and the identity middleware.

connexion 3 calls them on the event loop, so each is async and does nothing slow there: a cache hit is a
dict lookup; a miss reads the token row in a worker thread (``AuthState``). The per-application
``AuthState`` is found in the ASGI scope (``STATE_KEY``, put there by ``server.middleware``).

- ``oauth2`` (``x-tokenInfoFunc: jwt_info``, ``x-scopeValidateFunc: check_scopes``): ``Authorization:
  Bearer <JWT>``; connexion hands over the operation's scopes and calls ``check_scopes``.
- ``apiToken`` (``Authorization: Token <key>``) and ``apiKey`` (``X-API-Key: <key>``), both
  ``x-apikeyInfoFunc``: OpenAPI 3.0 gives an apiKey requirement no scopes, so these look the operation's
  scopes up themselves (its ``oauth2`` requirement, ``state.required_scopes_table``).

``IdentityMiddleware`` runs after connexion's security check: it makes the authenticated subject the
request's actor (audit trail, log lines) and the credential available to handlers (``current_credential``).
``X-User`` is believed only from a trusted proxy (``PROVISIO_TRUSTED_PROXIES``), which authenticated the
person itself; from anyone else it is ignored.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar
from typing import Any

from connexion.lifecycle import ConnexionRequest
from connexion.security import NO_VALUE, ApiKeySecurityHandler, OAuthSecurityHandler
from connexion.utils import inspect_function_arguments
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from common import request_context
from server.auth.errors import InsufficientScope
from server.auth.state import AuthState, Credential

STATE_KEY = "provisio.auth"
# A dict the outer middleware puts in the scope: connexion hands inner middlewares copies of the scope, so
# the authenticated actor travels back out through this shared object.
ACTOR_KEY = "provisio.actor"
TOKEN_SCHEME = "token"

_credential: ContextVar[Credential | None] = ContextVar("provisio_credential", default=None)


def current_credential() -> Credential | None:
    """The credential of the request being served (None with authentication off, or outside a request)."""
    return _credential.get()


def _state(request: ConnexionRequest) -> AuthState:
    state = request.scope.get(STATE_KEY)
    if not isinstance(state, AuthState):
        raise RuntimeError("no AuthState in the request scope: build the app with server.app.create_app()")
    return state


def token_info(credential: Credential) -> dict[str, Any]:
    return {"sub": credential.subject, "scope": sorted(credential.scopes), "credential": credential}


async def jwt_info(token: str, request: ConnexionRequest) -> dict[str, Any]:
    """``x-tokenInfoFunc`` of the ``oauth2`` scheme: a bearer JWT."""
    state = _state(request)
    credential = await state.verify_jwt(token, state.client_address(request.scope))
    return token_info(credential)


def check_scopes(required_scopes: Iterable[str], token_scopes: Iterable[str] | str) -> bool:
    """``x-scopeValidateFunc``: a 403 naming the missing scopes (connexion's own says only "not enough")."""
    held = set(token_scopes.split()) if isinstance(token_scopes, str) else set(token_scopes)
    missing = set(required_scopes) - held
    if missing:
        raise InsufficientScope(missing)
    return True


async def api_token_info(api_key: str, request: ConnexionRequest) -> Any:
    """``x-apikeyInfoFunc`` of ``apiToken``: ``Authorization: Token <key>``; any other scheme is left to
    the others (``NO_VALUE``: connexion then tries the next)."""
    scheme, _, key = api_key.strip().partition(" ")
    if scheme.lower() != TOKEN_SCHEME:
        return NO_VALUE
    return await _api_key(key.strip(), request)


async def api_key_info(api_key: str, request: ConnexionRequest) -> Any:
    """``x-apikeyInfoFunc`` of ``apiKey``: ``X-API-Key: <key>``."""
    return await _api_key(api_key.strip(), request)


async def _api_key(key: str, request: ConnexionRequest) -> dict[str, Any]:
    state = _state(request)
    credential = await state.verify_api_token(key, state.client_address(request.scope))
    check_scopes(state.required_scopes(request.scope), credential.scopes)
    return token_info(credential)


@functools.cache
def _accepts(function: Callable[..., Any], keyword: str) -> bool:
    arguments, has_kwargs = inspect_function_arguments(function)
    return bool(has_kwargs or keyword in arguments)


class _SignatureOnce:
    """connexion asks ``inspect.signature`` of an info function twice per request (measured: about a third
    of authentication's CPU time); the answer never changes, so ask once per function."""

    @staticmethod
    def _accepts_kwarg(func: Callable[..., Any], keyword: str) -> bool:
        return _accepts(func, keyword)


class ApiKeyHandler(_SignatureOnce, ApiKeySecurityHandler):  # type: ignore[misc]  # connexion ships no types
    pass


class OAuthHandler(_SignatureOnce, OAuthSecurityHandler):  # type: ignore[misc]
    pass


def with_token_url(document: dict[str, Any], token_url: str) -> dict[str, Any]:
    """``document`` with its oauth2 scheme's token URL set from settings (the YAML holds a placeholder),
    copied where it changes: the resolved documents are cached and shared."""
    components = document.get("components") or {}
    schemes = components.get("securitySchemes") or {}
    oauth2 = schemes.get("oauth2")
    if not isinstance(oauth2, dict):
        return document
    flows = oauth2.get("flows") or {}
    flow = {**flows.get("clientCredentials", {}), "tokenUrl": token_url}
    oauth2 = {**oauth2, "flows": {**flows, "clientCredentials": flow}}
    return {**document, "components": {**components, "securitySchemes": {**schemes, "oauth2": oauth2}}}


# ``security_map`` of every ``add_api`` (server/app.py).
SECURITY_MAP: dict[str, type] = {"apiKey": ApiKeyHandler, "oauth2": OAuthHandler}


class IdentityMiddleware:
    """After connexion's security middleware: the authenticated subject becomes the request's actor."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        info = scope.get("extensions", {}).get("connexion_context", {}).get("token_info") or {}
        credential = info.get("credential") if isinstance(info, dict) else None
        if not isinstance(credential, Credential):
            await self.app(scope, receive, send)
            return
        actor = credential.subject
        state = scope.get(STATE_KEY)
        proxied = proxied_user(scope, state) if isinstance(state, AuthState) else None
        if proxied:
            actor = proxied
        holder = scope.get(ACTOR_KEY)
        if isinstance(holder, dict):  # the outer middleware's access log line names the subject too
            holder["actor"] = actor
        with _bound(credential, actor):
            await self.app(scope, receive, send)


def proxied_user(scope: Scope, state: AuthState) -> str | None:
    """``X-User`` as sent by a trusted proxy (decoded as typed), else None."""
    peer = str((scope.get("client") or ("", 0))[0] or "")
    raw = Headers(scope=scope).get("x-user")
    if not raw or not state.is_trusted_proxy(peer):
        return None
    return request_context.decode_header_text(raw) or None


@contextlib.contextmanager
def _bound(credential: Credential, actor: str) -> Iterator[None]:
    current = request_context.current()
    token = _credential.set(credential)
    try:
        with request_context.bind(request_id=current.request_id, actor=actor, base_url=current.base_url):
            yield
    finally:
        _credential.reset(token)
