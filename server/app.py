"""The composition root: builds the ASGI application from the API table.

Choices kept here and nowhere else:
- connexion 3 AsyncApp (Starlette): about 4x the throughput of FlaskApp for the same handlers (NOTES.md);
  handlers are plain sync functions, run in Starlette's thread pool with the request context copied.
- strict_validation is off because TMF630 attribute filtering takes arbitrary query parameters
  (``?resourceCharacteristic.name=vlan``); bodies are still validated strictly by the schema.
- response validation is on in tests (``validate_responses=True``), off in production for speed.
- authentication (issue 15) is connexion's own security middleware, driven by each document's
  ``securitySchemes`` (``server.auth.security``); ``PROVISIO_AUTH=off`` leaves that middleware out, so
  nothing is checked. The ``oauth2`` scheme's token URL comes from settings (``with_token_url``: the
  documents hold a ``{{ oauth_token_url }}`` placeholder).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import connexion
from connexion.middleware import ConnexionMiddleware, MiddlewarePosition
from connexion.middleware.request_validation import RequestValidationMiddleware
from connexion.middleware.security import SecurityMiddleware
from connexion.middleware.swagger_ui import SwaggerUIMiddleware
from connexion.options import SwaggerUIOptions

from server import deps, errors, workers
from server.apis import APIS, OPENAPI_DIR
from server.auth import tokens
from server.auth.security import SECURITY_MAP, IdentityMiddleware, with_token_url
from server.auth.state import AuthState
from server.db import make_engine, make_session_factory
from server.discriminator import DiscriminatedJSONBodyValidator
from server.documents import served_document
from server.idempotency import IdempotencyMiddleware
from server.landing import health, landing_page
from server.logs import configure_logging, quiet_undeclared_filter_arguments
from server.middleware import RequestContextMiddleware, RequestGuardMiddleware
from server.resolver import ContextResolver
from server.responses import JSONIFIER
from server.routing import PassingSwaggerUIMiddleware, replace_middlewares, use_prebuilt_handlers
from server.settings import Settings
from server.validation import PrebuiltRequestValidationMiddleware, validator_map

logger = logging.getLogger(__name__)


def create_app(
    settings: Settings | None = None,
    *,
    validate_responses: bool = False,
    run_workers: bool = True,
    configure_logs: bool = True,
) -> connexion.AsyncApp:
    """Build the application. ``run_workers`` starts the in-process background workers (event
    dispatcher, sweepers) with the app's lifespan; tests that drive workers by hand turn it off."""
    settings = settings or Settings.from_env()
    if configure_logs:
        configure_logging(settings.log_level)
    quiet_undeclared_filter_arguments()
    engine = make_engine(settings.database_url)
    session_factory = make_session_factory(engine)
    auth = AuthState(
        settings.auth,
        tokens.server_secret(settings.data_dir, settings.auth.secret_key),
        session_factory,
        make_session_factory(engine, read_only=True),
    )
    container = deps.Container(settings=settings, engine=engine, session_factory=session_factory, auth=auth)
    deps.configure(container)

    middlewares = list(ConnexionMiddleware.default_middlewares)
    if not settings.auth.enabled:
        logger.warning("PROVISIO_AUTH=off: every API is served without authentication")
        middlewares.remove(SecurityMiddleware)
    app = connexion.AsyncApp(
        __name__, specification_dir=OPENAPI_DIR, lifespan=_lifespan(container, run_workers), middlewares=middlewares
    )
    use_prebuilt_handlers(app)  # before add_api: each operation's handler is decorated once, not per request
    for api in APIS:
        app.add_api(
            with_token_url(served_document(api), settings.auth.token_url),
            base_path=api.base_path,
            name=api.name,
            resolver=ContextResolver(api.module),
            strict_validation=False,
            validate_responses=validate_responses,
            validator_map=validator_map(DiscriminatedJSONBodyValidator),
            jsonifier=JSONIFIER,
            swagger_ui_options=SwaggerUIOptions(swagger_ui=True, swagger_ui_path="/ui"),
            security_map=SECURITY_MAP,
        )
    for exception_class, handler in errors.HANDLERS:
        app.add_error_handler(exception_class, handler)
    app.add_middleware(
        RequestContextMiddleware,
        position=MiddlewarePosition.BEFORE_EXCEPTION,
        auth_state=auth if settings.auth.enabled else None,
    )
    if settings.auth.enabled:  # after the security check: the authenticated subject becomes the actor
        app.add_middleware(IdentityMiddleware, position=MiddlewarePosition.BEFORE_VALIDATION)
    # Idempotency-Key (server.idempotency): after identity (a key is the authenticated user's), before
    # validation; it renders a lost answer again by a GET through the whole app.
    app.add_middleware(
        IdempotencyMiddleware,
        position=MiddlewarePosition.BEFORE_VALIDATION,
        application=app,
        ttl_seconds=settings.idempotency_ttl,
        exit_before_answer=settings.exit_before_idempotent_answer,
    )
    # Inside the exception middleware, so what the guard refuses is answered by server.errors.
    app.add_middleware(
        RequestGuardMiddleware, position=MiddlewarePosition.BEFORE_SWAGGER, max_body_bytes=settings.max_body_bytes
    )
    app.add_url_rule("/", "landing", landing_page)
    app.add_url_rule("/health", "health", health)
    # Last: middlewares are placed above by the stock classes' positions.
    replace_middlewares(
        app,
        {
            RequestValidationMiddleware: PrebuiltRequestValidationMiddleware,  # built once per operation
            SwaggerUIMiddleware: PassingSwaggerUIMiddleware,  # API requests skip the explorer's router
        },
    )
    return app


def _lifespan(container: deps.Container, run_workers: bool) -> Callable[[Any], Any]:
    @asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[None]:
        if container.auth is not None:
            await container.auth.start()  # the JWKS is loaded before the first request
        stop = workers.start(container) if run_workers else None
        try:
            yield
        finally:
            if stop is not None:
                await stop()
            if container.auth is not None:
                await container.auth.stop()
            container.engine.dispose()

    return lifespan
