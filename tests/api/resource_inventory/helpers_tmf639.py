"""Helpers for TMF639 API tests: a client whose every response is checked against TM Forum's own spec.

``OfficialSpecClient`` (the ``tmf`` fixture) wraps the in-process client: after each request it
validates the response with openapi-core against the official TMF639 v4 document (converted by
``tests.support.official_spec``) and checks that every 4xx/5xx body is a TMF Error. A test therefore
cannot pass with a response TM Forum would reject.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
from openapi_core.templating.paths.exceptions import OperationNotFound, PathNotFound
from openapi_core.templating.responses.exceptions import ResponseNotFound
from openapi_core.testing import MockRequest, MockResponse
from openapi_schema_validator import OAS30Validator
from sqlalchemy import Engine, func, select
from starlette.testclient import TestClient

from common.audit import AuditRecord
from common.events import OutboxEvent
from oss.resource_inventory.models import ResourceRow
from tests.support.official_spec import official_openapi

BASE = "/tmf-api/resourceInventoryManagement/v4"
MERGE_PATCH = {"content-type": "application/merge-patch+json"}
# Error statuses the official TMF639 v4 operations do not list, but HTTP requires (RFC 9110 §15.5):
# 413 and 415 for bodies, 412 and 428 for conditional requests (RFC 9110 §13, RFC 6585 §3).
UNLISTED_ERROR_STATUSES = (412, 413, 415, 428)


def assert_tmf_error(response: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["@type"] == "Error"
    assert body["status"] == str(status)
    assert body["code"] and body["reason"] and body["message"]
    if code is not None:
        assert body["code"] == code, body
    assert "Traceback" not in response.text
    return body


class OfficialSpecClient:
    """A TestClient facade that validates each response against the official TMF639 v4 spec."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.openapi = official_openapi()
        self.validated = 0

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        response: httpx.Response = self.client.request(method, path, **kwargs)
        self._validate(method, path, kwargs, response)
        return response

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, **kwargs)

    def patch(
        self, path: str, body: Any = None, *, headers: dict[str, str] | None = None, **kwargs: Any
    ) -> httpx.Response:
        if body is not None:
            kwargs["content"] = json.dumps(body).encode()
            headers = {**MERGE_PATCH, **(headers or {})}
        return self.request("PATCH", path, headers=headers, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("DELETE", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("PUT", path, **kwargs)

    def _validate(self, method: str, path: str, kwargs: dict[str, Any], response: httpx.Response) -> None:
        url = urlsplit(path)
        request = MockRequest(
            "http://testserver",
            method.lower(),
            url.path,
            args=dict(parse_qsl(url.query)) | dict(kwargs.get("params") or {}),
            content_type="application/json",
        )
        content_type = response.headers.get("content-type", "application/json")
        official_response = MockResponse(
            response.content,
            status_code=response.status_code,
            headers=dict(response.headers),
            content_type=content_type,
        )
        if response.status_code >= 400:
            assert_tmf_error(response, response.status_code)
        try:
            self.openapi.validate_response(request, official_response)
        except (PathNotFound, OperationNotFound):
            # A route or method TM Forum does not define (405 on PUT, 404 on an unknown path): the body
            # must still be the official Error.
            assert response.status_code in (404, 405), response.text
            self._validate_error_schema(response.json())
        except ResponseNotFound:
            if response.status_code == 304:
                # Not Modified (RFC 9110 §15.4.5), which TM Forum does not list: no content, only the ETag.
                assert response.content == b"" and "content-type" not in response.headers
                assert response.headers.get("etag"), response.headers
                self.validated += 1
                return
            # A status TM Forum does not list for the operation (413, 415): still the official Error.
            assert response.status_code in UNLISTED_ERROR_STATUSES, response.text
            self._validate_error_schema(response.json())
        self.validated += 1

    def _validate_error_schema(self, body: Any) -> None:
        spec = self.openapi.spec
        error_schema = (spec / "components" / "schemas" / "Error").read_value()
        OAS30Validator(error_schema).validate(body)


def new_resource(tmf: OfficialSpecClient, **attributes: Any) -> dict[str, Any]:
    body = {"name": "resource", "@type": "LogicalResource", **attributes}
    response = tmf.post(f"{BASE}/resource", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def counts(engine: Engine) -> dict[str, int]:
    """Rows in the tables a request may write: resources, outbox events, audit records."""
    with engine.connect() as connection:
        return {
            model.__tablename__: connection.scalar(select(func.count()).select_from(model)) or 0
            for model in (ResourceRow, OutboxEvent, AuditRecord)
        }


def outbox(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as connection:
        rows = connection.execute(select(OutboxEvent.event_type, OutboxEvent.payload).order_by(OutboxEvent.seq))
        return [{"eventType": row.event_type, **row.payload} for row in rows]
