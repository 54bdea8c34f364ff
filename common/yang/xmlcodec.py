"""RFC 7951 JSON <-> NETCONF XML (RFC 7950 §7), guided by the shared yangson schema.

yangson's own XML support writes identityrefs as ``module:name`` without declaring a prefix and cannot
resolve XML prefixes, so NETCONF needs its own codec: leaves are parsed with yangson's types, namespaces
and identityref prefixes come from :mod:`common.yang.model`.
"""

from __future__ import annotations

from typing import Any

from lxml import etree
from yangson.datatype import DataType, IdentityrefType, LeafrefType, UnionType
from yangson.schemanode import (
    ContainerNode,
    DataNode,
    InternalNode,
    LeafListNode,
    LeafNode,
    ListNode,
    SchemaNode,
    TerminalNode,
)

from common.yang.model import data_model, module_by_name, module_by_namespace

RawValue = Any


class DecodeError(Exception):
    """A leaf value in XML that its YANG type does not accept (RFC 6241 ``invalid-value``)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def qname(node: SchemaNode) -> str:
    """Clark-notation XML tag of a schema node: ``{namespace}name``."""
    return f"{{{module_by_name()[node.ns].namespace}}}{node.name}"


def prefixed(node: SchemaNode) -> str:
    """``prefix:name`` of a schema node for XPath error paths (RFC 6241 §4.3 error-path)."""
    return f"{module_by_name()[node.ns].prefix}:{node.name}"


def schema_child(parent: InternalNode, tag: str) -> DataNode | None:
    """The data node a Clark-notation XML tag names under ``parent``, or None if the schema has none."""
    if not tag.startswith("{"):
        return None
    namespace, _, local = tag[1:].partition("}")
    module = module_by_namespace().get(namespace)
    if module is None:
        return None
    child = parent.get_data_child(local, module.name)
    return child if isinstance(child, DataNode) else None


def top_level_child(tag: str) -> DataNode | None:
    return schema_child(data_model().schema, tag)


# --- XML -> JSON (leaf values) -------------------------------------------------------------------


def _base_type(dtype: DataType) -> DataType:
    while isinstance(dtype, LeafrefType):
        dtype = dtype.ref_type
    return dtype


def _decode_identity(text: str, elem: etree._Element) -> str:
    head, sep, tail = text.strip().partition(":")
    prefix, name = (head, tail) if sep else (None, head)
    namespace = elem.nsmap.get(prefix)
    module = module_by_namespace().get(namespace or "")
    if module is None:
        raise DecodeError(f"unknown identity prefix in {text!r}")
    return f"{module.name}:{name}"


def _decode_with_type(dtype: DataType, text: str, elem: etree._Element) -> RawValue:
    dtype = _base_type(dtype)
    if isinstance(dtype, IdentityrefType):
        raw = _decode_identity(text, elem)
        value = dtype.from_raw(raw)
    elif isinstance(dtype, UnionType):
        for member in dtype.types:
            try:
                return _decode_with_type(member, text, elem)
            except DecodeError:
                continue
        raise DecodeError(f"{text!r} matches no member type of the union")
    else:
        value = dtype.parse_value(text)
    if value is None:
        raise DecodeError(f"{text!r} is not a valid {dtype}")
    if value not in dtype:
        raise DecodeError(f"{text!r}: {dtype.error_message or 'invalid value'}")
    return dtype.to_raw(value)


def decode_leaf(node: TerminalNode, elem: etree._Element) -> RawValue:
    """The RFC 7951 value of a leaf or leaf-list element, checked against its type (range, pattern...)."""
    text = elem.text or ""
    if _base_type(node.type).__class__.__name__ != "StringType":
        text = text.strip()
    return _decode_with_type(node.type, text, elem)


# --- JSON -> XML ------------------------------------------------------------------------------------


def _leaf_text(node: TerminalNode, value: RawValue) -> tuple[str | None, dict[str, str]]:
    """The XML text of a raw leaf value and the namespace declarations it needs."""
    dtype = _base_type(node.type)
    if isinstance(value, bool):
        return ("true" if value else "false"), {}
    if isinstance(value, list) and value == [None]:  # type empty
        return None, {}
    if isinstance(value, str) and ":" in value and isinstance(dtype, (IdentityrefType, UnionType)):
        module_name, _, ident = value.partition(":")
        module = module_by_name().get(module_name)
        if module is not None:
            return f"{module.prefix}:{ident}", {module.prefix: module.namespace}
    return str(value), {}


def _append_leaf(parent: etree._Element, node: TerminalNode, value: RawValue) -> None:
    text, nsmap = _leaf_text(node, value)
    elem = etree.SubElement(parent, qname(node), nsmap=nsmap or None)
    elem.text = text


def _nsmap_for(node: SchemaNode, parent: etree._Element | None) -> dict[str | None, str] | None:
    namespace = module_by_name()[node.ns].namespace
    if parent is not None and parent.nsmap.get(None) == namespace:
        return None
    return {None: namespace}


def _append_object(parent: etree._Element, node: InternalNode, raw: dict[str, RawValue]) -> None:
    """Children of a container or list entry; list keys first (RFC 7950 §7.8.5)."""
    keys = [k[0] for k in node.keys] if isinstance(node, ListNode) else []
    names = [k for k in keys if k in raw] + [k for k in raw if k not in keys]
    for member in names:
        module, _, local = member.rpartition(":")
        child = node.get_data_child(local, module or node.ns)
        if child is not None:
            append_member(parent, child, raw[member])


def append_member(parent: etree._Element, node: DataNode, value: RawValue) -> None:
    """Append the XML of one RFC 7951 member (any kind of data node) under ``parent``."""
    if isinstance(node, LeafNode):
        _append_leaf(parent, node, value)
    elif isinstance(node, LeafListNode):
        for item in value:
            _append_leaf(parent, node, item)
    elif isinstance(node, ListNode):
        for entry in value:
            elem = etree.SubElement(parent, qname(node), nsmap=_nsmap_for(node, parent))
            _append_object(elem, node, entry)
    elif isinstance(node, ContainerNode):
        elem = etree.SubElement(parent, qname(node), nsmap=_nsmap_for(node, parent))
        _append_object(elem, node, value)


def to_xml(raw: dict[str, RawValue], parent: etree._Element) -> etree._Element:
    """Append the XML of a whole RFC 7951 data tree (a datastore) under ``parent`` (``<data>``...)."""
    root = data_model().schema
    for member, value in raw.items():
        module, _, local = member.partition(":")
        node = root.get_data_child(local, module)
        if node is not None:
            append_member(parent, node, value)
    return parent


def from_xml(parent: etree._Element) -> dict[str, RawValue]:
    """RFC 7951 data from the children of ``<config>`` (copy-config with inline config).

    Raises :class:`UnknownElement` or :class:`DecodeError` with the offending element.
    """
    result: dict[str, RawValue] = {}
    root = data_model().schema
    for elem in parent:
        if not isinstance(elem.tag, str):
            continue
        node = top_level_child(elem.tag)
        if node is None:
            raise UnknownElement(elem)
        _decode_member(result, root, node, elem)
    return result


class UnknownElement(Exception):
    """An XML element the schema does not define (RFC 6241 ``unknown-element``)."""

    def __init__(self, elem: etree._Element) -> None:
        super().__init__(etree.QName(elem).localname)
        self.elem = elem


def _decode_member(target: dict[str, RawValue], parent: InternalNode, node: DataNode, elem: etree._Element) -> None:
    name = node.iname()
    if isinstance(node, LeafNode):
        target[name] = decode_leaf(node, elem)
    elif isinstance(node, LeafListNode):
        target.setdefault(name, []).append(decode_leaf(node, elem))
    elif isinstance(node, ListNode):
        target.setdefault(name, []).append(_decode_object(node, elem))
    elif isinstance(node, InternalNode):
        target[name] = _decode_object(node, elem)


def _decode_object(node: InternalNode, elem: etree._Element) -> dict[str, RawValue]:
    obj: dict[str, RawValue] = {}
    for child_elem in elem:
        if not isinstance(child_elem.tag, str):
            continue
        child = schema_child(node, child_elem.tag)
        if child is None:
            raise UnknownElement(child_elem)
        _decode_member(obj, node, child, child_elem)
    return obj
