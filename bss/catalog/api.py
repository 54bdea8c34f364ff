"""Catalog handlers (TMF620 v5, TMF633 v4, TMF634 v5), named after the operationIds (``server.resolver``).

The three APIs of the table (server/apis.py) are answered by this one module: their operationIds do not
clash (listProductOffering, listServiceSpecification, ...) and the hub handlers know their API from the
routing context. Thin: read the request, call one use case, shape the answer.
"""

from __future__ import annotations

from typing import Any

from bss.catalog import mapping, service
from bss.catalog.models import VERSION_UNIQUE_CONSTRAINT
from bss.catalog.repository import QUERIES
from server import deps
from server.errors import CONSTRAINT_ERRORS
from server.hub import register_listener, retrieve_listener, unregister_listener
from server.responses import created, listed, raw_query_string, reads_raw_query

CONSTRAINT_ERRORS[VERSION_UNIQUE_CONSTRAINT] = (
    409,
    "CATALOG_VERSION_EXISTS",
    "That version was made concurrently; a version never changes.",
)


# The query rules of these operations, declared in the served documents (server.documents).
QUERY_CONTRACTS = {
    "listProductSpecification": QUERIES["productSpecification"],
    "retrieveProductSpecification": QUERIES["productSpecification"],
    "listProductOffering": QUERIES["productOffering"],
    "retrieveProductOffering": QUERIES["productOffering"],
    "listProductOfferingPrice": QUERIES["productOfferingPrice"],
    "retrieveProductOfferingPrice": QUERIES["productOfferingPrice"],
    "listServiceSpecification": QUERIES["serviceSpecification"],
    "retrieveServiceSpecification": QUERIES["serviceSpecification"],
    "listResourceSpecification": QUERIES["resourceSpecification"],
    "retrieveResourceSpecification": QUERIES["resourceSpecification"],
}

__all__ = [
    "create_product_offering",
    "create_product_offering_price",
    "create_product_specification",
    "create_resource_specification",
    "create_service_specification",
    "list_product_offering",
    "list_product_offering_price",
    "list_product_specification",
    "list_resource_specification",
    "list_service_specification",
    "patch_product_offering",
    "patch_product_offering_price",
    "patch_product_specification",
    "patch_resource_specification",
    "patch_service_specification",
    "register_listener",
    "retrieve_listener",
    "retrieve_product_offering",
    "retrieve_product_offering_price",
    "retrieve_product_specification",
    "retrieve_resource_specification",
    "retrieve_service_specification",
    "unregister_listener",
]


def _list(collection: str) -> tuple[list[dict[str, Any]], int, dict[str, str]]:
    query = service.parse_query(collection, raw_query_string())
    page = service.list_entities(deps.uow(read_only=True), collection, query)
    return listed([mapping.to_tmf(entity, query.fields) for entity in page.items], page)


def _create(collection: str, body: dict[str, Any]) -> tuple[dict[str, Any], int, dict[str, str]]:
    representation = mapping.to_tmf(service.create_entity(deps.uow(), collection, body))
    return created(representation, representation["href"])


def _retrieve(collection: str, entity_id: str) -> dict[str, Any]:
    fields = service.parse_retrieve_query(collection, raw_query_string())
    return mapping.to_tmf(service.retrieve_entity(deps.uow(read_only=True), collection, entity_id), fields)


def _patch(collection: str, entity_id: str, body: dict[str, Any]) -> dict[str, Any]:
    return mapping.to_tmf(service.patch_entity(deps.uow(), collection, entity_id, body))


@reads_raw_query
def list_product_specification() -> Any:
    return _list("productSpecification")


def create_product_specification(body: dict[str, Any]) -> Any:
    return _create("productSpecification", body)


@reads_raw_query
def retrieve_product_specification(id: str) -> Any:
    return _retrieve("productSpecification", id)


def patch_product_specification(id: str, body: dict[str, Any]) -> Any:
    return _patch("productSpecification", id, body)


@reads_raw_query
def list_product_offering() -> Any:
    return _list("productOffering")


def create_product_offering(body: dict[str, Any]) -> Any:
    return _create("productOffering", body)


@reads_raw_query
def retrieve_product_offering(id: str) -> Any:
    return _retrieve("productOffering", id)


def patch_product_offering(id: str, body: dict[str, Any]) -> Any:
    return _patch("productOffering", id, body)


@reads_raw_query
def list_product_offering_price() -> Any:
    return _list("productOfferingPrice")


def create_product_offering_price(body: dict[str, Any]) -> Any:
    return _create("productOfferingPrice", body)


@reads_raw_query
def retrieve_product_offering_price(id: str) -> Any:
    return _retrieve("productOfferingPrice", id)


def patch_product_offering_price(id: str, body: dict[str, Any]) -> Any:
    return _patch("productOfferingPrice", id, body)


@reads_raw_query
def list_service_specification() -> Any:
    return _list("serviceSpecification")


def create_service_specification(body: dict[str, Any]) -> Any:
    return _create("serviceSpecification", body)


@reads_raw_query
def retrieve_service_specification(id: str) -> Any:
    return _retrieve("serviceSpecification", id)


def patch_service_specification(id: str, body: dict[str, Any]) -> Any:
    return _patch("serviceSpecification", id, body)


@reads_raw_query
def list_resource_specification() -> Any:
    return _list("resourceSpecification")


def create_resource_specification(body: dict[str, Any]) -> Any:
    return _create("resourceSpecification", body)


@reads_raw_query
def retrieve_resource_specification(id: str) -> Any:
    return _retrieve("resourceSpecification", id)


def patch_resource_specification(id: str, body: dict[str, Any]) -> Any:
    return _patch("resourceSpecification", id, body)
