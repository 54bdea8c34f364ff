"""The attribute names a representation can have, read from the served OpenAPI schema of its type.

``fields=`` (TMF630 Part 1 "Attribute selection") and the hub's event query (TMF630 "Notifications") name
attributes with dotted paths (``resourceCharacteristic.name``, ``event.resource.resourceStatus``). A path
the schema does not declare is a client's mistake, reported rather than silently selecting nothing::

    RESOURCE_MEMBERS = schema_members(SPEC, "Resource", "LogicalResource", "PhysicalResource")
    RESOURCE_MEMBERS.check("resourceCharacteristic.name")   # fine
    RESOURCE_MEMBERS.check("bogus")                         # UnknownMember naming 'bogus'

A path walks through arrays to their items (TMF630: a path through a list names a member of its elements).
Where the schema says nothing about what is below (``{}``, ``type: object`` without properties,
``additionalProperties: true``: a characteristic's ``value``, an audit record's ``before``) the tree is
*open* and any deeper path is accepted. Several schema names (or a ``oneOf``/``anyOf``, as for a type and
its registered subclasses) give the union of their members.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from common.tmf.errors import InvalidQuery
from common.tmf.spec import load_document


class UnknownMember(InvalidQuery):
    """A dotted path that names no attribute of the type's schema."""

    code = "UNKNOWN_ATTRIBUTE"


@dataclass(eq=False)
class MemberTree:
    """The members below one schema node. ``open``: the schema does not restrict what is below."""

    members: dict[str, MemberTree] = field(default_factory=dict)
    open: bool = False
    # The members the schema requires (a ``fields=`` projection inside this node keeps them, so that a
    # projected representation still conforms to the schema: ``common.tmf.query.parse_checked_fields``).
    required: frozenset[str] = frozenset()

    @classmethod
    def of(cls, **members: MemberTree | None) -> MemberTree:
        """A hand-made tree (``None``: a scalar leaf); for schemas that are not in a served document."""
        return cls(members={name: tree if tree is not None else cls() for name, tree in members.items()})

    @property
    def is_leaf(self) -> bool:
        return not self.members and not self.open

    def unknown_prefix(self, path: Iterable[str]) -> tuple[tuple[str, ...], MemberTree] | None:
        """``None`` when the schema declares ``path``; else the longest declared prefix and its node."""
        node = self
        walked: list[str] = []
        for segment in path:
            if node.open:
                return None
            child = node.members.get(segment)
            if child is None:
                return tuple(walked), node
            walked.append(segment)
            node = child
        return None

    def problem(self, dotted: str, what: str = "attribute") -> str | None:
        """``None`` when the schema declares ``dotted``; else a message naming the first unknown segment."""
        found = self.unknown_prefix(dotted.split("."))
        if found is None:
            return None
        prefix, node = found
        return _unknown_message(dotted, prefix, node, what)

    def check(self, dotted: str, what: str = "attribute") -> None:
        """Raise ``UnknownMember`` naming the first segment of ``dotted`` the schema does not declare."""
        problem = self.problem(dotted, what)
        if problem is not None:
            raise UnknownMember(problem)

    def union(self, other: MemberTree) -> MemberTree:
        """A new tree declaring what either declares (used for a type and its subclasses)."""
        merged = MemberTree(
            members=dict(self.members), open=self.open or other.open, required=self.required | other.required
        )
        for name, tree in other.members.items():
            mine = merged.members.get(name)
            merged.members[name] = tree if mine is None or mine is tree else mine.union(tree)
        return merged


def _unknown_message(dotted: str, prefix: tuple[str, ...], node: MemberTree, what: str) -> str:
    missing = dotted.split(".")[len(prefix)]
    if node.is_leaf:
        return f"Unknown {what} {dotted!r}: {'.'.join(prefix)!r} has no members."
    where = f"of {'.'.join(prefix)!r}" if prefix else "of this type"
    close = difflib.get_close_matches(missing, list(node.members), n=3)
    hint = f" Did you mean {', '.join(repr(name) for name in close)}?" if close else ""
    return f"Unknown {what} {dotted!r}: {missing!r} is not a member {where}.{hint}"


