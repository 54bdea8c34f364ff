"""TMF630 polymorphism: ``@type``, ``@baseType`` and ``@schemaLocation``, and which attributes a type has.

Each context registers the types of its entities in a ``TypeRegistry`` with the attributes their schema
declares (read from the served document, so the contract and the check cannot drift)::

    RESOURCE_TYPES = TypeRegistry("Resource", default="LogicalResource")
    RESOURCE_TYPES.register("Resource", base_type=None, attributes=members_of("BaseResource_Create"))
    RESOURCE_TYPES.register("LogicalResource", base_type="Resource", attributes=members_of("LogicalResource_Create"))

The rules, the same in every API:

- a registered ``@type`` is validated against its own schema, which is *closed*: an attribute it does not
  declare is a 400 naming it (``UNKNOWN_ATTRIBUTE``), on a create and on a change alike;
- an ``@type`` that is not registered is a subclass the client defined (TMF630 "extending a type"): it is
  accepted when its ``@baseType`` is registered, stored and answered with both names as sent, and validated
  as that base type (only the base's declared attributes). ``@schemaLocation`` is recorded, never fetched
  and never trusted: a client cannot switch strictness off by pointing at a schema of its own;
- anything else is a 400 (the registry's ``unknown_code``).

The served documents say the same: a create body is a ``oneOf`` of one closed schema per registered type,
discriminated by ``@type`` (``server.discriminator`` validates a body against the branch it names), and
the registry is found from the document by its name (``x-type-registry``).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from common.errors import InvalidInput

TYPE = "@type"
BASE_TYPE = "@baseType"
SCHEMA_LOCATION = "@schemaLocation"


class UnknownType(InvalidInput):
    code = "UNKNOWN_TYPE"


class UnknownAttribute(InvalidInput):
    """An attribute the entity's type does not declare (a typo such as ``resourceStatu``, or ``bogus``)."""

    code = "UNKNOWN_ATTRIBUTE"


@dataclass(frozen=True)
class RegisteredType:
    """A registered type. ``attributes``: the top-level names its schema declares (``None``: those of its
    base type). ``owner``: what the owning context needs to know about it (TMF639: who manages it)."""

    name: str
    base_type: str | None
    owner: Any = None
    attributes: frozenset[str] | None = None


@dataclass(frozen=True)
class ResolvedType:
    """The names a document is stored and answered with, and the registered type it is validated as."""

    name: str  # @type, as the client sent it
    base_type: str | None  # @baseType: the registered one, or the client's for a subclass of its own
    schema: RegisteredType  # whose attributes apply (the type itself, or the base of a client subclass)

    @property
    def is_extension(self) -> bool:
        return self.name != self.schema.name


