"""Port requests as JSON of the number inventory API (``portInRequest`` / ``portOutRequest``)."""

from __future__ import annotations

from typing import Any

from common import clock
from common.tmf import Fields, href, project
from oss.number_pool.mapping import BASE_PATH

PORT_IN_TYPE, PORT_OUT_TYPE = "PortInRequest", "PortOutRequest"


def _when(moment: Any) -> str | None:
    return clock.isoformat(moment) if moment is not None else None


def request_json(request: Any, fields: Fields | None = None) -> dict[str, Any]:
    """A port request: ``donorOperator`` (port-in) or ``recipientOperator`` (port-out) is the other operator."""
    inbound = request.direction == "in"
    document: dict[str, Any] = {
        "id": request.id,
        "href": href(BASE_PATH, "portInRequest" if inbound else "portOutRequest", request.id),
        "@type": PORT_IN_TYPE if inbound else PORT_OUT_TYPE,
        "state": request.state,
        ("donorOperator" if inbound else "recipientOperator"): request.operator,
        "number": list(request.numbers),
        "poolId": request.pool_id,
        "customerId": request.customer_id,
        "serviceId": request.service_id,
        "productId": request.product_id,
        "authorisationReference": request.authorisation_reference,
        "externalReference": request.external_reference,
        "requestedPortDate": _when(request.requested_port_date),
        "portDate": _when(request.port_date),
        "stateReason": request.reason,
        "createdAt": _when(request.created_at),
        "updatedAt": _when(request.updated_at),
        "confirmedAt": _when(request.confirmed_at),
        "portedAt": _when(request.ported_at),
        "completedAt": _when(request.completed_at),
    }
    return project({key: value for key, value in document.items() if value is not None}, fields)
