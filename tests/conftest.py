"""Fixtures shared by every test: a database (SQLite file, or PostgreSQL when DATABASE_URL says so),
the application, an in-process client and a real HTTP server on 127.0.0.1.

Run the whole suite on PostgreSQL with ``DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1/provisio_test``;
tests marked ``pg`` run only there.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from sqlalchemy import Engine, text
from starlette.testclient import TestClient

from server.auth.settings import AuthSettings
from server.db import make_engine
from server.schema import load_all_models
from server.settings import Settings
from tests.support.auth import (
    JWT_AUDIENCE,
    JWT_ISSUER,
    TRUSTED_PROXY,
    JwksServer,
    TestIdentityProvider,
    issue_token,
    token_headers,
)
from tests.support.ports import free_port


def _is_postgres(url: str) -> bool:
    return url.startswith("postgresql")


# A skip whose reason starts with this is part of the design (a case that does not apply to a target, a
# PostgreSQL-only test in the SQLite pass). Any other skip in CI is a failure: CI installs every tool and
# service the suite needs, so a skip there would hide a missing install step.
BY_DESIGN = "not applicable:"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    outcome = yield
    report = outcome.get_result()
    if not (os.environ.get("CI") and report.skipped):
        return
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    if reason.removeprefix("Skipped: ").startswith(BY_DESIGN):
        return
    report.outcome = "failed"
    report.longrepr = f"skipped in CI ({reason}): CI must install and start everything the suite needs"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if _is_postgres(os.environ.get("DATABASE_URL", "")):
        return
    skip_pg = pytest.mark.skip(reason=f"{BY_DESIGN} runs only on PostgreSQL (DATABASE_URL=postgresql+psycopg://...)")
    for item in items:
        if "pg" in item.keywords:
            item.add_marker(skip_pg)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return os.environ.get("DATABASE_URL") or f"sqlite:///{tmp_path_factory.mktemp('db') / 'provisio-test.db'}"


@pytest.fixture(scope="session")
def is_postgres(database_url: str) -> bool:
    return _is_postgres(database_url)


@pytest.fixture(scope="session")
def identity_provider() -> TestIdentityProvider:
    """The test identity provider: JWTs signed with its RSA key, published by ``jwks_server``."""
    return TestIdentityProvider()


@pytest.fixture(scope="session")
def jwks_server(identity_provider: TestIdentityProvider) -> Iterator[JwksServer]:
    server = JwksServer(identity_provider.jwks()).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def settings(database_url: str, tmp_path_factory: pytest.TempPathFactory, jwks_server: JwksServer) -> Settings:
    """Authentication on (as in production): API tokens, JWTs from the test identity provider, and one
    trusted proxy address (``TRUSTED_PROXY``) for the tests of forwarded identity and addresses."""
    data_dir = tmp_path_factory.mktemp("data")
    auth = AuthSettings(
        jwks=jwks_server.url,
        jwt_issuer=JWT_ISSUER,
        jwt_audience=JWT_AUDIENCE,
        trusted_proxies=(TRUSTED_PROXY,),
        max_failures_per_minute=1000,  # tests of the cap lower it on the app's counter
    )
    return Settings(
        database_url=database_url, data_dir=Path(data_dir), log_level="WARNING", dispatch_interval=0.05, auth=auth
    )


@pytest.fixture(scope="session")
def engine(settings: Settings) -> Iterator[Engine]:
    """A schema built from the models (the migration test proves the migrations build the same one)."""
    engine = make_engine(settings.database_url)
    metadata = load_all_models()
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("CREATE EXTENSION IF NOT EXISTS postgis"))
        metadata.drop_all(connection)
        metadata.create_all(connection)
    yield engine
    engine.dispose()


@pytest.fixture
def clean_db(engine: Engine) -> Iterator[Engine]:
    """Each test starts from empty tables."""
    _empty_all_tables(engine)
    yield engine


def _empty_all_tables(engine: Engine) -> None:
    metadata = load_all_models()
    tables = [table for table in reversed(metadata.sorted_tables)]
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql" and tables:
            names = ", ".join(f'"{table.name}"' for table in tables)
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                connection.execute(table.delete())


@pytest.fixture(scope="session")
def app(settings: Settings, engine: Engine):  # type: ignore[no-untyped-def]
    from server.app import create_app

    return create_app(settings, validate_responses=True, run_workers=False, configure_logs=False)


@pytest.fixture
def auth_state(app, clean_db: Engine):  # type: ignore[no-untyped-def]
    """The app's authentication state, with its caches and blocked addresses forgotten (the tables they
    mirror were just emptied)."""
    from server import deps

    state = deps.container().auth
    state.cache.clear()
    state.failures.clear()
    return state


@pytest.fixture
def make_token(settings: Settings, clean_db: Engine, auth_state):  # type: ignore[no-untyped-def]
    """``make_token(scopes=(...), user=..., expires_in=...)`` -> (token id, key): a token with exactly the
    scopes a test needs."""

    def make(**options):  # type: ignore[no-untyped-def]
        return issue_token(clean_db, settings, **options)

    return make


@pytest.fixture
def full_access_headers(make_token) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Headers that pass every operation's security requirement (an API token with every scope, for the
    user ``test-user``), for tests that build their own requests (schemathesis, raw sockets, subprocess
    clients) and the default of ``client`` and ``live_server``."""
    _token_id, key = make_token()
    return token_headers(key)


@pytest.fixture
def client(app, clean_db: Engine, full_access_headers: dict[str, str]) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    """An in-process HTTP client (no socket) that authenticates with every scope; a test that needs exact
    scopes sends its own ``Authorization`` (``make_token``), and ``anonymous_client`` sends none. Use
    ``live_server`` where a real socket matters."""
    with TestClient(
        app, base_url="http://testserver", raise_server_exceptions=False, headers=full_access_headers
    ) as test_client:
        yield test_client


@pytest.fixture
def anonymous_client(app, clean_db: Engine, auth_state) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    """An in-process client without any credential."""
    with TestClient(app, base_url="http://testserver", raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def proxy_client(app, clean_db: Engine, full_access_headers: dict[str, str]) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    """A client whose TCP peer is the trusted proxy (``TRUSTED_PROXY``): its ``X-User`` and
    ``X-Forwarded-For`` are believed."""
    with TestClient(
        app,
        base_url="http://testserver",
        raise_server_exceptions=False,
        headers=full_access_headers,
        client=(TRUSTED_PROXY, 50000),
    ) as test_client:
        yield test_client


class LiveServer:
    """A real uvicorn server on 127.0.0.1:<ephemeral> in a background thread."""

    def __init__(self, asgi_app, port: int, headers: dict[str, str] | None = None) -> None:  # type: ignore[no-untyped-def]
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.headers = dict(headers or {})  # a credential with every scope (``full_access_headers``)
        config = uvicorn.Config(asgi_app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name=f"live-server-{port}", daemon=True)

    def start(self, timeout: float = 10.0) -> None:
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("live server did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def live_server(settings: Settings, clean_db: Engine, full_access_headers: dict[str, str]) -> Iterator[LiveServer]:
    """The full application with its background workers, served over a real socket; ``.headers`` is a
    credential with every scope, ``.client()`` an httpx client that sends it."""
    from server import deps
    from server.app import create_app

    # create_app installs its container as the process's (server.deps); the session's in-process ``app``
    # must get its own back afterwards, or its handlers would use this server's auth cache and counters.
    previous = deps._container
    server = LiveServer(create_app(settings, run_workers=True, configure_logs=False), free_port(), full_access_headers)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        if previous is not None:
            deps.configure(previous)
