"""Provisio DCIM handlers (``openapi/dcim.yaml``, served at ``/provisio/dcim/v1``), named after the
operationIds. Thin: parse the query, call one use case, shape the answer."""

from __future__ import annotations

from typing import Any

from common import tmf
from common.tmf import parse_list_query
from oss.site import mapping, service
from oss.site.models import (
    CABLE_END_CONSTRAINT,
    DEVICE_NAME_CONSTRAINT,
    DEVICE_TYPE_CONSTRAINT,
    PORT_NAME_CONSTRAINT,
    RACK_NAME_CONSTRAINT,
    RACK_UNIT_CONSTRAINT,
)
from oss.site.repository import CABLE_QUERY, DEVICE_QUERY, DEVICE_TYPE_QUERY, PORT_QUERY, RACK_QUERY
from server import deps
from server.errors import CONSTRAINT_ERRORS
from server.hub import register_listener, retrieve_listener, unregister_listener
from server.responses import created, listed, no_content, raw_query_string

QUERY_CONTRACTS = {
    "listRack": RACK_QUERY,
    "retrieveRack": RACK_QUERY,
    "listDeviceType": DEVICE_TYPE_QUERY,
    "retrieveDeviceType": DEVICE_TYPE_QUERY,
    "listDevice": DEVICE_QUERY,
    "retrieveDevice": DEVICE_QUERY,
    "listPort": PORT_QUERY,
    "retrievePort": PORT_QUERY,
    "listCable": CABLE_QUERY,
    "retrieveCable": CABLE_QUERY,
}

# Races lost at the database (PostgreSQL; SQLite serialises writers, so the checks under the lock are exact there)
# answer as races lost at the check (server.errors maps them by constraint name).
CONSTRAINT_ERRORS.update(
    {
        RACK_UNIT_CONSTRAINT: (
            409,
            "RACK_UNITS_TAKEN",
            "A unit of the span was taken by a placement at the same time.",
        ),
        CABLE_END_CONSTRAINT: (
            409,
            "PORT_ALREADY_CABLED",
            "The port was cabled at the same time: a port takes one cable.",
        ),
        DEVICE_NAME_CONSTRAINT: (409, "NAME_TAKEN", "A device of that name was created at the same time."),
        DEVICE_TYPE_CONSTRAINT: (409, "NAME_TAKEN", "That device type was created at the same time."),
        RACK_NAME_CONSTRAINT: (409, "NAME_TAKEN", "A rack of that name was created at the site at the same time."),
        PORT_NAME_CONSTRAINT: (409, "NAME_TAKEN", "A port of that name exists on the device."),
        "uq_device_asset_tag": (409, "NAME_TAKEN", "That asset tag was given to another device at the same time."),
    }
)

__all__ = [
    "create_cable",
    "create_device",
    "create_device_type",
    "create_rack",
    "delete_cable",
    "list_cable",
    "list_device",
    "list_device_type",
    "list_port",
    "list_rack",
    "patch_device",
    "patch_port",
    "register_listener",
    "retrieve_cable",
    "retrieve_device",
    "retrieve_device_type",
    "retrieve_listener",
    "retrieve_port",
    "retrieve_port_trace",
    "retrieve_rack",
    "unregister_listener",
]


def _list(kind: str, spec: tmf.QuerySpec, render: Any) -> Any:
    query = parse_list_query(raw_query_string(), spec)
    page = service.list_page(deps.uow(read_only=True), kind, query)
    return listed([render(item, query.fields) for item in page.items], page)


def _retrieve(kind: str, spec: tmf.QuerySpec, entity_id: str, render: Any) -> Any:
    fields = tmf.parse_item_query(raw_query_string(), spec.members)
    return render(service.retrieve(deps.uow(read_only=True), kind, entity_id), fields)


def _port(item: Any, fields: tmf.Fields | None) -> dict[str, Any]:
    port, cable_id = item
    return mapping.port_json(port, cable_id, fields)


def list_rack(**_declared: Any) -> Any:
    return _list("rack", RACK_QUERY, mapping.rack_json)


def create_rack(body: dict[str, Any]) -> Any:
    representation = mapping.rack_json(service.create_rack(deps.uow(), body))
    return created(representation, representation["href"])


def retrieve_rack(id: str, **_declared: Any) -> Any:
    return _retrieve("rack", RACK_QUERY, id, mapping.rack_json)


def list_device_type(**_declared: Any) -> Any:
    return _list("deviceType", DEVICE_TYPE_QUERY, mapping.device_type_json)


def create_device_type(body: dict[str, Any]) -> Any:
    representation = mapping.device_type_json(service.create_device_type(deps.uow(), body))
    return created(representation, representation["href"])


def retrieve_device_type(id: str, **_declared: Any) -> Any:
    return _retrieve("deviceType", DEVICE_TYPE_QUERY, id, mapping.device_type_json)


def list_device(**_declared: Any) -> Any:
    return _list("device", DEVICE_QUERY, mapping.device_json)


def create_device(body: dict[str, Any]) -> Any:
    representation = mapping.device_json(service.create_device(deps.uow(), body))
    return created(representation, representation["href"])


def retrieve_device(id: str, **_declared: Any) -> Any:
    return _retrieve("device", DEVICE_QUERY, id, mapping.device_json)


def patch_device(id: str, body: dict[str, Any]) -> Any:
    return mapping.device_json(service.patch_device(deps.uow(), id, body))


def list_port(**_declared: Any) -> Any:
    return _list("port", PORT_QUERY, _port)


def retrieve_port(id: str, **_declared: Any) -> Any:
    return _retrieve("port", PORT_QUERY, id, _port)


def patch_port(id: str, body: dict[str, Any]) -> Any:
    port, cable_id = service.patch_port(deps.uow(), id, body)
    return mapping.port_json(port, cable_id)


def retrieve_port_trace(id: str) -> Any:
    return mapping.trace_json(service.trace(deps.uow(read_only=True), id))


def list_cable(**_declared: Any) -> Any:
    return _list("cable", CABLE_QUERY, mapping.cable_json)


def create_cable(body: dict[str, Any]) -> Any:
    representation = mapping.cable_json(service.create_cable(deps.uow(), body))
    return created(representation, representation["href"])


def retrieve_cable(id: str, **_declared: Any) -> Any:
    return _retrieve("cable", CABLE_QUERY, id, mapping.cable_json)


def delete_cable(id: str) -> Any:
    service.delete_cable(deps.uow(), id)
    return no_content()
