"""XML helpers shared by the drivers: wrapping ``<config>``, canonical text and diffs, read-back
containment, and (for the fake) RFC 6241 edit-config and subtree-filter semantics.

Without YANG at hand, list entries are told apart by a key leaf found by name (``name``, ``id``,
``vlan-id``, ``destination-prefix``, ``prefix``, ``ip``); this holds for ietf-interfaces, ietf-ip,
ietf-routing static routes and our VLAN module, which is what we configure.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass

from lxml import etree

NC_NS = "urn:ietf:params:xml:ns:netconf:base:1.0"
NC_OPERATION = f"{{{NC_NS}}}operation"
KEY_LEAVES = ("name", "id", "vlan-id", "destination-prefix", "prefix", "ip")

_PARSER = etree.XMLParser(remove_blank_text=True, resolve_entities=False, no_network=True)


def parse(xml: str) -> etree._Element:
    return etree.fromstring(xml.encode() if isinstance(xml, str) else xml, _PARSER)


def local(element: etree._Element) -> str:
    return str(etree.QName(element).localname)


def children_of_root(xml: str) -> list[etree._Element]:
    """Top-level config nodes of ``xml``: the children of ``<config>``/``<data>``, or the root itself."""
    root = parse(xml)
    if local(root) in ("config", "data", "rpc-reply"):
        if local(root) == "rpc-reply":
            data = root.find(f"{{{NC_NS}}}data")
            return list(data) if data is not None else []
        return list(root)
    return [root]


def config_element(xml: str) -> etree._Element:
    """A ``<config>`` element (NETCONF base namespace) holding the top-level nodes of ``xml``."""
    config = etree.Element(f"{{{NC_NS}}}config", nsmap={"nc": NC_NS})
    for node in children_of_root(xml):
        config.append(node)
    return config


def to_text(element: etree._Element) -> str:
    return str(etree.tostring(element, encoding="unicode"))


def is_leaf(element: etree._Element) -> bool:
    return len(element) == 0


def _value(element: etree._Element) -> str:
    """Leaf value; identityref prefixes are resolved to namespace so ``a:eth`` == ``b:eth``."""
    text = (element.text or "").strip()
    prefix, sep, name = text.partition(":")
    if sep and prefix and " " not in text and prefix in (element.nsmap or {}):
        return f"{{{element.nsmap[prefix]}}}{name}"
    return text


def identity(element: etree._Element) -> tuple[str, str | None]:
    """(qualified name, key value) that identifies a node among its siblings."""
    for key in KEY_LEAVES:
        for child in element:
            if is_leaf(child) and local(child) == key:
                return (element.tag, _value(child))
    return (element.tag, None)


def describe(element: etree._Element) -> str:
    """A readable path such as ``/interfaces/interface[name=ge-0/0/1]/description``."""
    parts = []
    node: etree._Element | None = element
    while node is not None and local(node) not in ("config", "data"):
        _, key = identity(node)
        parts.append(f"{local(node)}[{key}]" if key is not None and not is_leaf(node) else local(node))
        node = node.getparent()
    return "/" + "/".join(reversed(parts))


def canonical(nodes: Iterable[etree._Element]) -> str:
    """Pretty-printed XML with insignificant whitespace removed, for diffs and comparisons."""
    out = []
    for node in nodes:
        copy = parse(to_text(node))
        for element in copy.iter():
            if len(element) == 0 and element.text is not None and not element.text.strip():
                element.text = None  # whitespace-only content of an empty container
        out.append(etree.tostring(copy, pretty_print=True, encoding="unicode"))
    return "".join(out)


def unified_diff(before: str, after: str, before_name: str = "running", after_name: str = "candidate") -> str:
    lines = difflib.unified_diff(
        before.splitlines(keepends=True), after.splitlines(keepends=True), before_name, after_name
    )
    return "".join(lines)


def _matches(expected: etree._Element, actual: etree._Element) -> bool:
    """Does ``actual`` hold everything in ``expected`` (same node, every leaf value)?"""
    if expected.tag != actual.tag:
        return False
    if is_leaf(expected):
        return _value(expected) == _value(actual) if (expected.text or "").strip() else True
    return all(any(_matches(child, candidate) for candidate in actual) for child in expected)


@dataclass(frozen=True)
class Containment:
    missing: tuple[str, ...]
    unexpected: tuple[str, ...]


def containment(expected_xml: str, running_xml: str) -> Containment:
    """Compare what was sent with what running holds (RFC 6241 edit semantics).

    Nodes with ``nc:operation`` delete/remove must be absent (matched by identity); everything else
    must be present with the same leaf values.
    """
    running = children_of_root(running_xml)
    missing: list[str] = []
    unexpected: list[str] = []

    def walk(expected: list[etree._Element], actual: list[etree._Element]) -> None:
        for node in expected:
            operation = node.get(NC_OPERATION)
            same = [candidate for candidate in actual if identity(candidate) == identity(node)]
            if operation in ("delete", "remove"):
                if same:
                    unexpected.append(describe(node))
                continue
            if not same:
                missing.append(describe(node))
            elif is_leaf(node):
                if (node.text or "").strip() and not any(_value(c) == _value(node) for c in same):
                    missing.append(describe(node))
            else:
                walk(list(node), list(same[0]))

    walk(children_of_root(expected_xml), running)
    return Containment(tuple(missing), tuple(unexpected))


# ---------------------------------------------------------------------------------------------
# Subtree filtering (RFC 6241 §6) and edit-config (RFC 6241 §7.2) for the in-memory fake.
# ---------------------------------------------------------------------------------------------


def subtree_filter(nodes: list[etree._Element], filter_xml: str | None) -> list[etree._Element]:
    if filter_xml is None:
        return [parse(to_text(node)) for node in nodes]
    selected: list[etree._Element] = []
    for selector in children_of_root(filter_xml):
        for node in nodes:
            picked = _select(selector, node)
            if picked is not None:
                selected.append(picked)
    return selected


def _select(selector: etree._Element, node: etree._Element) -> etree._Element | None:
    if selector.tag != node.tag:
        return None
    if is_leaf(selector):
        text = (selector.text or "").strip()
        if text and _value(selector) != _value(node):
            return None
        return parse(to_text(node))
    content_matches = [child for child in selector if is_leaf(child) and (child.text or "").strip()]
    for match in content_matches:
        if not any(match.tag == c.tag and _value(match) == _value(c) for c in node):
            return None
    others = [child for child in selector if child not in content_matches]
    result = etree.Element(node.tag, nsmap=node.nsmap)
    if not others:  # only content-match nodes: the whole subtree is selected
        return parse(to_text(node))
    for child in node:
        if any(child.tag == m.tag for m in content_matches):
            result.append(parse(to_text(child)))
            continue
        for other in others:
            picked = _select(other, child)
            if picked is not None:
                result.append(picked)
    return result if len(result) else None


class EditError(Exception):
    """An edit-config failure with the RFC 6241 Appendix A error-tag and the path of the node."""

    def __init__(self, tag: str, path: str, message: str) -> None:
        super().__init__(message)
        self.tag = tag
        self.path = path
        self.message = message


def apply_edit(target: etree._Element, config: etree._Element, default_operation: str) -> None:
    """Apply ``config``'s children to the datastore root ``target`` in place (RFC 6241 §7.2)."""
    for node in list(config):
        _edit(target, node, default_operation)
    _prune_empty(target)


