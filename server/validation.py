"""A parameter validator that builds each parameter's JSON Schema validator once, not once per request.

connexion 3.3's ``ParameterValidator.validate_parameter`` deep-copies the parameter's declaration and
builds a new ``Draft4Validator`` for every parameter of every request, although the declarations are the
loaded spec's own and never change. This subclass keeps one validator per declaration and validates
exactly as connexion does (Draft 4 with format checks, ``nullable``, ``required``), with the same
messages.
"""

from __future__ import annotations

import threading
from typing import Any

from connexion.utils import is_null, is_nullable
from connexion.validators import VALIDATOR_MAP, ParameterValidator
from jsonschema import Draft4Validator, ValidationError

# id(schema) -> (schema, validator); the schema is kept so that its id cannot be reused by another object.
# The schemas are the spec's dictionaries, so the cache is bounded by the spec; the limit only guards
# against a connexion version that would hand out fresh copies per request.
_CACHE_LIMIT = 4096
_validators: dict[int, tuple[dict[str, Any], Draft4Validator]] = {}
_lock = threading.Lock()


def _validator_for(schema: dict[str, Any]) -> Draft4Validator:
    found = _validators.get(id(schema))
    if found is not None and found[0] is schema:
        return found[1]
    validator = Draft4Validator(schema, format_checker=Draft4Validator.FORMAT_CHECKER)
    with _lock:
        if len(_validators) >= _CACHE_LIMIT:
            _validators.clear()
        _validators[id(schema)] = (schema, validator)
    return validator


class CachedParameterValidator(ParameterValidator):  # type: ignore[misc]  # connexion ships no types
    @staticmethod
    def validate_parameter(
        parameter_type: str, value: Any, param: dict[str, Any], param_name: str | None = None
    ) -> str | None:
        """connexion's ``validate_parameter`` without the per-call deep copy and validator construction
        (a validator never changes its schema, so the copy protected nothing)."""
        if is_nullable(param) and is_null(value):
            return None
        if value is not None:
            try:
                _validator_for(param.get("schema", param)).validate(value)
            except ValidationError as exception:
                return str(exception)
            return None
        if param.get("required"):
            return f"Missing {parameter_type} parameter '{param['name']}'"
        return None


def validator_map() -> dict[str, Any]:
    """connexion's validators, with parameters validated by ``CachedParameterValidator``."""
    return {**VALIDATOR_MAP, "parameter": CachedParameterValidator}
