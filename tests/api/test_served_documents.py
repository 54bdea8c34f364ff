"""The served documents declare what the server enforces (issue 14.22), for every API of ``server.apis``:
the query patterns accept exactly what the handlers accept, every operation lists its 400, and a
conditional header's pattern is the entity-tag grammar ``common.tmf.etag`` parses."""

from __future__ import annotations

import random
import re
from typing import Any

import pytest
from starlette.testclient import TestClient

from common.errors import InvalidInput
from common.tmf import parse_checked_fields
from common.tmf.etag import parse_tag_list
from common.tmf.query import QuerySpec, parse_sort
from server.apis import APIS
from server.documents import served_document

METHODS = ("get", "put", "post", "delete", "patch")


def _operations() -> list[tuple[str, str, str, dict[str, Any]]]:
    return [
        (api.name, method.upper(), path, operation)
        for api in APIS
        for path, item in served_document(api)["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


OPERATIONS = _operations()


@pytest.mark.parametrize(
    ("api", "method", "path", "operation"), OPERATIONS, ids=[f"{a} {m} {p}" for a, m, p, _ in OPERATIONS]
)
def test_every_operation_declares_its_400(api: str, method: str, path: str, operation: dict[str, Any]) -> None:
    # The request guard (NUL in a path or query, a repeated parameter, a broken escape ...) can answer any
    # operation with a 400, so every operation says so.
    assert "400" in operation["responses"], f"{method} {path} of {api}"


@pytest.mark.parametrize(
    ("api", "method", "path", "operation"), OPERATIONS, ids=[f"{a} {m} {p}" for a, m, p, _ in OPERATIONS]
)
def test_every_secured_operation_declares_the_gate_answers(
    api: str, method: str, path: str, operation: dict[str, Any]
) -> None:
    # Every served operation is behind the authentication gate, which can answer 401, 403 and 429 (with
    # Retry-After): a client generator learns them from the contract, shaped as the TMF Error they are.
    assert operation.get("security"), f"{method} {path} of {api} declares no security"
    responses = operation["responses"]
    for status in ("401", "403", "429"):
        schema = responses[status]["content"]["application/json"]["schema"]
        assert schema == responses["400"]["content"]["application/json"]["schema"], (status, method, path)
    assert "Retry-After" in responses["429"]["headers"], f"{method} {path} of {api}"


def _query_contracts() -> list[tuple[str, str, QuerySpec, dict[str, Any]]]:
    import importlib

    found = []
    for api in APIS:
        contracts = getattr(importlib.import_module(api.module), "QUERY_CONTRACTS", {})
        for _name, _method, _path, operation in [op for op in OPERATIONS if op[0] == api.name]:
            spec = contracts.get(operation["operationId"])
            if spec is None:
                continue
            for parameter in operation.get("parameters", []):
                if parameter["name"] in ("sort", "fields"):
                    found.append((operation["operationId"], parameter["name"], spec, parameter["schema"]))
    return found


CONTRACTS = _query_contracts()


def _operations_without_contract() -> list[str]:
    import importlib

    missing = []
    for api in APIS:
        contracts = getattr(importlib.import_module(api.module), "QUERY_CONTRACTS", {})
        for _name, method, path, operation in [op for op in OPERATIONS if op[0] == api.name]:
            takes = {parameter["name"] for parameter in operation.get("parameters", [])} & {"sort", "fields"}
            if takes and operation["operationId"] not in contracts:
                missing.append(f"{api.name} {method} {path} ({operation['operationId']})")
    return missing


def test_every_operation_with_sort_or_fields_has_a_query_contract() -> None:
    # Without a QUERY_CONTRACTS entry the served document carries no sort/fields pattern, and a client
    # generator learns nothing of what the handler refuses (the auth API's token list once lacked one).
    assert _operations_without_contract() == []


def _accepted(name: str, value: str, spec: QuerySpec) -> bool:
    try:
        if name == "sort":
            parse_sort(value, spec)
        else:
            parse_checked_fields(value, spec.members)
    except InvalidInput:
        return False
    return True


def _candidates(name: str, spec: QuerySpec, rng: random.Random) -> list[str]:
    if name == "sort":
        words = [a.name for a in spec.attributes] + ["bogus", "name.x", ""]
        decorations = ["", "-", "+", " ", "+-", "\t", "\x1e"]
    else:
        words = [*spec.members.members, "none", "NONE", "bogus", ""]
        for member, child in list(spec.members.members.items())[:8]:
            words += [f"{member}.{sub}" for sub in list(child.members)[:3]] + [f"{member}.bogus", f"{member}."]
        decorations = ["", " ", "\u3000", ","]
    values = []
    for _ in range(400):
        count = rng.randint(1, 3)
        items = [rng.choice(decorations) + rng.choice(words) + rng.choice(decorations) for _ in range(count)]
        values.append(",".join(items))
    return values


@pytest.mark.parametrize(
    ("operation_id", "name", "spec", "schema"), CONTRACTS, ids=[f"{op} {name}" for op, name, _, _ in CONTRACTS]
)
def test_the_sort_and_fields_patterns_accept_exactly_what_the_handler_accepts(
    operation_id: str, name: str, spec: QuerySpec, schema: dict[str, Any]
) -> None:
    pattern = re.compile(schema["pattern"])
    assert schema["x-handler-checks"] == ["pattern"]  # enforced by the handler, with TMF630's codes
    for value in _candidates(name, spec, random.Random(1)):
        assert bool(pattern.search(value)) == _accepted(name, value, spec), (operation_id, name, value)


def test_the_entity_tag_pattern_is_the_grammar_the_server_parses() -> None:
    document = served_document(APIS[0])
    header = next(
        parameter
        for parameter in document["paths"]["/resource/{id}"]["patch"]["parameters"]
        if parameter["name"] == "If-Match"
    )
    pattern = re.compile(header["schema"]["pattern"])
    rng = random.Random(1)
    pieces = ['"3"', 'W/"3"', "*", "3", '""', '"a,b"', ",", " ", "\t", '"é"', "W/", '"']
    for _ in range(3000):
        value = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 4)))
        try:
            parse_tag_list(value, "If-Match")
            parsed = True
        except InvalidInput:
            parsed = False
        assert bool(pattern.search(value)) == parsed, value


def test_a_served_document_carries_the_declared_rules(client: TestClient) -> None:
    served = client.get("/provisio/audit/v1/openapi.json").json()
    parameters = {p["name"]: p["schema"] for p in served["paths"]["/auditRecord"]["get"]["parameters"]}
    assert "recordedAt" in parameters["sort"]["pattern"] and parameters["recordedAt"]["format"] == "date-time"
    assert parameters["limit"]["minimum"] == 0
    hub = client.get("/tmf-api/resourceInventoryManagement/v4/openapi.json").json()
    body = hub["paths"]["/hub"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body["properties"]["callback"]["minLength"] == 1 and body["additionalProperties"] is False
