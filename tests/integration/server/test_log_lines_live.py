"""Log forging through a real uvicorn server (issue 14 item 5): uvicorn percent-decodes the path before
the application sees it, so ``%0A`` and ``%00`` arrive as a newline and a NUL; neither reaches the log raw."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from server.logs import make_handler

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

RI = "/tmf-api/resourceInventoryManagement/v4"
FORGED = "2026-12-03 10:00:00,000 ERROR forged"


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = make_handler(stream)
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)


def test_encoded_newline_nul_and_utf8_identity_reach_the_log_escaped(
    live_server: Any, log_stream: io.StringIO, make_token: Any
) -> None:
    _, key = make_token(user="jürgen")  # the authenticated subject is the user on every line
    with httpx.Client(base_url=live_server.url, timeout=10, headers={"Authorization": f"Token {key}"}) as client:
        forged = client.get(f"{RI}/resource/abc%0A{FORGED.replace(' ', '%20')}")
        nul = client.get(f"{RI}/resource/abc%00def")
        routed = client.get(f"{RI}/resource/abc")  # routed, so authenticated: the subject is on the line
    assert (forged.status_code, nul.status_code) == (404, 400)
    lines = log_stream.getvalue().splitlines()
    assert not [line for line in lines if line.startswith(FORGED)]
    assert "\x00" not in log_stream.getvalue()
    access = [line for line in lines if "provisio.access" in line]
    assert any("] GET " + RI + "/resource/abc\\n2026-12-03" in line for line in access), access
    assert routed.status_code == 404
    assert any("user=jürgen] GET " + RI + "/resource/abc 404" in line for line in access), access
    assert any("/resource/abc\\x00def 400" in line for line in access), access
