"""The Swagger 2.0 -> OpenAPI 3 conversion used to validate responses against TM Forum's own files."""

from __future__ import annotations

import json

import pytest
from openapi_core.testing import MockRequest, MockResponse
from openapi_core.validation.response.exceptions import InvalidData
from openapi_spec_validator import validate

from tests.support.official_spec import TMF639_V4, official_openapi, swagger2_to_openapi3

BASE = "/tmf-api/resourceInventoryManagement/v4"


def test_converted_tmf639_is_a_valid_openapi_3_document() -> None:
    converted = swagger2_to_openapi3(json.loads(TMF639_V4.read_text(encoding="utf-8")))
    validate(converted)
    assert converted["servers"] == [{"url": BASE}]
    assert "Resource" in converted["components"]["schemas"]
    post = converted["paths"]["/resource"]["post"]
    assert post["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Resource_Create"
    }
    listing = converted["paths"]["/resource"]["get"]
    assert listing["parameters"][0] == {
        "name": "fields",
        "in": "query",
        "required": False,
        "description": "Comma-separated properties to be provided in response",
        "schema": {"type": "string"},
    }
    assert listing["responses"]["200"]["headers"]["X-Total-Count"]["schema"] == {"type": "integer"}
    assert "#/definitions/" not in json.dumps(converted)


def test_converter_refuses_a_document_that_is_not_swagger_2() -> None:
    with pytest.raises(ValueError, match=r"Swagger 2\.0"):
        swagger2_to_openapi3({"openapi": "3.0.3"})


def test_official_spec_rejects_a_resource_without_href() -> None:
    request = MockRequest("http://testserver", "get", f"{BASE}/resource/1")
    valid = MockResponse(json.dumps({"id": "1", "href": "http://testserver/r/1"}).encode(), status_code=200)
    official_openapi().validate_response(request, valid)
    invalid = MockResponse(json.dumps({"id": "1"}).encode(), status_code=200)
    with pytest.raises(InvalidData):
        official_openapi().validate_response(request, invalid)


def test_official_spec_rejects_a_wrong_enum_in_a_list() -> None:
    request = MockRequest("http://testserver", "get", f"{BASE}/resource")
    body = [{"id": "1", "href": "h", "usageState": "sleeping"}]
    with pytest.raises(InvalidData):
        official_openapi().validate_response(request, MockResponse(json.dumps(body).encode(), status_code=200))
