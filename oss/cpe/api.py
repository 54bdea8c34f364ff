"""CPE inventory handlers (``openapi/cpe.yaml``, served at ``/provisio/cpe/v1``), named after the
operationIds. Thin: parse the query, call one use case, shape the answer."""

from __future__ import annotations

from typing import Any

from common import tmf
from common.orm import new_id
from oss.cpe import mapping, service
from oss.cpe.models import (
    MAC_UNIQUE_CONSTRAINT,
    MODEL_UNIQUE_CONSTRAINT,
    SERIAL_UNIQUE_CONSTRAINT,
    STOCK_UNIQUE_CONSTRAINT,
)
from oss.cpe.repository import HISTORY_QUERY, MODEL_QUERY, STOCK_QUERY, UNIT_QUERY
from server import deps
from server.errors import CONSTRAINT_ERRORS
from server.hub import register_listener, retrieve_listener, unregister_listener
from server.responses import created, listed, raw_query_string

QUERY_CONTRACTS = {
    "listCpeModel": MODEL_QUERY,
    "retrieveCpeModel": MODEL_QUERY,
    "listCpeUnit": UNIT_QUERY,
    "retrieveCpeUnit": UNIT_QUERY,
    "listCpeUnitHistory": HISTORY_QUERY,
    "listStockLevel": STOCK_QUERY,
    "retrieveStockLevel": STOCK_QUERY,
}

# Races lost at the database answer as races lost at the check (server.errors maps them by name).
CONSTRAINT_ERRORS.update(
    {
        MODEL_UNIQUE_CONSTRAINT: (
            409,
            "CPE_MODEL_TAKEN",
            "A CPE model of that manufacturer and model was created concurrently.",
        ),
        SERIAL_UNIQUE_CONSTRAINT: (409, "CPE_SERIAL_TAKEN", "A CPE unit with that serial was created concurrently."),
        MAC_UNIQUE_CONSTRAINT: (409, "CPE_MAC_TAKEN", "A CPE unit with that MAC address was created concurrently."),
        STOCK_UNIQUE_CONSTRAINT: (409, "CONCURRENT_UPDATE", "The stock level was created concurrently; retry."),
    }
)

__all__ = [
    "create_cpe_model",
    "create_cpe_pick",
    "create_cpe_state_change",
    "create_cpe_unit",
    "create_stock_level",
    "list_cpe_model",
    "list_cpe_unit",
    "list_cpe_unit_history",
    "list_stock_level",
    "patch_stock_level",
    "register_listener",
    "retrieve_cpe_model",
    "retrieve_cpe_unit",
    "retrieve_listener",
    "retrieve_stock_level",
    "unregister_listener",
]


def _fields(spec: tmf.QuerySpec) -> tmf.Fields | None:
    return tmf.parse_item_query(raw_query_string(), spec.members)


def list_cpe_model(**_declared: Any) -> Any:
    query = service.parse_model_query(raw_query_string())
    page = service.list_models(deps.uow(read_only=True), query)
    return listed([mapping.model_json(model, query.fields) for model in page.items], page)


def create_cpe_model(body: dict[str, Any]) -> Any:
    representation = mapping.model_json(service.create_model(deps.uow(), body))
    return created(representation, representation["href"])


def retrieve_cpe_model(id: str, **_declared: Any) -> Any:
    fields = _fields(MODEL_QUERY)
    return mapping.model_json(service.retrieve_model(deps.uow(read_only=True), id), fields)


def list_cpe_unit(**_declared: Any) -> Any:
    query = service.parse_unit_query(raw_query_string())
    page = service.list_units(deps.uow(read_only=True), query)
    return listed([mapping.unit_json(unit, query.fields) for unit in page.items], page)


def create_cpe_unit(body: dict[str, Any]) -> Any:
    representation = mapping.unit_json(service.create_unit(deps.uow(), body))
    return created(representation, representation["href"])


def retrieve_cpe_unit(id: str, **_declared: Any) -> Any:
    fields = _fields(UNIT_QUERY)
    return mapping.unit_json(service.retrieve_unit(deps.uow(read_only=True), id), fields)


def list_cpe_unit_history(id: str, **_declared: Any) -> Any:
    query = service.parse_history_query(raw_query_string())
    page = service.list_history(deps.uow(read_only=True), id, query)
    return listed([mapping.history_json(entry, query.fields) for entry in page.items], page)


def create_cpe_state_change(body: dict[str, Any]) -> Any:
    units = service.change_state(deps.uow(), str(body["unit"]), str(body["state"]), body)
    task = {
        "id": new_id(),
        "@type": "CpeStateChange",
        "state": body["state"],
        "status": "done",
        "unit": [mapping.unit_json(unit) for unit in units],
    }
    return task, 201


def create_cpe_pick(body: dict[str, Any]) -> Any:
    unit = service.pick(deps.uow(), body)
    return {"id": new_id(), "@type": "CpePick", "status": "done", "unit": mapping.unit_json(unit)}, 201


def list_stock_level(**_declared: Any) -> Any:
    query = service.parse_stock_query(raw_query_string())
    page = service.list_stock(deps.uow(read_only=True), query)
    return listed([mapping.stock_json(level, query.fields) for level in page.items], page)


def create_stock_level(body: dict[str, Any]) -> Any:
    representation = mapping.stock_json(service.set_stock_level(deps.uow(), body))
    return created(representation, representation["href"])


def retrieve_stock_level(id: str, **_declared: Any) -> Any:
    fields = _fields(STOCK_QUERY)
    return mapping.stock_json(service.retrieve_stock(deps.uow(read_only=True), id), fields)


def patch_stock_level(id: str, body: dict[str, Any]) -> Any:
    return mapping.stock_json(service.patch_stock_level(deps.uow(), id, body))
