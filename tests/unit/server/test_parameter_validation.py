"""server.validation: the cached parameter validator answers exactly as connexion's own, on every call."""

from __future__ import annotations

from typing import Any

import pytest
from connexion.validators import ParameterValidator

from server.validation import CachedJSONBodyValidator, CachedParameterValidator, validator_map

LIMIT: dict[str, Any] = {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 0, "maximum": 1000}}
ID: dict[str, Any] = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
NULLABLE: dict[str, Any] = {"name": "note", "in": "query", "schema": {"type": "string", "nullable": True}}


@pytest.mark.parametrize(
    ("kind", "value", "param"),
    [
        ("query", -1, LIMIT),
        ("query", 1001, LIMIT),
        ("query", "ten", LIMIT),
        ("query", 10, LIMIT),
        ("path", None, ID),
        ("path", "abc", ID),
        ("query", None, LIMIT),
        ("query", "null", NULLABLE),
    ],
)
def test_cached_validator_answers_as_connexion_on_repeated_calls(kind: str, value: Any, param: dict[str, Any]) -> None:
    expected = ParameterValidator.validate_parameter(kind, value, param)
    for _ in range(3):  # the first call builds the validator, the others reuse it
        assert CachedParameterValidator.validate_parameter(kind, value, param) == expected


def test_cached_validator_still_rejects_after_accepting_with_the_same_schema() -> None:
    assert CachedParameterValidator.validate_parameter("query", 5, LIMIT) is None
    message = CachedParameterValidator.validate_parameter("query", -5, LIMIT)
    assert message is not None and "-5 is less than the minimum of 0" in message


def test_a_different_schema_object_gets_its_own_validator() -> None:
    narrower = {"name": "limit", "in": "query", "schema": {"type": "integer", "maximum": 5}}
    assert CachedParameterValidator.validate_parameter("query", 10, LIMIT) is None
    assert CachedParameterValidator.validate_parameter("query", 10, narrower) is not None


def test_validator_map_swaps_only_the_parameter_and_json_body_validators() -> None:
    from connexion.validators import VALIDATOR_MAP, JSONRequestBodyValidator

    mapping = validator_map()
    assert mapping["parameter"] is CachedParameterValidator
    assert {key: value for key, value in mapping.items() if key not in ("parameter", "body")} == {
        key: value for key, value in VALIDATOR_MAP.items() if key not in ("parameter", "body")
    }
    for media_type, validator in VALIDATOR_MAP["body"].items():
        expected = CachedJSONBodyValidator if validator is JSONRequestBodyValidator else validator
        assert mapping["body"][media_type] is expected
    assert mapping["body"]["application/merge-patch+json"] is CachedJSONBodyValidator  # media ranges still match
