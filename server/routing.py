"""connexion's last hop, from the operation to the handler, built once per operation instead of per request.

connexion 3.3's ``AsyncOperation.fn`` builds a new ``StarletteDecorator`` for every request, which wraps
the handler again (the parameter decorator inspects its signature with ``inspect.signature`` each time,
the response decorator is rebuilt) and makes a new URI parser from the operation's parameters. None of it
depends on the request: the handler, the operation and its parameters are fixed when the API is added.
``PrebuiltAsyncApi`` keeps one decorated handler and one URI parser per operation; what runs per request
(parameter extraction, the thread-pool hop of a sync handler, the response conversion) is connexion's own
code, unchanged. Measured on a GET by id: about a tenth of the request's CPU time.

``use_prebuilt_handlers(app)`` installs it on an ``AsyncApp`` before its APIs are added (``server.app``).

The decorators it builds are lean versions of connexion's (``LeanParameterDecorator``,
``LeanResponseDecorator``): the same arguments and answers without the per-request work that changes
nothing (a second JSON parse of the body, an empty form parse, the query parsed into arguments a
``reads_raw_query`` handler never reads, the operation's media types rebuilt). ``PassingSwaggerUIMiddleware``
hands API requests on without routing them through the explorer's router. Measured in one process, A/B
interleaved, CPU per request (SQLite): a GET by id 592 -> 511 µs, a create 4.6 -> 4.3 ms with both decorators;
the explorer's router about 10 µs per request.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from typing import Any

import connexion
from connexion.apps.asynchronous import AsyncApi, AsyncOperation
from connexion.context import operation, receive, scope
from connexion.decorators import StarletteDecorator
from connexion.decorators.parameter import (
    AsyncParameterDecorator,
    _get_body_argument,
    _get_path_arguments,
    prep_kwargs,
    unwrap_decorators,
)
from connexion.decorators.response import AsyncResponseDecorator
from connexion.http_facts import FORM_CONTENT_TYPES
from connexion.lifecycle import ConnexionRequest
from connexion.middleware.swagger_ui import SwaggerUIAPI, SwaggerUIMiddleware
from connexion.operations import AbstractOperation
from connexion.utils import inspect_function_arguments, is_json_mimetype
from starlette.types import ASGIApp, Receive, Scope, Send

from server.responses import RAW_QUERY_MARK
from server.validation import PARSED_BODY_KEY


class LeanParameterDecorator(AsyncParameterDecorator):  # type: ignore[misc]  # connexion ships no types
    """connexion's parameter decorator, with what it repeats per request for nothing left out:

    - a JSON body is the document ``RequestGuardMiddleware`` parsed (and the body validator checked), not a
      second parse of the same bytes;
    - a request that is not a form has no files: connexion's ``request.files()`` would parse an (empty) form;
    - a ``reads_raw_query`` handler gets its path parameters and body only (see there).
    Everything else (casting, defaults, the security context's arguments) is connexion's ``prep_kwargs``."""

    def __call__(self, function: Callable[..., Any]) -> Callable[..., Any]:
        unwrapped = unwrap_decorators(function)
        arguments, has_kwargs = inspect_function_arguments(unwrapped)
        raw_query = bool(getattr(unwrapped, RAW_QUERY_MARK, False))
        sanitize = self.sanitize_fn

        @functools.wraps(function)
        async def wrapper(request: ConnexionRequest) -> Any:
            if raw_query:
                kwargs = _get_path_arguments(request.path_params, operation=operation, sanitize=sanitize)
                if operation.is_request_body_defined:
                    body = await _body(request, self, arguments, has_kwargs)
                    kwargs.update(
                        _get_body_argument(
                            body,
                            operation=operation,
                            arguments=arguments,
                            has_kwargs=has_kwargs,
                            sanitize=sanitize,
                            content_type=request.mimetype,
                        )
                    )
                return await function(**kwargs)
            body = await _body(request, self, arguments, has_kwargs)
            mimetype = request.mimetype
            files = await request.files() if mimetype in FORM_CONTENT_TYPES else {}
            kwargs = prep_kwargs(
                request, request_body=body, files=files, arguments=arguments, has_kwargs=has_kwargs, sanitize=sanitize
            )
            return await function(**kwargs)

        return wrapper


async def _body(
    request: ConnexionRequest, decorator: LeanParameterDecorator, arguments: list[str], has_kwargs: bool
) -> Any:
    parsed = request.scope.get(PARSED_BODY_KEY)
    if parsed is not None and is_json_mimetype(request.content_type):
        return parsed[0]
    body = decorator._maybe_get_body(request, arguments=arguments, has_kwargs=has_kwargs)
    while asyncio.iscoroutine(body):
        body = await body
    return body


class LeanResponseDecorator(AsyncResponseDecorator):  # type: ignore[misc]
    """connexion's response decorator with the operation's media types read once (it rebuilds the list
    from the operation at every response) and the handler's headers searched without ``typing`` at run time
    (``connexion.utils.extract_content_type`` subscripts a generic alias at every call)."""

    _produces: list[str] | None = None

    def _infer_content_type(self, data: Any, headers: dict[str, str]) -> str | None:
        if self._produces is None:
            self._produces = list(set(operation.produces))
        if len(self._produces) == 1 and isinstance(headers, dict) and _content_type_of(headers) is None:
            return self._produces[0]
        inferred: str | None = super()._infer_content_type(data, headers)  # connexion's rules for the others
        return inferred


def _content_type_of(headers: dict[str, str]) -> str | None:
    for key, value in headers.items():
        if key.lower() == "content-type":
            return value
    return None


class PrebuiltStarletteDecorator(StarletteDecorator):  # type: ignore[misc]  # connexion ships no types
    """``StarletteDecorator`` for one operation: decorates the handler once, parses URIs with one parser."""

    @property
    def _parameter_decorator_cls(self) -> type[AsyncParameterDecorator]:
        return LeanParameterDecorator

    @property
    def _response_decorator_cls(self) -> type[AsyncResponseDecorator]:
        return LeanResponseDecorator

    def __call__(self, function: Callable[..., Any]) -> Callable[..., Any]:
        decorated = self.decorate(function)
        parser: list[Any] = []  # the operation's URI parser, made at its first request (it needs the operation)

        @functools.wraps(function)
        async def wrapper(*_args: Any, **_kwargs: Any) -> Any:
            if not parser:
                uri_parser_class = self.uri_parser_class or operation.uri_parser_class
                parser.append(uri_parser_class(operation.parameters, operation.body_definition()))
            request = self.framework.get_request(uri_parser=parser[0], scope=scope, receive=receive)
            return await decorated(request)

        return wrapper


class PrebuiltAsyncOperation(AsyncOperation):  # type: ignore[misc]
    """``AsyncOperation`` whose decorated handler (``fn``) is built once."""

    @functools.cached_property
    def fn(self) -> Callable[..., Any]:
        decorator = PrebuiltStarletteDecorator(pythonic_params=self.pythonic_params, jsonifier=self.jsonifier)
        return decorator(self._fn)


class PrebuiltAsyncApi(AsyncApi):  # type: ignore[misc]
    def make_operation(self, operation: AbstractOperation) -> PrebuiltAsyncOperation:
        prebuilt: PrebuiltAsyncOperation = PrebuiltAsyncOperation.from_operation(
            operation, pythonic_params=self.pythonic_params, jsonifier=self.jsonifier
        )
        return prebuilt


def use_prebuilt_handlers(app: connexion.AsyncApp) -> None:
    """Make ``app``'s APIs added from now on use ``PrebuiltAsyncApi``. connexion keeps its innermost ASGI app
    (the one that calls handlers) in ``_middleware_app``; its ``api_cls`` says which API class ``add_api``
    builds."""
    app._middleware_app.api_cls = PrebuiltAsyncApi


class PassingSwaggerUIMiddleware(SwaggerUIMiddleware):  # type: ignore[misc]
    """connexion's Swagger UI middleware, which hands every request it does not serve straight on.

    connexion's routes each request through a Starlette router of one mount per API (a regular expression
    per mount and per route) to find that an API request is none of the explorer's pages. Here a path that
    holds none of the explorer's paths (``/openapi.json``, ``/openapi.yaml``, ``/ui``) goes on at once, as
    connexion's router would send it on; any other is routed by connexion as before (a substring test, so
    a doubtful path only takes the longer way)."""

    def __init__(self, app: ASGIApp) -> None:
        super().__init__(app)
        self._markers: set[str] = set()

    def add_api(self, specification: Any, base_path: str | None = None, arguments: dict[str, Any] | None = None,
                **kwargs: Any) -> None:  # fmt: skip
        api = SwaggerUIAPI(specification, base_path=base_path, arguments=arguments, default=self.default_fn, **kwargs)
        self.router.mount(api.base_path, app=api.router)
        spec_path = api.options.openapi_spec_path
        self._markers |= {spec_path, spec_path.rsplit(".", 1)[0], api.options.swagger_ui_path.strip().rstrip("/")}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not any(marker in scope["path"] for marker in self._markers):
            await self.app(dict(scope), receive, send)  # a copy, as connexion's router hands on
            return
        await super().__call__(scope, receive, send)


def replace_middlewares(app: connexion.AsyncApp, replacements: dict[type, type]) -> None:
    """Put each replacement in ``app``'s middleware stack where connexion's own class is. Call it after every
    ``add_middleware``: connexion places a middleware by the stock class's position
    (``MiddlewarePosition.BEFORE_VALIDATION`` looks for ``RequestValidationMiddleware`` itself)."""
    stack = app.middleware.middlewares
    stack[:] = [replacements.get(entry, entry) if isinstance(entry, type) else entry for entry in stack]
