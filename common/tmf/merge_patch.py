"""JSON Merge Patch (RFC 7396), as TMF630 Part 5 requires for ``PATCH`` with
``application/merge-patch+json``.
"""

from __future__ import annotations

import copy
from typing import Any


def merge_patch(target: Any, patch: Any) -> Any:
    """Apply ``patch`` to ``target`` and return the result; neither argument is modified.

    RFC 7396 §2: an object patch merges member by member, ``null`` removes a member, and anything else
    (arrays included) replaces the target wholesale.
    """
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result: dict[str, Any] = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def changed_members(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """Top-level member names whose value differs between two documents, in a stable order."""
    keys = list(dict.fromkeys([*before, *after]))
    return [key for key in keys if before.get(key) != after.get(key)]
