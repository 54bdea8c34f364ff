"""Facts read from our own OpenAPI documents, so that code never repeats what the contract says.

Example: the values a ``resourceStatus`` filter accepts are the enum of ``ResourceStatusType`` in
``openapi/resource_inventory.yaml``; adding a value to the spec is enough.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml


@cache
def _load(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return document


def component_enum(spec_path: Path, schema_name: str) -> tuple[str, ...]:
    """The ``enum`` of ``#/components/schemas/<schema_name>`` in the OpenAPI document at ``spec_path``."""
    schema = _load(spec_path)["components"]["schemas"][schema_name]
    return tuple(str(value) for value in schema["enum"])


def load_document(path: Path) -> dict[str, Any]:
    """The parsed OpenAPI (or shared components) document at ``path``, read once."""
    return _load(path.resolve())
