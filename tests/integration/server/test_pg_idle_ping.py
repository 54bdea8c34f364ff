"""PostgreSQL connections are pinged before use only after sitting idle in the pool (``server.db``), and a
connection the server closed meanwhile is replaced, not handed to a request."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text

from server import db

pytestmark = pytest.mark.pg


@pytest.fixture
def pg_engine(database_url: str) -> Iterator[Engine]:
    engine = db.make_engine(database_url, pool_size=1, max_overflow=0)
    yield engine
    engine.dispose()


def _count_pings(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> list[object]:
    pings: list[object] = []
    real = engine.dialect.do_ping

    def counting(dbapi_connection: object) -> bool:
        pings.append(dbapi_connection)
        return real(dbapi_connection)

    monkeypatch.setattr(engine.dialect, "do_ping", counting)
    return pings


def test_connection_in_use_a_moment_ago_is_not_pinged(pg_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    pings = _count_pings(pg_engine, monkeypatch)
    for _ in range(3):
        with pg_engine.connect() as connection:
            assert connection.execute(text("SELECT 1")).scalar_one() == 1
    assert pings == []


def test_connection_idle_past_the_limit_is_pinged(pg_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    with pg_engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    pings = _count_pings(pg_engine, monkeypatch)
    monkeypatch.setattr(db, "PING_AFTER_IDLE_S", 0.0)
    with pg_engine.connect() as connection:
        assert connection.execute(text("SELECT 1")).scalar_one() == 1
    assert len(pings) == 1


def test_idle_connection_closed_by_the_server_is_replaced(pg_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    with pg_engine.connect() as connection:
        lost = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
    with db.make_engine(str(pg_engine.url.render_as_string(hide_password=False))).connect() as admin:
        admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": lost})
        admin.commit()
    monkeypatch.setattr(db, "PING_AFTER_IDLE_S", 0.0)
    with pg_engine.connect() as connection:  # the ping finds it dead: the pool connects anew
        assert connection.execute(text("SELECT pg_backend_pid()")).scalar_one() != lost
