"""Request bodies whose schema is a ``oneOf`` discriminated by ``@type`` (TMF630 polymorphism), validated
against the one branch the body names, not against every branch.

A served document declares a polymorphic body as::

    Resource_Create:
      x-type-registry: Resource           # the common.tmf.polymorphism registry of these types
      x-error-code: UNKNOWN_RESOURCE_TYPE # the code of a 400 for a type nobody registered
      oneOf: [LogicalResource_Create, PhysicalResource_Create, ..., LogicalResourceExtension_Create, ...]
      discriminator: {propertyName: '@type', mapping: {...}}

Each branch is closed (``additionalProperties: false``) and says which ``@type`` it is for: a single-valued
``enum`` (the branch that does not require ``@type`` is the default), or, for subclasses a client defines,
no enum and a ``@baseType`` enum naming the registered type it extends. The body is checked against its
branch only, so a refusal names the attribute that is wrong (``Unknown attribute 'resourceStatu'``) instead
of "not valid under any of the given schemas", and the cached jsonschema-rs fast path of
``CachedJSONBodyValidator`` applies to the branch as it does to any schema.

A type a context registered at run time without a branch of its own (``TelephoneNumber``, base
``LogicalResource``) is validated as a subclass of its nearest documented base; an ``@type`` neither the
document nor the registry knows, without a documented ``@baseType``, is a 400 with the schema's
``x-error-code``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from common.errors import InvalidInput
from common.tmf import polymorphism
from server.validation import CachedJSONBodyValidator


@dataclass(frozen=True)
class _Branches:
    property_name: str
    typed: dict[str, dict[str, Any]] = field(default_factory=dict)  # @type -> its branch
    extensions: dict[str, dict[str, Any]] = field(default_factory=dict)  # @baseType -> branch of its subclasses
    default: dict[str, Any] | None = None  # the branch of a body without @type


_index_cache: dict[int, tuple[dict[str, Any], _Branches | None]] = {}
_lock = threading.Lock()


def branches(schema: dict[str, Any]) -> _Branches | None:
    """The branches of a discriminated ``oneOf`` schema, indexed (once per schema); ``None`` for any other."""
    found = _index_cache.get(id(schema))
    if found is not None and found[0] is schema:
        return found[1]
    index = _build(schema)
    with _lock:
        _index_cache[id(schema)] = (schema, index)
    return index


def _build(schema: dict[str, Any]) -> _Branches | None:
    discriminator = schema.get("discriminator")
    options = schema.get("oneOf")
    if not isinstance(discriminator, dict) or not isinstance(options, list):
        return None
    name = discriminator.get("propertyName")
    if not isinstance(name, str):
        return None
    index = _Branches(property_name=name)
    default = None
    for branch in options:
        properties = branch.get("properties", {}) if isinstance(branch, dict) else {}
        enum = properties.get(name, {}).get("enum")
        if isinstance(enum, list) and len(enum) == 1:
            index.typed[str(enum[0])] = branch
            if name not in branch.get("required", ()):
                default = branch
            continue
        for base in properties.get(polymorphism.BASE_TYPE, {}).get("enum", ()):
            index.extensions[str(base)] = branch
    return _Branches(name, index.typed, index.extensions, default)


def choose(schema: dict[str, Any], body: Any) -> tuple[dict[str, Any], Any]:
    """The branch ``body`` is validated against and what is validated (the body, with the ``@baseType``
    its registered type implies when it is a type registered at run time); the schema itself if it is not
    discriminated, or if the body is not an object (the schema then says what is wrong)."""
    index = branches(schema)
    if index is None or not isinstance(body, dict):
        return schema, body
    value = body.get(index.property_name)
    if value is None:
        return (index.default, body) if index.default is not None else (schema, body)
    if not isinstance(value, str):
        return (index.default or schema), body  # its @type schema refuses it, naming it
    if value in index.typed:
        return index.typed[value], body
    registry = polymorphism.registry(str(schema.get("x-type-registry", "")))
    registered = registry.find(value) if registry is not None else None
    base = registered.base_type if registered is not None else body.get(polymorphism.BASE_TYPE)
    seen: set[str] = set()
    while isinstance(base, str) and base not in seen:
        if base in index.extensions:
            # A type registered at run time is checked as a subclass of its documented base (whether its
            # own @baseType, if the body states one, is the registered one is the use case's check).
            return index.extensions[base], (body if registered is None else {**body, polymorphism.BASE_TYPE: base})
        seen.add(base)
        parent = registry.find(base) if registry is not None else None
        base = parent.base_type if parent is not None else None
    raise _unknown_type(schema, registry, value, body.get(polymorphism.BASE_TYPE))


def _unknown_type(
    schema: dict[str, Any], registry: polymorphism.TypeRegistry | None, value: str, base: Any
) -> Exception:
    code = str(schema.get("x-error-code") or polymorphism.UnknownType.code)
    if registry is not None:
        try:
            registry.resolve(value, base if isinstance(base, str) else None)
        except InvalidInput as error:
            return polymorphism.UnknownType(error.message, code=code)
    return polymorphism.UnknownType(f"Unknown {polymorphism.TYPE} {value!r}.", code=code)


class DiscriminatedJSONBodyValidator(CachedJSONBodyValidator):
    """``CachedJSONBodyValidator`` that validates a discriminated ``oneOf`` body against its own branch."""

    def target(self, body: Any) -> tuple[dict[str, Any], Any]:
        return choose(self._schema, body)
