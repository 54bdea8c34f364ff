from typing import Any


def list_resource(limit: int | None = None) -> list[dict[str, Any]]:
    return []


def create_resource(body: dict[str, Any]) -> tuple[dict[str, Any], int]:
    raise ValueError("boom")
