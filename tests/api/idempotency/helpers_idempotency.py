"""What the Idempotency-Key tests count and compare."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, func, select, update

from common.audit import AuditRecord
from common.events import OutboxEvent
from oss.resource_inventory.models import ResourceRow
from server.idempotency import REPLAYED_HEADER, IdempotencyRecord

RESOURCES = "/tmf-api/resourceInventoryManagement/v4/resource"
HUB = "/tmf-api/resourceInventoryManagement/v4/hub"
# Headers that differ between any two answers, whatever they answer.
PER_REQUEST = {"x-request-id", "date", "server", REPLAYED_HEADER.lower()}


def count(engine: Engine, model: Any) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(model)).scalar_one())


def resources(engine: Engine) -> int:
    return count(engine, ResourceRow)


def events(engine: Engine) -> int:
    return count(engine, OutboxEvent)


def audit_records(engine: Engine) -> int:
    return count(engine, AuditRecord)


def keys(engine: Engine) -> int:
    return count(engine, IdempotencyRecord)


def lose_answers(engine: Engine) -> None:
    """What a crash between the two writes leaves: every key without its answer."""
    with engine.begin() as connection:
        connection.execute(update(IdempotencyRecord).values(status=None, headers=None, body=None))


def answer(response: Any) -> tuple[int, dict[str, str], bytes]:
    """Status, headers (those that are the answer's, not the request's) and body."""
    headers = {name.lower(): value for name, value in response.headers.items() if name.lower() not in PER_REQUEST}
    return response.status_code, headers, response.content
