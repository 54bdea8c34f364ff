"""operationId (camelCase, as TM Forum names it) -> ``<context>.api.<snake_case>``.

listResource -> oss.resource_inventory.api.list_resource
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from typing import Any

from connexion.resolver import Resolver

_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def snake_case(operation_id: str) -> str:
    return _BOUNDARY.sub("_", operation_id).lower()


class ContextResolver(Resolver):  # type: ignore[misc]  # connexion ships no type information
    """Resolves every operation of one API against one ``api`` module."""

    def __init__(self, module_name: str) -> None:
        self.module_name = module_name
        super().__init__(function_resolver=self._function)

    def resolve_operation_id(self, operation: Any) -> str:
        return f"{self.module_name}.{snake_case(operation.operation_id)}"

    @staticmethod
    def _function(dotted: str) -> Callable[..., Any]:
        module_name, _, attribute = dotted.rpartition(".")
        function: Callable[..., Any] = getattr(importlib.import_module(module_name), attribute)
        return function
