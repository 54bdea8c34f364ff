"""The official TM Forum specifications, made readable by openapi-core, to validate our responses.

TM Forum publishes TMF639 v4 (and most v4 APIs) as Swagger 2.0; openapi-core 0.23 reads only OpenAPI 3.x,
and no maintained Python converter exists (the reference one, swagger2openapi, is a Node tool). So this
module converts the subset of Swagger 2.0 that TM Forum uses, following the OpenAPI 3.0 migration rules:

- ``definitions`` -> ``components.schemas`` and every ``#/definitions/X`` -> ``#/components/schemas/X``;
- a ``body`` parameter -> ``requestBody`` with one ``content`` entry per ``consumes`` media type;
- other parameters keep name/in/required/description, their type keywords move under ``schema``;
- a response ``schema`` -> ``content`` per ``produces`` media type; response headers get a ``schema``;
- ``basePath`` -> ``servers[0].url`` (``host`` is the placeholder ``serverRoot`` in TMF files: dropped);
- ``x-nullable`` -> ``nullable``; ``discriminator: name`` -> ``discriminator: {propertyName: name}``.

One deliberate change: media types lose their parameters (``application/json;charset=utf-8`` ->
``application/json``) because openapi-core looks a response's bare media type up among the content keys
literally; the charset says nothing about the shape being validated.

Nothing else is touched, so a response that passes here passes TM Forum's own schema.
"""

from __future__ import annotations

import json
from copy import deepcopy
from functools import cache
from pathlib import Path
from typing import Any

from openapi_core import OpenAPI

# Vendored in the repository (openapi/tmf/README.md): a clone needs nothing beside it.
SPECS_DIR = Path(__file__).resolve().parents[2] / "openapi" / "tmf"
TMF639_V4 = SPECS_DIR / "TMF639-ResourceInventory-v4.0.0.swagger.json"

_PARAMETER_SCHEMA_KEYS = (
    "type",
    "format",
    "items",
    "enum",
    "default",
    "minimum",
    "maximum",
    "minLength",
    "maxLength",
    "pattern",
)


def _bare_media_type(media_type: str) -> str:
    return media_type.split(";", 1)[0].strip()


def _rewrite_refs(node: Any) -> Any:
    """Rewrite ``#/definitions/`` refs and Swagger-only schema keywords, recursively."""
    if isinstance(node, dict):
        converted: dict[str, Any] = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                converted[key] = value.replace("#/definitions/", "#/components/schemas/")
            elif key == "x-nullable":
                converted["nullable"] = value
            elif key == "discriminator" and isinstance(value, str):
                converted[key] = {"propertyName": value}
            else:
                converted[key] = _rewrite_refs(value)
        return converted
    if isinstance(node, list):
        return [_rewrite_refs(item) for item in node]
    return node


def _convert_parameter(parameter: dict[str, Any]) -> dict[str, Any]:
    converted: dict[str, Any] = {
        key: parameter[key] for key in ("name", "in", "required", "description") if key in parameter
    }
    converted["schema"] = {key: parameter[key] for key in _PARAMETER_SCHEMA_KEYS if key in parameter}
    return converted


def _convert_operation(operation: dict[str, Any], consumes: list[str], produces: list[str]) -> dict[str, Any]:
    converted = {key: value for key, value in operation.items() if key not in ("parameters", "responses")}
    op_consumes = [_bare_media_type(m) for m in operation.get("consumes", consumes)]
    op_produces = [_bare_media_type(m) for m in operation.get("produces", produces)]
    parameters = []
    for parameter in operation.get("parameters", []):
        if parameter["in"] == "body":
            converted["requestBody"] = {
                "description": parameter.get("description", ""),
                "required": parameter.get("required", False),
                "content": {media: {"schema": parameter["schema"]} for media in op_consumes},
            }
        else:
            parameters.append(_convert_parameter(parameter))
    if parameters:
        converted["parameters"] = parameters
    responses: dict[str, Any] = {}
    for status, response in operation["responses"].items():
        new_response: dict[str, Any] = {"description": response.get("description", "")}
        if "schema" in response:
            new_response["content"] = {media: {"schema": response["schema"]} for media in op_produces}
        if "headers" in response:
            new_response["headers"] = {
                name: {"description": header.get("description", ""), "schema": {"type": header["type"]}}
                for name, header in response["headers"].items()
            }
        responses[status] = new_response
    converted["responses"] = responses
    return converted


def swagger2_to_openapi3(swagger: dict[str, Any]) -> dict[str, Any]:
    """Convert a TM Forum Swagger 2.0 document into an equivalent OpenAPI 3.0.3 document."""
    if swagger.get("swagger") != "2.0":
        raise ValueError("not a Swagger 2.0 document")
    swagger = deepcopy(swagger)
    consumes = swagger.get("consumes", ["application/json"])
    produces = swagger.get("produces", ["application/json"])
    paths = {
        path: {
            method: _convert_operation(operation, consumes, produces)
            for method, operation in item.items()
            if method in ("get", "put", "post", "patch", "delete", "head", "options")
        }
        for path, item in swagger["paths"].items()
    }
    document = {
        "openapi": "3.0.3",
        "info": swagger["info"],
        "servers": [{"url": swagger.get("basePath", "/").rstrip("/") or "/"}],
        "tags": swagger.get("tags", []),
        "paths": paths,
        "components": {"schemas": swagger.get("definitions", {})},
    }
    converted: dict[str, Any] = _rewrite_refs(document)
    return converted


@cache
def official_openapi(path: Path = TMF639_V4) -> OpenAPI:
    """The official spec at ``path`` as an openapi-core ``OpenAPI`` object (converted once per process)."""
    return OpenAPI.from_dict(swagger2_to_openapi3(json.loads(path.read_text(encoding="utf-8"))))
