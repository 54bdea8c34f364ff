"""Log hygiene: TMF filters are not errors, and every line names its request."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient


def test_filtered_list_logs_no_error_for_undeclared_filter_parameters(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    response = client.get("/tmf-api/resourceInventoryManagement/v4/resource?resourceStatus=available&name=x")
    assert response.status_code == 200
    errors = [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert errors == []


def test_other_connexion_errors_still_pass_the_filter() -> None:
    from server.logs import UndeclaredFilterArgumentFilter

    record = logging.LogRecord(
        "connexion.decorators.parameter", logging.ERROR, __file__, 1, "Something else went wrong: %s", ("x",), None
    )
    assert UndeclaredFilterArgumentFilter().filter(record) is True


# --- item 5: no client text can forge a log line ------------------------------------------------------

RI = "/tmf-api/resourceInventoryManagement/v4"
FORGED = "2026-12-03 10:00:00,000 ERROR forged"


@pytest.fixture
def log_stream(client: TestClient) -> Iterator[io.StringIO]:
    """What the production handler (``server.logs.make_handler``) writes while the test runs."""
    from server.logs import make_handler

    stream = io.StringIO()
    handler = make_handler(stream)
    root = logging.getLogger()
    previous_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(previous_level)


def _lines(stream: io.StringIO) -> list[str]:
    return stream.getvalue().splitlines()


def test_encoded_newline_in_the_path_writes_no_forged_line(client: TestClient, log_stream: io.StringIO) -> None:
    response = client.get(f"{RI}/resource/abc%0A{FORGED.replace(' ', '%20')}")
    assert response.status_code == 404
    assert not [line for line in _lines(log_stream) if line.startswith(FORGED)]
    access = [line for line in _lines(log_stream) if "provisio.access" in line]
    assert len(access) == 1 and "/resource/abc\\n2026-12-03 10:00:00,000 ERROR forged 404" in access[0]


def test_nul_in_the_path_is_escaped_in_the_log(client: TestClient, log_stream: io.StringIO) -> None:
    response = client.get(f"{RI}/resource/abc%00def")
    assert response.status_code == 400
    text = log_stream.getvalue()
    assert "\x00" not in text and "abc\\x00def" in text


@pytest.mark.parametrize("header", ["X-User", "X-Request-ID"])
def test_control_characters_in_identity_headers_are_escaped(
    client: TestClient, log_stream: io.StringIO, header: str
) -> None:
    # h11 refuses CR/LF in a header value; UTF-8 can still carry C1 controls and line separators.
    value = "eve\u0085\u2028" + FORGED
    client.get(f"{RI}/resource", headers={header: value.encode()})
    lines = _lines(log_stream)
    assert lines and all(line[:4].isdigit() for line in lines)
    assert "\u0085" not in log_stream.getvalue() and "\u2028" not in log_stream.getvalue()


def test_safe_formatter_escapes_control_characters_and_indents_tracebacks() -> None:
    from server.logs import CONTINUATION, SafeFormatter

    formatter = SafeFormatter("%(levelname)s %(message)s")
    try:
        raise ValueError(f"bad value\n{FORGED}")
    except ValueError:
        import sys

        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "a\rb\tc\x1bd %s", ("\u202eevil",), sys.exc_info())
    first, *rest = formatter.format(record).split("\n")
    assert first == "ERROR a\\rb\\tc\\x1bd \\u202eevil"
    assert rest and all(line.startswith(CONTINUATION) for line in rest)


def test_safe_formatter_redacts_credentials_in_urls() -> None:
    from server.logs import SafeFormatter

    record = logging.LogRecord(
        "x", logging.INFO, __file__, 1, "listener %s", ("http://user:pw@listener.example/cb?token=s3cr3t&x=1",), None
    )
    assert SafeFormatter("%(message)s").format(record) == "listener http://***@listener.example/cb?token=***&x=1"


# --- item 6: connexion's per-request warning -----------------------------------------------------------


def test_merge_patch_logs_no_multiple_content_types_warning(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    created = client.post(f"{RI}/resource", json={"name": "x"}).json()
    caplog.set_level(logging.DEBUG)
    response = client.patch(
        f"{RI}/resource/{created['id']}",
        content=b'{"description": "y"}',
        headers={"content-type": "application/merge-patch+json"},
    )
    assert response.status_code == 200
    assert [record for record in caplog.records if record.levelno >= logging.WARNING] == []
