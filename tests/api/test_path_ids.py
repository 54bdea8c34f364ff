"""Ids in paths are ASCII digits where the key is an integer (issue 14 item 13): ``str.isdigit`` admits
"¹" (which ``int`` refuses: a 500) and "٣" (which ``int`` reads as 3: the wrong record)."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from starlette.testclient import TestClient

from tests.support.served import Operation, item_operations

RI = "/tmf-api/resourceInventoryManagement/v4"
AUDIT = "/provisio/audit/v1"
# Superscript one, Arabic-Indic three, fullwidth three, Devanagari three, a circled three.
UNICODE_DIGITS = ["\u00b9", "\u0663", "\uff13", "\u0969", "\u2462", "1\u00b9", "\u0661\u0662"]


def _seed_three_audit_records(client: TestClient) -> None:
    for name in ("a", "b", "c"):
        assert client.post(f"{RI}/resource", json={"name": name}).status_code == 201
    assert client.get(f"{AUDIT}/auditRecord/3").status_code == 200


@pytest.mark.parametrize("digit", UNICODE_DIGITS)
def test_audit_record_id_of_unicode_digits_is_404(client: TestClient, digit: str) -> None:
    _seed_three_audit_records(client)
    response = client.get(f"{AUDIT}/auditRecord/{quote(digit)}")
    assert response.status_code == 404, response.text
    assert response.json()["code"] == "AUDIT_RECORD_NOT_FOUND"


@pytest.mark.parametrize("digit", UNICODE_DIGITS)
def test_redeliver_of_unicode_digit_id_is_404(client: TestClient, digit: str) -> None:
    response = client.post(f"{AUDIT}/eventDelivery/{quote(digit)}/redeliver")
    assert response.status_code == 404, response.text


@pytest.mark.parametrize("operation", item_operations(), ids=str)
@pytest.mark.parametrize("digit", UNICODE_DIGITS)
def test_path_parameter_of_unicode_digits_is_a_4xx(client: TestClient, operation: Operation, digit: str) -> None:
    _seed_three_audit_records(client)
    url = operation.url(**{name: quote(digit) for name in operation.path_parameters})
    body = {"name": "x"} if operation.has_body else None
    headers = {"content-type": "application/merge-patch+json"} if operation.method == "PATCH" else {}
    response = client.request(operation.method, url, json=body, headers=headers)
    assert response.status_code < 500, (url, response.text)
    assert response.status_code >= 400, (url, response.text)  # no such id exists: never a record
