"""The documents the server serves: each ``openapi/*.yaml`` of the API table, with the query rules its
handlers enforce written into it (issue 14.22: the contract says what the server does).

A context's ``api`` module names, per operationId, the ``QuerySpec`` its handler parses the query with::

    QUERY_CONTRACTS = {"listResource": RESOURCE_QUERY, "retrieveResource": RESOURCE_QUERY}

and the served document then declares, for that operation: a ``pattern`` on ``sort`` (the sortable names)
and on ``fields`` (the member paths of the type's schema), and on every declared filter parameter the rule
its values follow (non-empty list elements; ``format: date-time`` for a date attribute). The patterns are
built from the same ``QuerySpec`` the handler checks against (``common.tmf.contract``), so they cannot drift.
The handler stays the one that enforces them, with TMF630's codes and messages (``UNKNOWN_SORT_ATTRIBUTE``
listing the sortable names instead of a regular expression): ``x-handler-checks`` names the keywords the
request validator leaves to it (``server.validation.CachedParameterValidator``).

Every POST also declares the ``Idempotency-Key`` header that ``server.idempotency`` honours, and the 409
and 422 it can answer (shaped like the operation's own 400).
"""

from __future__ import annotations

import importlib
import os
from functools import cache
from typing import Any

import yaml
from connexion.json_schema import resolve_refs

from common.tmf import contract
from common.tmf.query import DATETIME, STRING, ColumnAttribute, QuerySpec
from server import idempotency
from server.apis import OPENAPI_DIR, ApiEntry

HANDLER_CHECKS = "x-handler-checks"
# What the authentication gate (server.auth) can answer any operation that declares security with.
_GATE_RESPONSES = {
    "401": "Unauthorized: no credential, or an invalid, expired or revoked one (WWW-Authenticate names the schemes)",
    "403": "Forbidden: the credential lacks the operation's scope (the Error names it)",
    "429": "Too Many Requests: too many failed authentications from this client address (Retry-After says when)",
}
_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


@cache
def _resolved(spec: str) -> dict[str, Any]:
    path = OPENAPI_DIR / spec
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    resolved: dict[str, Any] = resolve_refs(raw, base_uri=f"{path.parent}{os.sep}")
    return resolved


def served_document(api: ApiEntry) -> dict[str, Any]:
    """The document of ``api`` as served: refs resolved, the handlers' query rules declared."""
    document = _resolved(api.spec)
    contracts: dict[str, QuerySpec] = getattr(importlib.import_module(api.module), "QUERY_CONTRACTS", {})
    for item in document.get("paths", {}).values():
        for method in _METHODS:
            operation = item.get(method)
            if not isinstance(operation, dict):
                continue
            if operation.get("operationId") in contracts:
                _declare_query_rules(operation, contracts[operation["operationId"]])
            if operation.get("security", document.get("security")):
                _declare_gate_responses(operation)
            if method == "post":
                _declare_idempotency_key(operation)
    return document


IDEMPOTENCY_KEY_PARAMETER: dict[str, Any] = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": (
        "Makes a retry of this POST safe (draft-ietf-httpapi-idempotency-key-header): a retry with the same"
        " key, by the same user, with the same path, query and body, gets the first answer again (status,"
        " headers, body, plus `Idempotent-Replayed: true`) and changes nothing. The same key on another"
        " request is a 422, a retry while the first is still being processed a 409. A request that changed"
        " nothing (a refused one) leaves the key free. Keys are kept for PROVISIO_IDEMPOTENCY_TTL seconds"
        " (24 hours). 1 to 255 printable ASCII characters (no double quote or backslash, no space at either"
        ' end), as a Structured Field String (`"a-uuid"`) or bare.'
    ),
    "schema": {"type": "string", "pattern": idempotency.KEY_PATTERN},
}
_IDEMPOTENCY_RESPONSES = {
    "409": "Conflict; also a retry whose Idempotency-Key is still being processed (IDEMPOTENCY_KEY_IN_FLIGHT)",
    "422": "Unprocessable: this Idempotency-Key was used for another request (IDEMPOTENCY_KEY_REUSED)",
}


def _declare_idempotency_key(operation: dict[str, Any]) -> None:
    parameters = operation.get("parameters", [])
    if not any(p.get("in") == "header" and p.get("name") == "Idempotency-Key" for p in parameters):
        # A new list: the resolved document may share one list between operations.
        operation["parameters"] = [*parameters, IDEMPOTENCY_KEY_PARAMETER]
    responses = operation.setdefault("responses", {})
    error = responses.get("400")
    if not isinstance(error, dict):
        return
    for status, description in _IDEMPOTENCY_RESPONSES.items():
        if status not in responses:
            responses[status] = {**error, "description": description}


def _declare_gate_responses(operation: dict[str, Any]) -> None:
    """The 401, 403 and 429 of the authentication gate, shaped like the operation's own 400 (a TMF Error)."""
    responses = operation.setdefault("responses", {})
    error = responses.get("400")
    if not isinstance(error, dict):
        return
    for status, description in _GATE_RESPONSES.items():
        if status not in responses:
            responses[status] = {**error, "description": description}
    if "headers" not in responses["429"]:
        retry_after = {"description": "Seconds until the client address may try again", "schema": {"type": "integer"}}
        responses["429"] = {**responses["429"], "headers": {"Retry-After": retry_after}}


def _declare_query_rules(operation: dict[str, Any], spec: QuerySpec) -> None:
    parameters = operation.get("parameters", [])
    for index, parameter in enumerate(parameters):
        if parameter.get("in") != "query":
            continue
        rules = _rules(parameter["name"], spec)
        if rules:
            schema = {**parameter.get("schema", {}), **rules}
            # A copy: the shared parameter of tmf_common.yaml serves other operations with other rules.
            parameters[index] = {**parameter, "schema": schema}


def _rules(name: str, spec: QuerySpec) -> dict[str, Any]:
    if name == "sort":
        return {"pattern": contract.sort_pattern(spec), HANDLER_CHECKS: ["pattern"]}
    if name == "fields":
        return {"pattern": contract.fields_pattern(spec.members), HANDLER_CHECKS: ["pattern"]}
    attribute = spec.by_name.get(name)
    if not isinstance(attribute, ColumnAttribute):
        return {}
    if attribute.kind is DATETIME:  # also a date, or a list: the handler reads TMF630's forms
        return {"format": "date-time", HANDLER_CHECKS: ["format"]}
    if attribute.kind is STRING:
        return {"pattern": contract.FILTER_VALUE_PATTERN, HANDLER_CHECKS: ["pattern"]}
    return {}  # an enum or a number: the document's own schema says it
