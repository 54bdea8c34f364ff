"""Validate a configuration datastore against the YANG modules and turn failures into rpc-error fields.

yangson reports ``YangTypeError``, ``SchemaError`` and ``SemanticError`` with the failing instance; we map
them to the error-tag a NETCONF server sends (RFC 6241 Appendix A, RFC 7950 §8.3.1 and §15) and give an
XPath error-path with the modules' prefixes (RFC 6241 §4.3).
"""

from __future__ import annotations

import logging
import re
from typing import Any

from yangson.enumerations import ContentType
from yangson.exceptions import (
    RawDataError,
    RawMemberError,
    SchemaError,
    SemanticError,
    ValidationError,
    YangsonException,
    YangTypeError,
)
from yangson.schemanode import InternalNode, ListNode, SchemaNode

from common.yang.model import data_model, module_by_name

logger = logging.getLogger(__name__)


class ValidationFailed(Exception):
    """Data that the YANG modules do not accept, with the fields of the ``<rpc-error>`` to send."""

    def __init__(
        self,
        error_tag: str,
        error_message: str,
        error_path: str | None = None,
        error_type: str = "application",
        error_app_tag: str | None = None,
    ) -> None:
        super().__init__(f"{error_tag}: {error_message} at {error_path}")
        self.error_tag = error_tag
        self.error_path = error_path
        self.error_message = error_message
        self.error_type = error_type
        self.error_app_tag = error_app_tag


# yangson tag -> (NETCONF error-tag, error-app-tag); RFC 7950 §15 gives the app tags.
_SEMANTIC_TAGS: dict[str, tuple[str, str | None]] = {
    "instance-required": ("data-missing", "instance-required"),
    "non-unique-key": ("data-exists", None),
    "data-not-unique": ("operation-failed", "data-not-unique"),
    "too-many-elements": ("operation-failed", "too-many-elements"),
    "too-few-elements": ("operation-failed", "too-few-elements"),
    "must-violation": ("operation-failed", "must-violation"),
}
_SCHEMA_TAGS: dict[str, tuple[str, str | None]] = {
    "member-not-allowed": ("unknown-element", None),
}
_MISSING = re.compile(r"^expected '([^']+)'$")


def _prefix(node: SchemaNode) -> str:
    return module_by_name()[node.ns].prefix


def xpath_of(path: tuple[Any, ...], raw: dict[str, Any]) -> str:
    """XPath (with module prefixes and list-key predicates) of a yangson instance path in ``raw``."""
    node: SchemaNode = data_model().schema
    value: Any = raw
    parts: list[str] = []
    for step in path:
        if isinstance(step, int):
            value = value[step]
            if isinstance(node, ListNode):
                preds = "".join(f"[{_prefix(node)}:{k[0]}='{value.get(k[0])}']" for k in node.keys)
                parts[-1] += preds
            else:
                parts[-1] += f"[.='{value}']"
            continue
        module, _, local = str(step).rpartition(":")
        assert isinstance(node, InternalNode)
        child = node.get_data_child(local, module or node.ns)
        if child is None:
            break
        node, value = child, value.get(step) if isinstance(value, dict) else None
        parts.append(f"{_prefix(node)}:{node.name}")
    return "/" + "/".join(parts)


def _from_validation_error(exc: ValidationError, raw: dict[str, Any]) -> ValidationFailed:
    path = xpath_of(tuple(exc.instance.path), raw)
    tag = exc.tag or ""
    message = f"{tag}: {exc.message}" if exc.message else tag
    if isinstance(exc, YangTypeError):
        return ValidationFailed("invalid-value", message, path)
    if isinstance(exc, SchemaError) and tag == "missing-data":
        return _missing_mandatory(exc, path)
    table = _SEMANTIC_TAGS if isinstance(exc, SemanticError) else _SCHEMA_TAGS
    error_tag, app_tag = table.get(tag, ("invalid-value", None))
    return ValidationFailed(error_tag, message, path, error_app_tag=app_tag)


def _missing_mandatory(exc: SchemaError, parent_path: str) -> ValidationFailed:
    """A mandatory leaf or choice is absent (RFC 7950 §7.6.5, §7.9.4): ``data-missing``.

    The error-path names the missing node itself, as netconfd does
    (``/if:interfaces/if:interface[if:name='x']/if:type``); a mandatory choice has no node of its own, so
    it names the parent with the app tag ``missing-choice`` (RFC 7950 §15.6).
    """
    found = _MISSING.match(exc.message or "")
    node = exc.instance.schema_node
    child = None
    if found is not None and isinstance(node, InternalNode):
        module, _, local = found.group(1).rpartition(":")
        child = node.get_data_child(local, module or node.ns)
    if child is None:
        return ValidationFailed("data-missing", f"mandatory choice missing: {exc.message}", parent_path,
                                error_app_tag="missing-choice")  # fmt: skip
    return ValidationFailed(
        "data-missing",
        f"mandatory node {child.name} is missing",
        f"{parent_path.rstrip('/')}/{_prefix(child)}:{child.name}",
    )


def _from_raw_error(exc: RawDataError) -> ValidationFailed:
    tag = "unknown-element" if isinstance(exc, RawMemberError) else "invalid-value"
    return ValidationFailed(tag, str(exc), exc.path)


def validate_config(raw: dict[str, Any]) -> None:
    """Check a whole configuration datastore (RFC 7951 JSON); raise :class:`ValidationFailed` if bad."""
    try:
        instance = data_model().from_raw(raw)
        instance.validate(ctype=ContentType.config)
    except ValidationError as exc:
        raise _from_validation_error(exc, raw) from None
    except RawDataError as exc:
        raise _from_raw_error(exc) from None
    except YangsonException as exc:  # anything else yangson refuses is still bad data, not a crash
        logger.debug("yangson refused data: %r", exc)
        raise ValidationFailed("invalid-value", str(exc)) from None
