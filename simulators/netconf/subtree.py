"""Subtree filtering (RFC 6241 §6) over an XML data tree.

Works on the rendered XML so that it needs no schema: containment nodes, selection nodes and content
match nodes (with namespace wildcarding when a filter element has no namespace, §6.2.2).
"""

from __future__ import annotations

import copy

from lxml import etree


def _is_element(node: object) -> bool:
    return isinstance(node, etree._Element) and isinstance(node.tag, str)


def _children(elem: etree._Element) -> list[etree._Element]:
    return [c for c in elem if _is_element(c)]


def _same_name(data: etree._Element, fnode: etree._Element) -> bool:
    fname = etree.QName(fnode)
    dname = etree.QName(data)
    return fname.localname == dname.localname and (fname.namespace is None or fname.namespace == dname.namespace)


def _is_content_match(fnode: etree._Element) -> bool:
    return not _children(fnode) and bool((fnode.text or "").strip())


def _text(elem: etree._Element) -> str:
    return (elem.text or "").strip()


def _content_matches(data: etree._Element, content: list[etree._Element]) -> bool:
    """§6.2.5: every content match node must equal some data child of the same name."""
    kids = _children(data)
    return all(any(_same_name(d, c) and _text(d) == _text(c) for d in kids) for c in content)


def _select(data: etree._Element, fnode: etree._Element) -> etree._Element | None:
    """The filtered copy of ``data`` (already matching ``fnode`` by name), or None if nothing selected."""
    fkids = _children(fnode)
    if not fkids:
        if _is_content_match(fnode):
            return copy.deepcopy(data) if _text(data) == _text(fnode) else None
        return copy.deepcopy(data)  # selection node (§6.2.4)
    content = [f for f in fkids if _is_content_match(f)]
    others = [f for f in fkids if not _is_content_match(f)]
    if not _content_matches(data, content):
        return None
    if not others:
        return copy.deepcopy(data)  # only content matches: the whole entry (§6.2.5)
    out = etree.Element(data.tag, nsmap=data.nsmap)
    selected = False
    for child in _children(data):
        if any(_same_name(child, c) for c in content):
            out.append(copy.deepcopy(child))
            continue
        for fchild in others:
            if _same_name(child, fchild):
                result = _select(child, fchild)
                if result is not None:
                    out.append(result)
                    selected = True
                    break
    return out if selected or content else None


def apply_subtree_filter(data: etree._Element, filter_elem: etree._Element) -> etree._Element:
    """A new ``<data>``-like element holding what ``filter_elem``'s children select from ``data``."""
    out = etree.Element(data.tag, nsmap=data.nsmap)
    fkids = _children(filter_elem)
    for child in _children(data):
        for fnode in fkids:
            if _same_name(child, fnode):
                result = _select(child, fnode)
                if result is not None:
                    out.append(result)
                    break
    return out
