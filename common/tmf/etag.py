"""Entity tags and conditional requests (RFC 9110 §8.8.3 ETag, §13.1.1 If-Match, §13.1.2 If-None-Match).

Every versioned entity a Provisio API serves gets a *strong* ETag built from its row version (the
SQLAlchemy ``version_id_col`` counter): ``"3"`` for the full representation. A representation cut down by
``fields=`` is another representation of the resource, so it gets its own tag, ``"3-<digest of the
selection>"``: a cache or client can never mistake a projection for the whole resource.

- ``If-Match`` (writes): ``*`` or a list of entity tags, compared *strongly* against the full
  representation's tag (a weak tag never matches, §13.1.1); no match is a 412. The check runs inside the
  use case's transaction against the locked row (``Preconditions.check``), so two clients racing with the
  same tag get one success and one 412, never a lost update.
- ``If-None-Match`` (reads): ``*`` or a list, compared *weakly* (§13.1.2); a match on GET/HEAD is a 304,
  on a write a 412.

A malformed field (``If-Match: 1``, an unquoted tag) is a 400 naming the header: it can never match, and a
client sending it has a bug it should learn about. Only the HTTP glue (``server.conditional``) reads
headers; this module is pure.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from common.errors import InvalidInput, PreconditionFailed, PreconditionRequired


class InvalidEntityTag(InvalidInput):
    code = "INVALID_ENTITY_TAG"
    reason = "Bad request"


class EntityTagMismatch(PreconditionFailed):
    code = "PRECONDITION_FAILED"


class IfMatchRequired(PreconditionRequired):
    code = "PRECONDITION_REQUIRED"


@dataclass(frozen=True)
class EntityTag:
    """``opaque`` is the tag between the quotes; ``weak`` for ``W/"..."``."""

    opaque: str
    weak: bool = False

    def __str__(self) -> str:
        return f'{"W/" if self.weak else ""}"{self.opaque}"'

    def strong_match(self, other: EntityTag) -> bool:
        """RFC 9110 §8.8.3.2: both strong and the same opaque tag."""
        return not self.weak and not other.weak and self.opaque == other.opaque

    def weak_match(self, other: EntityTag) -> bool:
        """RFC 9110 §8.8.3.2: the same opaque tag, weak or not."""
        return self.opaque == other.opaque


class _Any:
    """The ``*`` of If-Match / If-None-Match: any current representation."""

    def __repr__(self) -> str:
        return "ANY"


ANY = _Any()
TagList = tuple[EntityTag, ...] | _Any

# entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE ; etagc = %x21 / %x23-7E / obs-text (RFC 9110 §8.8.3)
_ENTITY_TAG = re.compile(r'(W/)?"([\x21\x23-\x7e\x80-\xff]*)"')
# Between two list elements: OWS "," with empty elements allowed (RFC 9110 §5.6.1), or the end.
_SEPARATOR = re.compile(r"[ \t]*(?:,[ \t,]*|\Z)")


def entity_tag(version: int, selection: Any = None) -> EntityTag:
    """The strong ETag of version ``version`` of an entity; ``selection`` (a ``fields=`` tree) names a
    projection, which gets a tag of its own."""
    if selection is None:
        return EntityTag(str(version))
    canonical = json.dumps(selection, sort_keys=True, separators=(",", ":"))
    return EntityTag(f"{version}-{hashlib.sha256(canonical.encode()).hexdigest()[:12]}")


def parse_tag_list(field_value: str, header: str) -> TagList:
    """``*`` or ``#entity-tag`` (RFC 9110 §5.6.1 lists: empty elements allowed); 400 otherwise."""
    value = field_value.strip(" \t")
    if value == "*":
        return ANY
    tags: list[EntityTag] = []
    # Scanned, not split on commas: a comma is a legal character inside an opaque tag.
    position = len(value) - len(value.lstrip(" \t,"))
    while position < len(value):
        match = _ENTITY_TAG.match(value, position)
        separator = _SEPARATOR.match(value, match.end()) if match else None
        if match is None or separator is None:
            raise InvalidEntityTag(
                f'{header} must be "*" or a list of quoted entity tags such as "3" or W/"3", not {field_value!r}.'
            )
        tags.append(EntityTag(match.group(2), weak=match.group(1) is not None))
        position = separator.end()
    if not tags:
        raise InvalidEntityTag(f'{header} is empty; send an entity tag such as "3" or leave the header out.')
    return tuple(tags)


@dataclass(frozen=True)
class Preconditions:
    """The conditions of a request (RFC 9110 §13.2.2 order: If-Match, then If-None-Match).

    ``None`` for a header the client did not send."""

    if_match: TagList | None = None
    if_none_match: TagList | None = None

    @classmethod
    def parse(cls, if_match: str | None, if_none_match: str | None) -> Preconditions:
        return cls(
            if_match=parse_tag_list(if_match, "If-Match") if if_match is not None else None,
            if_none_match=parse_tag_list(if_none_match, "If-None-Match") if if_none_match is not None else None,
        )

    def require_if_match(self) -> Preconditions:
        """428 (RFC 6585 §3) unless the client sent If-Match: for servers that forbid blind writes."""
        if self.if_match is None:
            raise IfMatchRequired(
                "This server requires If-Match on every change: GET the entity and send its ETag in If-Match."
            )
        return self

    def check(self, current: EntityTag, what: str = "the entity") -> None:
        """For a write on an existing entity whose full representation has tag ``current``: 412 unless
        If-Match matches it strongly and If-None-Match matches it not at all."""
        if self.if_match is not None and not _matches(self.if_match, current, strong=True):
            if not isinstance(self.if_match, _Any) and all(tag.weak for tag in self.if_match):
                raise EntityTagMismatch(
                    f"If-Match {_shown(self.if_match)} is weak, and If-Match compares strongly (RFC 9110 §13.1.1): "
                    f"send the ETag as the server gave it, {current}."
                )
            raise EntityTagMismatch(
                f"{what} has changed: If-Match {_shown(self.if_match)} does not match its current ETag {current}. "
                "GET it again and retry with the new ETag."
            )
        if self.if_none_match is not None and _matches(self.if_none_match, current, strong=False):
            raise EntityTagMismatch(
                f"{what} has ETag {current}, which If-None-Match {_shown(self.if_none_match)} excludes."
            )

    def not_modified(self, current: EntityTag) -> bool:
        """For GET/HEAD: True when If-None-Match matches ``current`` weakly, i.e. the answer is a 304."""
        return self.if_none_match is not None and _matches(self.if_none_match, current, strong=False)


def _matches(tags: TagList, current: EntityTag, *, strong: bool) -> bool:
    if isinstance(tags, _Any):
        return True  # the entity exists: the caller only checks conditions on an existing one
    if strong:
        return any(tag.strong_match(current) for tag in tags)
    return any(tag.weak_match(current) for tag in tags)


def _shown(tags: TagList) -> str:
    return "*" if isinstance(tags, _Any) else ", ".join(str(tag) for tag in tags)
