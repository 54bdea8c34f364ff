"""The operations every served API declares, read from ``server.apis.APIS`` and its OpenAPI documents, so
that a test parametrised over them covers an API the day it is added to the table."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

import yaml

from server.apis import APIS, OPENAPI_DIR, ApiEntry

HTTP_METHODS = ("get", "put", "post", "delete", "patch")
_PARAMETER = re.compile(r"\{([^}]+)\}")


@dataclass(frozen=True)
class Operation:
    api: ApiEntry
    method: str  # upper case
    template: str  # the path as the document writes it, ``/resource/{id}``
    operation_id: str
    has_body: bool = False

    @property
    def path_parameters(self) -> tuple[str, ...]:
        return tuple(_PARAMETER.findall(self.template))

    def url(self, **values: str) -> str:
        """The full path with each ``{name}`` replaced by ``values[name]`` (already escaped)."""
        return self.api.base_path + _PARAMETER.sub(lambda match: values[match.group(1)], self.template)

    def __str__(self) -> str:  # a readable pytest id
        return f"{self.method} {self.api.base_path}{self.template}"


@cache
def _document(spec: str) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((OPENAPI_DIR / spec).read_text(encoding="utf-8"))
    return document


@cache
def served_operations() -> tuple[Operation, ...]:
    operations = []
    for api in APIS:
        for template, item in _document(api.spec).get("paths", {}).items():
            for method in HTTP_METHODS:
                if method in item:
                    declared = item[method]
                    operations.append(
                        Operation(api, method.upper(), template, declared["operationId"], "requestBody" in declared)
                    )
    return tuple(operations)


def list_operations() -> tuple[Operation, ...]:
    """GETs of a collection (no path parameter): the TMF630 list operations."""
    return tuple(op for op in served_operations() if op.method == "GET" and not op.path_parameters)


def item_operations() -> tuple[Operation, ...]:
    """Every operation with a path parameter (``/resource/{id}``, ``/eventDelivery/{id}/redeliver``)."""
    return tuple(op for op in served_operations() if op.path_parameters)


def body_operations() -> tuple[Operation, ...]:
    """Every operation that takes a request body (create, patch, hub registration)."""
    return tuple(op for op in served_operations() if op.has_body)