def schema_members(spec_path: Path, *schema_names: str) -> MemberTree:
    """The union of the members of ``#/components/schemas/<name>`` for each name, in the OpenAPI document
    at ``spec_path`` (``$ref`` to other files followed, cycles shared, not expanded)."""
    if not schema_names:
        raise ValueError("schema_members needs at least one schema name")
    trees = [_Builder().build(spec_path.resolve(), f"#/components/schemas/{name}") for name in schema_names]
    result = trees[0]
    for tree in trees[1:]:
        result = result.union(tree)
    return result


class _Builder:
    """Turns schemas into trees; one node per ``$ref`` target, so recursive schemas become cycles."""

    def __init__(self) -> None:
        self._by_ref: dict[tuple[Path, str], MemberTree] = {}

    def build(self, document: Path, pointer: str) -> MemberTree:
        key = (document, pointer)
        found = self._by_ref.get(key)
        if found is not None:
            return found
        node = MemberTree()
        self._by_ref[key] = node  # before filling it: a recursive reference finds this node
        self._fill(node, document, _resolve_pointer(load_document(document), pointer))
        return node

    def _tree(self, document: Path, schema: Any) -> MemberTree:
        """The node of a member's schema: a ``$ref`` (or an array of one) shares its target's node."""
        if isinstance(schema, dict) and "$ref" in schema:
            return self.build(*_split_ref(document, schema["$ref"]))
        if isinstance(schema, dict) and "items" in schema and "properties" not in schema:
            return self._tree(document, schema["items"])  # a path through an array names its items' members
        node = MemberTree()
        self._fill(node, document, schema)
        return node

    def _fill(self, node: MemberTree, document: Path, schema: Any) -> None:
        if not isinstance(schema, dict):
            node.open = True
            return
        if "$ref" in schema:
            _merge_into(node, self.build(*_split_ref(document, schema["$ref"])))
            return
        if "items" in schema:
            _merge_into(node, self._tree(document, schema["items"]))
            return
        combined = [*schema.get("allOf", ()), *schema.get("oneOf", ()), *schema.get("anyOf", ())]
        for part in combined:
            self._fill(node, document, part)
        required = schema.get("required")
        if isinstance(required, list):
            node.required = node.required | frozenset(str(name) for name in required)
        properties = schema.get("properties")
        if isinstance(properties, dict):
            for name, member in properties.items():
                child = self._tree(document, member)
                existing = node.members.get(name)
                node.members[name] = child if existing is None or existing is child else existing.union(child)
        if schema.get("additionalProperties") not in (None, False):
            node.open = True
        if not combined and not properties and _may_be_object(schema):
            node.open = True  # ``{}`` or ``type: object`` alone: anything may be below


def _merge_into(node: MemberTree, other: MemberTree) -> None:
    for name, tree in other.members.items():
        existing = node.members.get(name)
        node.members[name] = tree if existing is None or existing is tree else existing.union(tree)
    node.open = node.open or other.open
    node.required = node.required | other.required


def _may_be_object(schema: dict[str, Any]) -> bool:
    kind = schema.get("type")
    return "enum" not in schema and kind in (None, "object")


def _split_ref(document: Path, ref: str) -> tuple[Path, str]:
    file_part, _, pointer = ref.partition("#")
    target = (document.parent / file_part).resolve() if file_part else document
    return target, "#" + pointer


def _resolve_pointer(document: Any, pointer: str) -> Any:
    node = document
    for token in pointer.lstrip("#").strip("/").split("/"):
        if token:
            node = node[token.replace("~1", "/").replace("~0", "~")]
    return node


@cache
def cached_schema_members(spec_path: Path, schema_names: tuple[str, ...]) -> MemberTree:
    """``schema_members``, built once per document and names (documents do not change while serving)."""
    return schema_members(spec_path, *schema_names)