@dataclass
class TypeRegistry:
    """The ``@type`` values of one family of entities (all resources, all orders ...)."""

    name: str | None = None  # what documents call it in ``x-type-registry`` (None: not findable by name)
    default: str | None = None  # the @type of a document that names none
    unknown_error: type[InvalidInput] = UnknownType  # what an unknown @type raises (400)
    _types: dict[str, RegisteredType] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        if self.name is not None:
            with _registries_lock:
                _REGISTRIES[self.name] = self

    @property
    def unknown_code(self) -> str:
        return self.unknown_error.code

    def register(
        self, name: str, *, base_type: str | None, owner: Any = None, attributes: Iterable[str] | None = None
    ) -> RegisteredType:
        """Register ``name``; without ``attributes`` it has those of ``base_type`` (registered then or later)."""
        if attributes is None and base_type is None:
            raise ValueError(f"type {name!r} needs attributes or a base type")
        registered = RegisteredType(
            name=name,
            base_type=base_type,
            owner=owner,
            attributes=frozenset(attributes) if attributes is not None else None,
        )
        with self._lock:
            existing = self._types.get(name)
            if existing is not None and existing != registered:
                raise ValueError(f"type {name!r} is already registered as {existing}")
            self._types[name] = registered
        return registered

    def find(self, name: str) -> RegisteredType | None:
        return self._types.get(name)

    def attributes_of(self, registered: RegisteredType) -> frozenset[str]:
        """The attributes ``registered`` declares, inherited from its base types where it declares none."""
        current: RegisteredType | None = registered
        while current is not None and current.attributes is None:
            current = self._types.get(current.base_type) if current.base_type is not None else None
        return current.attributes if current is not None and current.attributes is not None else frozenset()

    def get(self, name: str) -> RegisteredType:
        found = self._types.get(name)
        if found is None:
            raise self.unknown_error(self._unknown_message(name))
        return found

    def names(self) -> tuple[str, ...]:
        return tuple(sorted(self._types))

    def resolve(self, type_name: str | None, base_type: str | None = None) -> ResolvedType:
        """What a document with this ``@type`` and ``@baseType`` is (400 when neither is registered)."""
        name = type_name if type_name is not None else self.default
        if name is None:
            raise self.unknown_error(f"{TYPE} is required; this API knows {', '.join(self.names())}.")
        registered = self._types.get(name)
        if registered is not None:
            if base_type is not None and base_type != registered.base_type:
                raise InvalidInput(
                    f"{name} has {BASE_TYPE} {registered.base_type!r}, not {base_type!r}.", code="INVALID_BASE_TYPE"
                )
            return ResolvedType(name=name, base_type=registered.base_type, schema=registered)
        base = self._types.get(base_type) if base_type is not None else None
        if base is None:
            raise self.unknown_error(self._unknown_message(name, base_type))
        return ResolvedType(name=name, base_type=base.name, schema=base)

    def resolve_stored(self, type_name: str, base_type: str | None) -> ResolvedType:
        """``resolve`` for a stored entity: its names were checked when it was written."""
        registered = self._types.get(type_name)
        if registered is not None:
            return ResolvedType(name=type_name, base_type=base_type, schema=registered)
        return self.resolve(type_name, base_type)

    def check_attributes(self, resolved: ResolvedType, document: Mapping[str, Any], ignore: Iterable[str] = ()) -> None:
        """400 naming the first attribute of ``document`` that ``resolved``'s schema does not declare."""
        allowed = self.attributes_of(resolved.schema)
        skipped = frozenset(ignore)
        unknown = sorted(key for key in document if key not in allowed and key not in skipped)
        if unknown:
            what = resolved.name
            if resolved.is_extension:
                what += f" (validated as {resolved.schema.name})"
            raise UnknownAttribute(
                f"Unknown attribute {unknown[0]!r}: {what} does not declare it"
                + (f" (nor {', '.join(repr(name) for name in unknown[1:])})" if unknown[1:] else "")
                + ".",
                details={"attributes": unknown},
            )

    def _unknown_message(self, name: str, base_type: str | None = None) -> str:
        known = ", ".join(self.names())
        if base_type is None:
            return (
                f"Unknown {TYPE} {name!r}; this API knows {known}. A subclass of your own needs a {BASE_TYPE} "
                "naming one of them."
            )
        return f"Unknown {TYPE} {name!r} with unknown {BASE_TYPE} {base_type!r}; this API knows {known}."

    @contextmanager
    def temporarily(self, *types: RegisteredType) -> Iterator[None]:
        """Register ``types`` for the duration of a block (tests), restoring the registry afterwards."""
        with self._lock:
            saved = dict(self._types)
            self._types.update({registered.name: registered for registered in types})
        try:
            yield
        finally:
            with self._lock:
                self._types.clear()
                self._types.update(saved)


_REGISTRIES: dict[str, TypeRegistry] = {}
_registries_lock = threading.Lock()


def registry(name: str) -> TypeRegistry | None:
    """The registry a document names in ``x-type-registry`` (``None`` if no context registered it)."""
    return _REGISTRIES.get(name)
