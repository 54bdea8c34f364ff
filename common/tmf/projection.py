"""Attribute selection (TMF630 Part 1 §"Attribute selection"): ``?fields=name,resourceStatus``.

``id``, ``href`` and ``@type`` are always returned (the conformance kits expect them); ``fields=none``
returns only those. A dotted field (``resourceCharacteristic.name``) keeps that member inside the
object or inside every element of the array. Unknown field names select nothing and are not an error:
TMF630 lets a client ask for attributes an instance happens not to have.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

ALWAYS_KEPT: tuple[str, ...] = ("id", "href", "@type")

# A selection tree: member name -> nested selection, or None for "the whole member".
Selection = dict[str, "Selection | None"]


@dataclass(frozen=True)
class Fields:
    """A parsed ``fields`` parameter."""

    tree: Selection

    def apply(self, document: dict[str, Any]) -> dict[str, Any]:
        return project(document, self)


def parse_fields(raw: str | None) -> Fields | None:
    """``None`` when the client did not ask for a selection (return everything)."""
    if raw is None:
        return None
    names = [name.strip() for name in raw.split(",") if name.strip()]
    if names == [] or [name.lower() for name in names] == ["none"]:
        return Fields(tree={})
    tree: Selection = {}
    for name in names:
        node = tree
        segments = name.split(".")
        for depth, segment in enumerate(segments):
            last = depth == len(segments) - 1
            if last:
                node[segment] = None
                break
            existing = node.get(segment, {})
            if existing is None:  # the whole member is already selected
                break
            node[segment] = existing
            node = existing
    return Fields(tree=tree)


def project(document: dict[str, Any], fields: Fields | None, always: tuple[str, ...] = ALWAYS_KEPT) -> dict[str, Any]:
    """The members of ``document`` that ``fields`` selects, plus ``always``, in document order."""
    if fields is None:
        return document
    selection = dict(fields.tree)
    for name in always:
        selection[name] = None
    return _select(document, selection)


def _select(document: dict[str, Any], selection: Selection) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in document.items():
        if key not in selection:
            continue
        nested = selection[key]
        if nested is None:
            result[key] = value
        elif isinstance(value, dict):
            result[key] = _select(value, nested)
        elif isinstance(value, list):
            result[key] = [_select(item, nested) if isinstance(item, dict) else item for item in value]
        else:
            result[key] = value
    return result
