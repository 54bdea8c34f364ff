"""server.validation's body validation: jsonschema-rs in front of jsonschema accepts exactly what jsonschema
accepts, on every request body schema served (seeded hypothesis), and says it with jsonschema's messages."""

from __future__ import annotations

from typing import Any

import pytest
from connexion.exceptions import BadRequestProblem
from connexion.json_schema import Draft4RequestValidator
from connexion.spec import Specification
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from server.apis import APIS, OPENAPI_DIR
from server.discriminator import DiscriminatedJSONBodyValidator
from server.validation import FORMAT_CHECKER, CachedJSONBodyValidator, compiled_validator_for, fast_accepts


def _body_schemas() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for api in APIS:
        spec = Specification.load(OPENAPI_DIR / api.spec)
        for path, item in spec["paths"].items():
            for method, operation in item.items():
                if isinstance(operation, dict) and "requestBody" in operation:
                    for media_type, content in operation["requestBody"]["content"].items():
                        found.append((f"{api.name} {method.upper()} {path} {media_type}", content["schema"]))
    return found


BODY_SCHEMAS = _body_schemas()
# Values that sit on the edges the two validators could disagree on: formats, nulls, integral floats,
# integers beyond 64 bits, booleans where numbers go, empty and non-ASCII text.
_edge = st.sampled_from(
    [
        None,
        True,
        0,
        1,
        1.0,
        -1.5,
        10**30,
        "",
        "AAA",
        "not a uri",
        "https://example.com/a",
        "urn:example:x",
        "2026-12-03T10:00:00Z",
        "2026-12-03",
        "aGVsbG8=",
        "available",
        "LogicalResource",
        "é😀",
        [],
        {},
    ]
)
_value = st.recursive(
    _edge | st.text(max_size=6) | st.integers() | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(["id", "href", "name", "value", "date", "content", "@referredType", "text", "role"])
            | st.text(max_size=4),
            inner,
            max_size=4,
        )
    ),
    max_leaves=10,
)


def _keys(schema: dict[str, Any]) -> list[str]:
    keys = set(schema.get("properties", {}))
    for part in schema.get("allOf", []) + schema.get("oneOf", []) + schema.get("anyOf", []):
        keys |= set(part.get("properties", {}))
    return sorted(keys) or ["name"]


def _bodies(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Mostly objects with the required members present (so that many bodies pass and the rest fail on one
    edge), sometimes anything at all."""
    required = st.fixed_dictionaries(
        {key: st.sampled_from(["x", "https://example.com/cb", "é"]) for key in schema.get("required", [])}
    )
    optional = st.dictionaries(st.sampled_from(_keys(schema)), _value, max_size=4)
    return st.builds(lambda base, extra: {**extra, **base}, required, optional) | _value


def _jsonschema_accepts(schema: dict[str, Any], body: Any) -> bool:
    return not list(Draft4RequestValidator(schema, format_checker=FORMAT_CHECKER).iter_errors(body))


@pytest.mark.parametrize(("operation", "schema"), BODY_SCHEMAS, ids=[name for name, _ in BODY_SCHEMAS])
@seed(639)
@settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_compiled_validator_accepts_nothing_jsonschema_refuses(
    operation: str, schema: dict[str, Any], data: st.DataObject
) -> None:
    body = data.draw(_bodies(schema))
    if fast_accepts(schema, body):
        assert _jsonschema_accepts(schema, body), (operation, body)


@pytest.mark.parametrize(("operation", "schema"), BODY_SCHEMAS, ids=[name for name, _ in BODY_SCHEMAS])
def test_compiled_validator_is_built_once_per_schema(operation: str, schema: dict[str, Any]) -> None:
    assert compiled_validator_for(schema) is compiled_validator_for(schema)


def _validator(schema: dict[str, Any]) -> CachedJSONBodyValidator:
    """The body validator the application uses (``server.app``): discriminated ``oneOf`` bodies included."""
    return DiscriminatedJSONBodyValidator(schema=schema, encoding="utf-8", strict_validation=False)


def test_a_refused_body_gets_jsonschemas_message_naming_the_field() -> None:
    schema = dict(BODY_SCHEMAS)["resourceInventoryManagement POST /resource application/json"]
    with pytest.raises(BadRequestProblem) as refused:
        _validator(schema)._validate({"name": "x", "resourceSpecification": {"id": "s", "href": "not a uri"}})
    assert refused.value.detail == "'not a uri' is not a 'uri' - 'resourceSpecification.href'"


def test_a_null_the_document_allows_is_accepted_although_the_compiled_validator_refuses_it() -> None:
    schema = dict(BODY_SCHEMAS)["resourceInventoryManagement PATCH /resource/{id} application/merge-patch+json"]
    body = {"category": None}
    assert not fast_accepts(schema, body)  # jsonschema-rs knows no OpenAPI nullable
    assert _validator(schema)._validate(body) is None


def test_a_typical_create_takes_the_compiled_path() -> None:
    from bench.resource import resource_body

    schema = dict(BODY_SCHEMAS)["resourceInventoryManagement POST /resource application/json"]
    body = resource_body("router-1", "router", "available", 7)
    assert fast_accepts(schema, body) and _jsonschema_accepts(schema, body)


def test_the_validator_validates_the_guards_document_without_parsing_again() -> None:
    import asyncio

    from server.validation import PARSED_BODY_KEY

    document = {"name": "parsed once"}
    drained: list[bytes] = []

    async def stream() -> Any:
        for chunk in (b'{"name": "parsed once"}', b""):
            drained.append(chunk)
            yield chunk

    schema = dict(BODY_SCHEMAS)["resourceInventoryManagement POST /resource application/json"]
    parsed = asyncio.run(_validator(schema)._parse(stream(), {PARSED_BODY_KEY: (document,)}))
    assert parsed is document
    assert drained == [b'{"name": "parsed once"}', b""]  # still drained, so connexion can replay it
