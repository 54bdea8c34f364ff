"""The ``<edit-config>`` engine (RFC 6241 §7.2) over RFC 7951 JSON, guided by the YANG schema.

The XML ``<config>`` is walked together with the schema and a deep copy of the target datastore:
``operation`` attributes (merge, replace, create, delete, remove) and the default-operation (merge,
replace, none) decide what happens to each node; list entries are matched by their keys, leaf values
are checked against their YANG types as they are read. Errors are collected per the error-option:
``stop-on-error`` stops at the first (changes made before it stay), ``continue-on-error`` skips the
failing node and goes on, ``rollback-on-error`` is decided by the caller (any error -> nothing applied).
Creating a node inside a ``case`` removes the nodes of the other cases (RFC 7950 §7.9).
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from lxml import etree
from yangson.schemanode import (
    CaseNode,
    ChoiceNode,
    ContainerNode,
    DataNode,
    InternalNode,
    LeafListNode,
    LeafNode,
    ListNode,
)

from common.yang.errors import NC, RpcError
from common.yang.model import data_model, module_by_namespace
from common.yang.xmlcodec import DecodeError, decode_leaf, prefixed, schema_child

OPERATION_ATTR = NC + "operation"
OPERATIONS = frozenset({"merge", "replace", "create", "delete", "remove"})
Obj = dict[str, Any]


class StopEdit(Exception):
    """Raised after the first error unless the error-option is continue-on-error."""


@dataclass
class EditResult:
    data: Obj
    errors: list[RpcError] = field(default_factory=list)
    changed: bool = False


@dataclass
class _Context:
    continue_on_error: bool
    errors: list[RpcError] = field(default_factory=list)
    changed: bool = False

    def record(self, error: RpcError) -> None:
        self.errors.append(error)
        if not self.continue_on_error:
            raise StopEdit


def apply_edit(target: Obj, config: etree._Element, default_operation: str, error_option: str) -> EditResult:
    """Apply the children of ``<config>`` to a copy of ``target``; the caller decides what to keep."""
    # RFC 6241 §7.2: default-operation replace "completely replaces the configuration in the target"
    data = {} if default_operation == "replace" else copy.deepcopy(target)
    ctx = _Context(continue_on_error=error_option == "continue-on-error")
    with contextlib.suppress(StopEdit):
        _edit_children(ctx, data, data_model().schema, config, default_operation, "")
    prune(data, data_model().schema)
    return EditResult(data, ctx.errors, ctx.changed or data != target)


def _element_children(elem: etree._Element) -> list[etree._Element]:
    return [c for c in elem if isinstance(c.tag, str)]


def _unknown(elem: etree._Element, path: str) -> RpcError:
    qn = etree.QName(elem)
    if qn.namespace not in module_by_namespace():
        return RpcError(
            "unknown-namespace",
            f"namespace {qn.namespace!r} of {qn.localname} is not supported",
            type="application",
            path=path or "/",
            info=[("bad-element", qn.localname), ("bad-namespace", qn.namespace or "")],
        )
    return RpcError(
        "unknown-element",
        f"unknown element {qn.localname}",
        path=path or "/",
        info=[("bad-element", qn.localname)],
    )


def _operation(elem: etree._Element, inherited: str, path: str) -> str:
    op = elem.get(OPERATION_ATTR)
    if op is None:
        return inherited
    if op not in OPERATIONS:
        raise RpcError(
            "bad-attribute",
            f"operation {op!r} is not one of {', '.join(sorted(OPERATIONS))}",
            type="protocol",
            path=path,
            info=[("bad-attribute", "operation"), ("bad-element", etree.QName(elem).localname)],
        )
    return str(op)


def _edit_children(
    ctx: _Context,
    obj: Obj,
    parent: InternalNode,
    elem: etree._Element,
    inherited: str,
    path: str,
    skip: Sequence[DataNode] = (),
) -> None:
    for child_elem in _element_children(elem):
        try:
            node = schema_child(parent, child_elem.tag)
            if node is None:
                raise _unknown(child_elem, path)
            if node in skip:
                continue
            node_path = f"{path}/{prefixed(node)}"
            if not node.config:
                raise RpcError("invalid-value", f"{node.name} is state data (config false)", path=node_path)
            op = _operation(child_elem, inherited, node_path)
            _edit_node(ctx, obj, node, child_elem, op, node_path)
        except RpcError as error:
            ctx.record(error)


def _edit_node(ctx: _Context, obj: Obj, node: DataNode, elem: etree._Element, op: str, path: str) -> None:
    if isinstance(node, LeafNode):
        _edit_leaf(ctx, obj, node, elem, op, path)
    elif isinstance(node, LeafListNode):
        _edit_leaf_list(ctx, obj, node, elem, op, path)
    elif isinstance(node, ListNode):
        _edit_list_entry(ctx, obj, node, elem, op, path)
    elif isinstance(node, ContainerNode):
        _edit_container(ctx, obj, node, elem, op, path)
    else:
        raise RpcError("operation-not-supported", f"cannot edit {node.name}", type="protocol", path=path)


def _data_missing(path: str) -> RpcError:
    return RpcError("data-missing", "the data to delete does not exist", path=path)


def _data_exists(path: str) -> RpcError:
    return RpcError("data-exists", "the data to create already exists", path=path)


def _decode(node: LeafNode | LeafListNode, elem: etree._Element, path: str) -> Any:
    try:
        return decode_leaf(node, elem)
    except DecodeError as exc:
        raise RpcError("invalid-value", exc.message, path=path) from None


def _delete(ctx: _Context, obj: Obj, name: str, op: str, path: str) -> None:
    if name in obj:
        del obj[name]
        ctx.changed = True
    elif op == "delete":
        raise _data_missing(path)


def _edit_leaf(ctx: _Context, obj: Obj, node: LeafNode, elem: etree._Element, op: str, path: str) -> None:
    name = node.iname()
    if op in ("delete", "remove"):
        _delete(ctx, obj, name, op, path)
        return
    if op == "none":
        return
    if op == "create" and name in obj:
        raise _data_exists(path)
    obj[name] = _decode(node, elem, path)
    clear_other_cases(obj, node)
    ctx.changed = True


def _edit_leaf_list(ctx: _Context, obj: Obj, node: LeafListNode, elem: etree._Element, op: str, path: str) -> None:
    name = node.iname()
    value = _decode(node, elem, path)
    values: list[Any] = obj.get(name, [])
    path = f"{path}[.='{value}']"
    if op in ("delete", "remove"):
        if value in values:
            values.remove(value)
            ctx.changed = True
        elif op == "delete":
            raise _data_missing(path)
        return
    if op == "none":
        return
    if value in values:
        if op == "create":
            raise _data_exists(path)
        return
    obj[name] = [*values, value]
    clear_other_cases(obj, node)
    ctx.changed = True


def _edit_container(ctx: _Context, obj: Obj, node: ContainerNode, elem: etree._Element, op: str, path: str) -> None:
    name = node.iname()
    if op in ("delete", "remove"):
        _delete(ctx, obj, name, op, path)
        return
    exists = name in obj
    if op == "create" and exists:
        raise _data_exists(path)
    if op in ("create", "replace"):
        fresh: Obj = {}
        _edit_children(ctx, fresh, node, elem, "merge", path)
        obj[name] = fresh
    else:
        target: Obj = obj[name] if exists else {}
        _edit_children(ctx, target, node, elem, op, path)
        if exists or op == "merge" or target:
            obj[name] = target
        else:
            return
    clear_other_cases(obj, node)
    ctx.changed = True


def _entry_keys(node: ListNode, elem: etree._Element, path: str) -> tuple[dict[str, Any], list[DataNode], str]:
    """The key values of a list entry element (RFC 7950 §7.8.2: all keys are required)."""
    keys: dict[str, Any] = {}
    key_nodes: list[DataNode] = []
    children = _element_children(elem)
    for key_name, key_ns in node.keys:
        key_node = node.get_data_child(key_name, key_ns)
        assert isinstance(key_node, LeafNode)
        key_elem = next((c for c in children if schema_child(node, c.tag) is key_node), None)
        if key_elem is None:
            raise RpcError(
                "missing-element", f"list {node.name} needs key {key_name}", path=path, info=[("bad-element", key_name)]
            )
        keys[key_name] = _decode(key_node, key_elem, f"{path}/{prefixed(key_node)}")
        key_nodes.append(key_node)
    predicates = "".join(f"[{prefixed(n)}='{keys[n.name]}']" for n in key_nodes)
    return keys, key_nodes, path + predicates


def _edit_list_entry(ctx: _Context, obj: Obj, node: ListNode, elem: etree._Element, op: str, path: str) -> None:
    name = node.iname()
    keys, key_nodes, path = _entry_keys(node, elem, path)
    entries: list[Obj] = obj.get(name, [])
    index = next((i for i, e in enumerate(entries) if all(e.get(k) == v for k, v in keys.items())), None)
    if op in ("delete", "remove"):
        if index is not None:
            del entries[index]
            ctx.changed = True
        elif op == "delete":
            raise _data_missing(path)
        return
    if op == "create" and index is not None:
        raise _data_exists(path)
    if op in ("create", "replace") or index is None:
        entry: Obj = dict(keys)
        _edit_children(ctx, entry, node, elem, "merge" if op != "none" else "none", path, skip=key_nodes)
        if op == "none" and len(entry) == len(keys):
            return  # nothing below asked for creation
        if index is None:
            obj[name] = [*entries, entry]
        else:
            entries[index] = entry
    else:
        _edit_children(ctx, entries[index], node, elem, op, path, skip=key_nodes)
    clear_other_cases(obj, node)
    ctx.changed = True


def clear_other_cases(obj: Obj, node: DataNode) -> None:
    """RFC 7950 §7.9: creating a node in one case of a choice deletes the nodes of the other cases."""
    current: Any = node
    while isinstance(current.parent, CaseNode):
        case = current.parent
        choice = case.parent
        assert isinstance(choice, ChoiceNode)
        for other in choice.children:
            if other is not case and isinstance(other, InternalNode):
                for data_node in other.data_children():
                    obj.pop(data_node.iname(), None)
        current = choice


def prune(obj: Obj, parent: InternalNode) -> None:
    """Drop empty lists, leaf-lists and non-presence containers so that equal configs compare equal."""
    for name in list(obj):
        module, _, local = name.rpartition(":")
        node = parent.get_data_child(local, module or parent.ns)
        value = obj[name]
        if isinstance(node, ListNode):
            for entry in value:
                prune(entry, node)
        elif isinstance(node, ContainerNode):
            prune(value, node)
            if not value and not node.presence:
                del obj[name]
                continue
        if isinstance(node, (ListNode, LeafListNode)) and not value:
            del obj[name]
