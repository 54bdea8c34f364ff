"""Log hygiene: TMF filters are not errors, and every line names its request."""

from __future__ import annotations

import logging

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