def _prune_empty(root: etree._Element) -> None:
    """Drop containers left empty (non-presence containers do not exist without children)."""
    for element in reversed(list(root.iter())):  # children first, so emptiness cascades upwards
        parent = element.getparent()
        if parent is not None and element is not root and len(element) == 0 and element.text is None:
            parent.remove(element)


def _strip_operations(node: etree._Element) -> etree._Element:
    copy = parse(to_text(node))
    for element in copy.iter():
        element.attrib.pop(NC_OPERATION, None)
    # No cleanup_namespaces: identityref values ("ianaift:ethernetCsmacd") use prefixes in text.
    return copy


def _edit(parent: etree._Element, node: etree._Element, inherited: str) -> None:
    operation = node.get(NC_OPERATION, inherited)
    existing = next((c for c in parent if identity(c) == identity(node)), None)
    if operation in ("delete", "remove"):
        if existing is None:
            if operation == "delete":
                raise EditError("data-missing", describe(node), "node to delete does not exist")
            return
        parent.remove(existing)
        return
    if operation == "create":
        if existing is not None:
            raise EditError("data-exists", describe(node), "node to create already exists")
        parent.append(_strip_operations(node))
        return
    if operation == "replace":
        if existing is not None:
            parent.replace(existing, _strip_operations(node))
        else:
            parent.append(_strip_operations(node))
        return
    nested = any(c.get(NC_OPERATION) for c in node.iter() if c is not node)
    if existing is None:
        if operation == "merge" and not nested:
            parent.append(_strip_operations(node))
            return
        if is_leaf(node):
            if operation == "none":
                raise EditError("data-missing", describe(node), "node does not exist")
            parent.append(_strip_operations(node))
            return
        existing = etree.SubElement(parent, node.tag, nsmap=node.nsmap)
    if is_leaf(node):
        if operation == "merge":  # a copy keeps the namespace declarations identityref values need
            parent.replace(existing, _strip_operations(node))
        return
    for child in node:
        _edit(existing, child, operation)
