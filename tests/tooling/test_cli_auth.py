"""Authentication as a user meets it on the command line and across processes (issue 15): ``provisio
token``, the admin token of the first ``provisio run``, ``PROVISIO_AUTH=off``, and a revocation seen by
two API processes on one database within the token cache TTL."""

from __future__ import annotations

import http.client
import os
import re
import stat
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from server.settings import Settings
from tests.support.ports import free_port
from tests.tooling.test_cli import PROVISIO, _env, _get, _stop

RI = "/tmf-api/resourceInventoryManagement/v4"
KEY = re.compile(r"^(pvo_[A-Za-z0-9_-]{43})$", re.M)


def _request(port: int, method: str, path: str, headers: dict[str, str] | None = None) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(method, path, headers=headers or {})
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def test_token_create_list_revoke_from_the_command_line(tmp_path: Path) -> None:
    env = _env(tmp_path)
    subprocess.run([*PROVISIO, "db", "upgrade"], env=env, capture_output=True, timeout=120, check=True)
    created = subprocess.run(
        [*PROVISIO, "token", "create", "--user", "crm", "--scope", "audit:read", "--role", "order-system",
         "--expires", "30d"],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    [key] = KEY.findall(created.stdout)
    token_id = re.search(r"token (\S+) for crm", created.stdout).group(1)  # type: ignore[union-attr]
    listed = subprocess.run([*PROVISIO, "token", "list"], env=env, capture_output=True, text=True, timeout=60)
    assert f"{token_id}  active" in listed.stdout
    assert " audit:read " in listed.stdout and " resourceInventory:read " in listed.stdout
    assert key not in listed.stdout
    revoked = subprocess.run(
        [*PROVISIO, "token", "revoke", token_id], env=env, capture_output=True, text=True, timeout=60
    )
    assert revoked.returncode == 0 and "revoked" in revoked.stdout
    listed = subprocess.run([*PROVISIO, "token", "list"], env=env, capture_output=True, text=True, timeout=60)
    assert f"{token_id}  revoked" in listed.stdout
    bad = subprocess.run(
        [*PROVISIO, "token", "create", "--user", "x", "--scope", "root"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode != 0 and "Unknown scope root" in bad.stderr
    assert stat.S_IMODE((tmp_path / "data" / "secret.key").stat().st_mode) == 0o600


def test_first_run_prints_an_admin_token_once_and_keeps_it_private(tmp_path: Path) -> None:
    port = free_port()
    env = _env(tmp_path, PORT=str(port), PROVISIO_SIM_DEVICES="0")
    outputs = []
    for _ in range(2):
        process = subprocess.Popen(
            [*PROVISIO, "run"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        try:
            assert _get(port, "/health", timeout=60)[0] == 200
            if not outputs:
                stored = (tmp_path / "data" / "admin-token").read_text().strip()
                assert _request(port, "GET", f"{RI}/resource", {"Authorization": f"Token {stored}"}) == 200
                assert _request(port, "GET", f"{RI}/resource") == 401
        finally:
            returncode, output = _stop(process)
        assert returncode == 0, output
        outputs.append(output)
    token_file = tmp_path / "data" / "admin-token"
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    key = token_file.read_text().strip()
    assert key in outputs[0] and 'curl -s -H "Authorization: Token $TOKEN"' in outputs[0]
    assert key not in outputs[1] and f"admin API token: in {token_file}" in outputs[1]


def test_auth_off_serves_without_credentials_and_the_banner_says_so_in_red(tmp_path: Path) -> None:
    port = free_port()
    env = _env(tmp_path, PORT=str(port), PROVISIO_AUTH="off")
    subprocess.run([*PROVISIO, "db", "upgrade"], env=env, capture_output=True, timeout=120, check=True)
    process = subprocess.Popen(
        [*PROVISIO, "serve"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        _get(port, "/health")
        assert _request(port, "GET", f"{RI}/resource") == 200
    finally:
        _, output = _stop(process)
    assert "\033[1;31mWARNING: PROVISIO_AUTH=off" in output


@contextmanager
def _serving(env: dict[str, str]) -> Iterator[int]:
    port = free_port()
    process = subprocess.Popen(
        [*PROVISIO, "serve"],
        env={**env, "PORT": str(port)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        _get(port, "/health", timeout=60)
        yield port
    finally:
        _stop(process)


def test_a_revocation_reaches_a_second_api_process_within_the_cache_ttl(
    settings: Settings, clean_db: Any, make_token: Any
) -> None:
    """Two API processes on the test database: the one that revokes refuses at once, the other within
    PROVISIO_TOKEN_CACHE_TTL (1 s here), reading the row again once its cached entry is older."""
    ttl = 1.0
    env = {k: v for k, v in os.environ.items() if k not in ("PORT", "HOST")}
    env.update(
        DATABASE_URL=settings.database_url, PROVISIO_DATA_DIR=str(settings.data_dir), LOG_LEVEL="WARNING",
        PROVISIO_TOKEN_CACHE_TTL=str(ttl), PROVISIO_API_DISPATCH="0", PYTHONUNBUFFERED="1",
    )  # fmt: skip
    _, admin = make_token()
    token_id, key = make_token(scopes=["resourceInventory:read"])
    user = {"Authorization": f"Token {key}"}
    with _serving(env) as first, _serving(env) as second:
        assert _request(first, "GET", f"{RI}/resource", user) == 200
        assert _request(second, "GET", f"{RI}/resource", user) == 200  # cached there now
        assert (
            _request(first, "DELETE", f"/provisio/auth/v1/token/{token_id}", {"Authorization": f"Token {admin}"}) == 204
        )
        revoked_at = time.monotonic()
        assert _request(first, "GET", f"{RI}/resource", user) == 401
        while _request(second, "GET", f"{RI}/resource", user) == 200:
            assert time.monotonic() - revoked_at < ttl + 2.0, "the second process still accepts the revoked token"
        assert time.monotonic() - revoked_at < ttl + 2.0


@pytest.mark.parametrize("expires", ["90d", "12h", "2030-01-01T00:00:00Z"])
def test_expiry_accepts_durations_and_dates(expires: str) -> None:
    from datetime import UTC, datetime

    from server.auth.cli import parse_expiry

    now = datetime(2026, 12, 1, tzinfo=UTC)
    moment = parse_expiry(expires, now)
    assert moment is not None and moment > now
