"""What a list or retrieve operation's query rules look like in its OpenAPI document (issue 14.22).

The server refuses an unknown ``sort`` or ``fields`` name and an empty filter value (TMF630: a mistake is
reported, never ignored); the documents say so with a ``pattern`` built from the very ``QuerySpec`` and
member tree the handler checks against, so a client generator or a fuzzer learns the rule from the contract
and the two cannot drift. ``server.documents`` puts them into the served documents.

The patterns follow the parsers exactly (``common.tmf.query``): a comma-separated list whose elements are
stripped of whitespace, empty elements skipped (``sort``, ``fields``) or refused (filter values);
``sort`` names may carry ``-`` (descending) or ``+``; ``fields=none`` alone selects nothing; a dotted
``fields`` path names declared members, and anything below a member the schema leaves open.
"""

from __future__ import annotations

import re

from common.tmf.members import MemberTree
from common.tmf.query import ColumnAttribute, QuerySpec

# What ``str.strip()`` strips (``str.isspace``), spelt out: ``\s`` means that to Python's ``re`` but not to
# every generator of strings from a pattern (hypothesis takes U+001E for a non-space).
_WS_CHARS = "\\t-\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000"
WS = f"[{_WS_CHARS}]"
# Any character but a comma; what an open member (``value`` of a characteristic) may have below it.
_ANY_BELOW = r"(?:\.[^,]*)?"
# A filter value list: every comma-separated element has something besides whitespace.
_SOLID = f"[^,{_WS_CHARS}]"
FILTER_VALUE_PATTERN = f"^[^,]*{_SOLID}[^,]*(?:,[^,]*{_SOLID}[^,]*)*$"


def sortable_names(spec: QuerySpec) -> list[str]:
    return sorted(a.name for a in spec.attributes if isinstance(a, ColumnAttribute) and a.sortable)


def sort_pattern(spec: QuerySpec) -> str:
    """``sort``: a list of sortable attribute names, each with an optional ``-``/``+`` in front."""
    names = "|".join(re.escape(name) for name in sortable_names(spec))
    element = rf"{WS}*(?:[+-]*{WS}*(?:{names}){WS}*)?"
    return rf"^{element}(?:,{element})*$"


def fields_pattern(members: MemberTree) -> str:
    """``fields``: ``none``, or a list of member paths the type's schema declares."""
    path = _members_pattern(members, ())
    element = rf"{WS}*(?:(?:{path}){WS}*)?"
    none = rf"(?:{WS}*,)*{WS}*[nN][oO][nN][eE]{WS}*(?:,{WS}*)*"
    return rf"^(?:{none}|{element}(?:,{element})*)$"


def _members_pattern(node: MemberTree, walked: tuple[int, ...]) -> str:
    alternatives = []
    for name, child in sorted(node.members.items()):
        alternatives.append(re.escape(name) + _below(child, (*walked, id(node))))
    return "|".join(alternatives)


def _below(node: MemberTree, walked: tuple[int, ...]) -> str:
    """What may follow a member's name: nothing for a leaf, ``.<member>`` for an object, anything for an
    open one (and for a schema that refers to itself, where no finite pattern is exact: the handler still
    checks each segment)."""
    if node.open or id(node) in walked:
        return _ANY_BELOW
    if not node.members:
        return ""
    return rf"(?:\.(?:{_members_pattern(node, walked)}))?"
