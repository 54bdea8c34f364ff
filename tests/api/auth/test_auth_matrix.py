"""Every served operation, generated from the API table and its documents (issue 15): it declares security
naming its scopes; without a credential it answers 401; with a credential lacking its scope 403 naming
it; with exactly its scopes 2xx. An API added to ``server.apis`` is covered the day it is served: its
operations fail here until they declare ``security`` and have an entry in ``EXAMPLES``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, update
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from common import clock, steps
from common.events import DEAD, EventDelivery
from common.orm import new_id
from server.apis import APIS, OPENAPI_DIR
from server.auth.settings import SCOPES
from tests.support.auth import ALL_SCOPES, token_headers
from tests.support.served import Operation, _document, served_operations

RI = "/tmf-api/resourceInventoryManagement/v4"
AUDIT = "/provisio/audit/v1"
AUTH = "/provisio/auth/v1"
NUMBERS = "/provisio/numberInventory/v1"
RP = "/tmf-api/resourcePoolManagement/v1"
IPAM = "/provisio/ipam/v1"
MERGE_PATCH = "application/merge-patch+json"

Setup = Callable[[TestClient, Engine], dict[str, str]]


def _resource(client: TestClient, _engine: Engine) -> dict[str, str]:
    created = client.post(f"{RI}/resource", json={"name": "matrix"})
    assert created.status_code == 201, created.text
    return {"id": created.json()["id"]}


def _listener(client: TestClient, _engine: Engine, base: str = RI) -> dict[str, str]:
    created = client.post(f"{base}/hub", json={"callback": "http://127.0.0.1:9/matrix"})
    assert created.status_code == 201, created.text
    return {"id": created.json()["id"]}


def _reservation_listener(client: TestClient, engine: Engine) -> dict[str, str]:
    return _listener(client, engine, RP)


def _audit_record(client: TestClient, engine: Engine) -> dict[str, str]:
    _resource(client, engine)
    return {"id": client.get(f"{AUDIT}/auditRecord").json()[0]["id"]}


def _delivery(client: TestClient, engine: Engine, *, dead: bool = False) -> dict[str, str]:
    _listener(client, engine)
    _resource(client, engine)
    delivery_id = client.get(f"{AUDIT}/eventDelivery").json()[0]["id"]
    if dead:  # only a dead (or delivered) delivery can be redelivered
        with engine.begin() as connection:
            connection.execute(update(EventDelivery).where(EventDelivery.id == int(delivery_id)).values(state=DEAD))
    return {"id": str(delivery_id)}


def _step(_client: TestClient, engine: Engine, *, dead: bool = False) -> dict[str, str]:
    with Session(engine) as session, session.begin():
        step_id = steps.schedule_step(session, "matrix.step", key=new_id(), due_at=clock.now(), payload={})
        if dead:  # only a dead step can be retried
            session.execute(update(steps.DurableStep).where(steps.DurableStep.id == step_id).values(state=steps.DEAD))
    return {"id": step_id}


def _token(client: TestClient, _engine: Engine) -> dict[str, str]:
    created = client.post(f"{AUTH}/token", json={"user": "matrix", "scope": ["audit:read"]})
    assert created.status_code == 201, created.text
    return {"id": created.json()["id"]}


def _nothing(_client: TestClient, _engine: Engine) -> dict[str, str]:
    return {}


def _fake_pools(_client: TestClient, engine: Engine) -> dict[str, str]:
    from tests.support.fake_providers import install

    install(engine)
    return {"id": "fake-numbers-a"}


def _reservation(client: TestClient, engine: Engine) -> dict[str, str]:
    _fake_pools(client, engine)
    created = client.post(f"{RP}/reservation", json={"reservationItem": [_NUMBER_ITEM]})
    assert created.status_code == 201, created.text
    return {"id": created.json()["id"]}


def _number_pool(client: TestClient, _engine: Engine) -> dict[str, str]:
    created = client.post(f"{NUMBERS}/numberPool", json={"name": "matrix"})
    assert created.status_code == 201, created.text
    return {"id": created.json()["id"]}


def _number_block(client: TestClient, engine: Engine) -> dict[str, str]:
    pool = _number_pool(client, engine)
    body = {"poolId": pool["id"], "first": "+442079460000", "last": "+442079460099"}
    created = client.post(f"{NUMBERS}/numberBlock", json=body)
    assert created.status_code == 201, created.text
    return {"id": created.json()["id"], "pool": pool["id"]}


def _available_search(client: TestClient, engine: Engine) -> dict[str, str]:
    return {"?poolId": _number_block(client, engine)["pool"]}


def _touched_number(client: TestClient, engine: Engine) -> dict[str, str]:
    _number_block(client, engine)
    blocked = client.patch(
        f"{NUMBERS}/telephoneNumber/+442079460001",
        json={"state": "blocked"},
        headers={"Content-Type": MERGE_PATCH},
    )
    assert blocked.status_code == 200, blocked.text
    return {"id": "+442079460001"}


def _number_listener(client: TestClient, _engine: Engine) -> dict[str, str]:
    created = client.post(f"{NUMBERS}/hub", json={"callback": "http://127.0.0.1:9/matrix"})
    assert created.status_code == 201, created.text
    return {"id": created.json()["id"]}


_NUMBER_ITEM = {"@type": "FakeNumberReservationItem", "quantity": 1}


@dataclass(frozen=True)
class Example:
    """How to call an operation so that it succeeds: ``setup`` (run with every scope) gives the path
    parameters; ``body`` and ``content_type`` are sent as given."""

    status: int
    setup: Setup = _nothing
    body: Any = None
    content_type: str = "application/json"
    extra: dict[str, str] = field(default_factory=dict)


EXAMPLES: dict[str, Example] = {
    "listResource": Example(200),
    "createResource": Example(201, body={"name": "matrix"}),
    "retrieveResource": Example(200, _resource),
    "patchResource": Example(200, _resource, body={"description": "changed"}, content_type=MERGE_PATCH),
    "deleteResource": Example(204, _resource),
    "registerListener": Example(201, body={"callback": "http://127.0.0.1:9/matrix"}),
    "retrieveListener": Example(200, _listener),
    "unregisterListener": Example(204, _listener),
    # "<API name>.<operationId>" for an operation every hub shares whose example differs per API
    "resourcePoolManagement.retrieveListener": Example(200, _reservation_listener),
    "resourcePoolManagement.unregisterListener": Example(204, _reservation_listener),
    "listReservation": Example(200),
    "createReservation": Example(201, _fake_pools, body={"reservationItem": [_NUMBER_ITEM]}),
    "retrieveReservation": Example(200, _reservation),
    "patchReservation": Example(200, _reservation, body={"reservationState": "released"}, content_type=MERGE_PATCH),
    "listResourcePool": Example(200, _fake_pools),
    "retrieveResourcePool": Example(200, _fake_pools),
    "createAvailabilityCheck": Example(200, _fake_pools, body={"reservationItem": [_NUMBER_ITEM]}),
    "listAuditRecord": Example(200),
    "retrieveAuditRecord": Example(200, _audit_record),
    "listEventSubscription": Example(200),
    "retrieveEventSubscription": Example(200, _listener),
    "listEventDelivery": Example(200),
    "retrieveEventDelivery": Example(200, _delivery),
    "redeliverEventDelivery": Example(200, lambda client, engine: _delivery(client, engine, dead=True)),
    "listStep": Example(200),
    "retrieveStep": Example(200, _step),
    "retryStep": Example(200, lambda client, engine: _step(client, engine, dead=True)),
    "listSweeper": Example(200),
    "listApiToken": Example(200),
    "createApiToken": Example(201, body={"user": "matrix", "scope": ["audit:read"]}),
    "retrieveApiToken": Example(200, _token),
    "revokeApiToken": Example(204, _token),
    "listNumberPool": Example(200),
    "createNumberPool": Example(201, body={"name": "matrix"}),
    "retrieveNumberPool": Example(200, _number_pool),
    "patchNumberPool": Example(200, _number_pool, body={"agingDays": 7}, content_type=MERGE_PATCH),
    "listNumberBlock": Example(200),
    "createNumberBlock": Example(
        201,
        lambda client, engine: {"pool": _number_pool(client, engine)["id"]},
        body=lambda params: {"poolId": params["pool"], "first": "+442079460000", "last": "+442079460099"},
    ),
    "retrieveNumberBlock": Example(200, _number_block),
    "listTelephoneNumber": Example(200),
    "retrieveTelephoneNumber": Example(200, _touched_number),
    "patchTelephoneNumber": Example(200, _touched_number, body={"state": "available"}, content_type=MERGE_PATCH),
    "listTelephoneNumberHistory": Example(200, _touched_number),
    "searchAvailableNumber": Example(200, _available_search),
    "createNumberStateChange": Example(201, _number_block, body={"number": ["+442079460002"], "state": "blocked"}),
    "numberInventory.retrieveListener": Example(200, _number_listener),
    "numberInventory.unregisterListener": Example(204, _number_listener),
}

OPERATIONS = served_operations()


# Porting (oss/number_pool/porting.py): port dates are in the future of the wall clock these tests run on.
def _port_date() -> str:
    return clock.isoformat(clock.now() + timedelta(days=30))


def _port_in_body(params: dict[str, str]) -> dict[str, Any]:
    return {"donorOperator": "Donor", "number": ["+442079470001"], "authorisationReference": "LOA-1",
            "requestedPortDate": _port_date(), "poolId": params["pool"]}  # fmt: skip


def _port_in_request(client: TestClient, engine: Engine) -> dict[str, str]:
    pool = _number_pool(client, engine)["id"]
    created = client.post(f"{NUMBERS}/portInRequest", json=_port_in_body({"pool": pool}))
    assert created.status_code == 201, created.text
    return {"id": created.json()["id"]}


def _assigned_number(client: TestClient, engine: Engine) -> dict[str, str]:
    _number_block(client, engine)
    assigned = client.patch(f"{NUMBERS}/telephoneNumber/+442079460001", json={"state": "assigned", "customerId": "c"},
                            headers={"Content-Type": MERGE_PATCH})  # fmt: skip
    assert assigned.status_code == 200, assigned.text
    return {}


def _port_out_body(_params: dict[str, str]) -> dict[str, Any]:
    return {"recipientOperator": "Recipient", "number": ["+442079460001"], "requestedPortDate": _port_date()}


def _port_out_request(client: TestClient, engine: Engine) -> dict[str, str]:
    _assigned_number(client, engine)
    created = client.post(f"{NUMBERS}/portOutRequest", json=_port_out_body({}))
    assert created.status_code == 201, created.text
    return {"id": created.json()["id"]}


EXAMPLES.update(
    {
        "listPortInRequest": Example(200),
        "createPortInRequest": Example(
            201, lambda client, engine: {"pool": _number_pool(client, engine)["id"]}, body=_port_in_body
        ),
        "retrievePortInRequest": Example(200, _port_in_request),
        "patchPortInRequest": Example(200, _port_in_request, body={"state": "cancelled"}, content_type=MERGE_PATCH),
        "listPortOutRequest": Example(200),
        "createPortOutRequest": Example(201, _assigned_number, body=_port_out_body),
        "retrievePortOutRequest": Example(200, _port_out_request),
        "patchPortOutRequest": Example(200, _port_out_request, body={"state": "cancelled"}, content_type=MERGE_PATCH),
    }
)


# CPE (oss/cpe): a model and a unit in stock at a warehouse site.
CPE = "/provisio/cpe/v1"


def _cpe_model(client: TestClient, _engine: Engine) -> dict[str, str]:
    created = client.post(f"{CPE}/cpeModel", json={"manufacturer": "Matrix", "model": "M1"})
    assert created.status_code == 201, created.text
    return {"id": created.json()["id"], "model": created.json()["id"]}


def _cpe_unit(client: TestClient, engine: Engine) -> dict[str, str]:
    model = _cpe_model(client, engine)["id"]
    body = {"modelId": model, "serialNumber": "MATRIX1", "macAddress": "02:00:00:00:00:01", "warehouseId": "wh-1"}
    created = client.post(f"{CPE}/cpeUnit", json=body)
    assert created.status_code == 201, created.text
    return {"id": created.json()["id"], "model": model}


def _cpe_stock(client: TestClient, engine: Engine) -> dict[str, str]:
    model = _cpe_unit(client, engine)["model"]
    level = client.get(f"{CPE}/stockLevel", params={"modelId": model})
    assert level.status_code == 200 and level.json(), level.text
    return {"id": level.json()[0]["id"], "model": model}


def _cpe_hold(client: TestClient, engine: Engine) -> dict[str, str]:
    model = _cpe_unit(client, engine)["model"]
    item = {"@type": "CpeReservationItem", "quantity": 1, "modelId": model, "warehouseId": "wh-1"}
    held = client.post(f"{RP}/reservation", json={"reservationItem": [item]})
    assert held.status_code == 201, held.text
    return {"item": held.json()["reservationItem"][0]["id"]}


def _cpe_listener(client: TestClient, _engine: Engine) -> dict[str, str]:
    return _listener(client, _engine, base=CPE)


# Physical inventory (oss/site): TMF674 geographic sites.
SITES = "/tmf-api/geographicSiteManagement/v4"


def _site(client: TestClient, _engine: Engine) -> dict[str, str]:
    created = client.post(f"{SITES}/geographicSite", json={"name": "matrix"})
    assert created.status_code == 201, created.text
    return {"id": created.json()["id"]}


def _site_listener(client: TestClient, _engine: Engine) -> dict[str, str]:
    created = client.post(f"{SITES}/hub", json={"callback": "http://127.0.0.1:9/matrix"})
    assert created.status_code == 201, created.text
    return {"id": created.json()["id"]}


EXAMPLES.update(
    {
        "listCpeModel": Example(200),
        "createCpeModel": Example(201, body={"manufacturer": "Matrix", "model": "M1"}),
        "retrieveCpeModel": Example(200, _cpe_model),
        "listCpeUnit": Example(200),
        "createCpeUnit": Example(
            201,
            _cpe_model,
            body=lambda params: {
                "modelId": params["model"],
                "serialNumber": "MATRIX1",
                "macAddress": "02:00:00:00:00:01",
                "warehouseId": "wh-1",
            },
        ),
        "retrieveCpeUnit": Example(200, _cpe_unit),
        "listCpeUnitHistory": Example(200, _cpe_unit),
        "createCpeStateChange": Example(201, _cpe_unit, body=lambda params: {"unit": params["id"], "state": "rma"}),
        "createCpePick": Example(
            201, _cpe_hold, body=lambda params: {"serialNumber": "MATRIX1", "reservationItemId": params["item"]}
        ),
        "listStockLevel": Example(200),
        "createStockLevel": Example(
            201, _cpe_model, body=lambda params: {"modelId": params["model"], "warehouseId": "wh-2", "threshold": 1}
        ),
        "retrieveStockLevel": Example(200, _cpe_stock),
        "patchStockLevel": Example(200, _cpe_stock, body={"threshold": 3}, content_type=MERGE_PATCH),
        "cpeInventory.retrieveListener": Example(200, _cpe_listener),
        "cpeInventory.unregisterListener": Example(204, _cpe_listener),
        "listGeographicSite": Example(200),
        "createGeographicSite": Example(201, body={"name": "matrix"}),
        "retrieveGeographicSite": Example(200, _site),
        "patchGeographicSite": Example(200, _site, body={"status": "active"}, content_type=MERGE_PATCH),
        "deleteGeographicSite": Example(204, _site),
        "geographicSiteManagement.retrieveListener": Example(200, _site_listener),
        "geographicSiteManagement.unregisterListener": Example(204, _site_listener),
    }
)


# Physical inventory (oss/site): the DCIM API.
DCIM = "/provisio/dcim/v1"


def _rack(client: TestClient, engine: Engine) -> dict[str, str]:
    created = client.post(f"{DCIM}/rack", json={"siteId": _site(client, engine)["id"], "name": "R", "height": 42})
    assert created.status_code == 201, created.text
    return {"id": created.json()["id"], "site": created.json()["siteId"]}


def _device_type(client: TestClient, _engine: Engine) -> dict[str, str]:
    body = {"manufacturer": "Acme", "model": "M", "portTemplate": [{"name": "p0"}, {"name": "p1"}]}
    created = client.post(f"{DCIM}/deviceType", json=body)
    assert created.status_code == 201, created.text
    return {"id": created.json()["id"], "type": created.json()["id"]}


def _device(client: TestClient, engine: Engine) -> dict[str, str]:
    site = _site(client, engine)["id"]
    kind = _device_type(client, engine)["id"]
    created = client.post(f"{DCIM}/device", json={"name": "matrix", "deviceTypeId": kind, "siteId": site})
    assert created.status_code == 201, created.text
    return {"id": created.json()["id"], "site": site, "type": kind}


def _ports(client: TestClient, engine: Engine) -> dict[str, str]:
    device = _device(client, engine)
    ports = client.get(f"{DCIM}/port?deviceId={device['id']}").json()
    return {"id": ports[0]["id"], "a": ports[0]["id"], "b": ports[1]["id"]}


def _cable(client: TestClient, engine: Engine) -> dict[str, str]:
    ports = _ports(client, engine)
    created = client.post(f"{DCIM}/cable", json={"aPortId": ports["a"], "bPortId": ports["b"]})
    assert created.status_code == 201, created.text
    return {"id": created.json()["id"]}


def _dcim_listener(client: TestClient, _engine: Engine) -> dict[str, str]:
    created = client.post(f"{DCIM}/hub", json={"callback": "http://127.0.0.1:9/matrix"})
    assert created.status_code == 201, created.text
    return {"id": created.json()["id"]}


EXAMPLES.update(
    {
        "listRack": Example(200),
        "createRack": Example(201, _site, body=lambda params: {"siteId": params["id"], "name": "R", "height": 42}),
        "retrieveRack": Example(200, _rack),
        "listDeviceType": Example(200),
        "createDeviceType": Example(201, body={"manufacturer": "Acme", "model": "M"}),
        "retrieveDeviceType": Example(200, _device_type),
        "listDevice": Example(200),
        "createDevice": Example(
            201,
            lambda client, engine: {"site": _site(client, engine)["id"], "type": _device_type(client, engine)["id"]},
            body=lambda params: {"name": "d", "deviceTypeId": params["type"], "siteId": params["site"]},
        ),
        "retrieveDevice": Example(200, _device),
        "patchDevice": Example(200, _device, body={"status": "active"}, content_type=MERGE_PATCH),
        "listPort": Example(200),
        "retrievePort": Example(200, _ports),
        "patchPort": Example(200, _ports, body={"adminState": "down"}, content_type=MERGE_PATCH),
        "retrievePortTrace": Example(200, _ports),
        "listCable": Example(200),
        "createCable": Example(201, _ports, body=lambda params: {"aPortId": params["a"], "bPortId": params["b"]}),
        "retrieveCable": Example(200, _cable),
        "deleteCable": Example(204, _cable),
        "dcim.retrieveListener": Example(200, _dcim_listener),
        "dcim.unregisterListener": Example(204, _dcim_listener),
    }
)


# IPAM (oss/ip_pool): documentation ranges only.
def _ip_prefix(client: TestClient, _engine: Engine) -> dict[str, str]:
    created = client.post(f"{IPAM}/prefix", json={"prefix": "192.0.2.0/24"})
    assert created.status_code == 201, created.text
    return {"id": created.json()["id"]}


def _ip_address(client: TestClient, engine: Engine) -> dict[str, str]:
    prefix = _ip_prefix(client, engine)
    created = client.post(f"{IPAM}/prefix/{prefix['id']}/availableIp", json={})
    assert created.status_code == 201, created.text
    return {"id": created.json()[0]["id"]}


def _vrf(client: TestClient, _engine: Engine) -> dict[str, str]:
    created = client.post(f"{IPAM}/vrf", json={"name": "matrix"})
    assert created.status_code == 201, created.text
    return {"id": created.json()["id"]}


def _ip_pool(client: TestClient, engine: Engine) -> dict[str, str]:
    prefix = _ip_prefix(client, engine)
    created = client.post(f"{IPAM}/pool", json={"name": "matrix", "prefixId": prefix["id"]})
    assert created.status_code == 201, created.text
    return {"id": created.json()["id"]}


def _vlan_group(client: TestClient, _engine: Engine) -> dict[str, str]:
    created = client.post(f"{IPAM}/vlanGroup", json={"name": "matrix"})
    assert created.status_code == 201, created.text
    return {"id": created.json()["id"]}


def _vlan(client: TestClient, engine: Engine) -> dict[str, str]:
    group = _vlan_group(client, engine)
    created = client.post(f"{IPAM}/vlanGroup/{group['id']}/availableVlan", json={})
    assert created.status_code == 201, created.text
    return {"id": created.json()["id"]}


def _ipam_listener(client: TestClient, engine: Engine) -> dict[str, str]:
    return _listener(client, engine, IPAM)


EXAMPLES.update(
    {
        "listVrf": Example(200),
        "createVrf": Example(201, body={"name": "matrix"}),
        "retrieveVrf": Example(200, _vrf),
        "deleteVrf": Example(204, _vrf),
        "listIpPrefix": Example(200),
        "createIpPrefix": Example(201, body={"prefix": "198.51.100.0/24"}),
        "retrieveIpPrefix": Example(200, _ip_prefix),
        "deleteIpPrefix": Example(204, _ip_prefix),
        "listAvailableIp": Example(200, _ip_prefix),
        "createAvailableIp": Example(201, _ip_prefix, body={"quantity": 1}),
        "listAvailablePrefix": Example(
            200, lambda client, engine: {**_ip_prefix(client, engine), "?prefixLength": "28"}
        ),
        "createAvailablePrefix": Example(201, _ip_prefix, body={"prefixLength": 28}),
        "listIpAddress": Example(200),
        "createIpAddress": Example(201, _ip_prefix, body={"address": "192.0.2.9/24"}),
        "retrieveIpAddress": Example(200, _ip_address),
        "patchIpAddress": Example(200, _ip_address, body={"dnsName": "a.example.net"}, content_type=MERGE_PATCH),
        "deleteIpAddress": Example(204, _ip_address),
        "listIpPool": Example(200),
        "createIpPool": Example(201, _ip_prefix, body=lambda params: {"name": "matrix", "prefixId": params["id"]}),
        "retrieveIpPool": Example(200, _ip_pool),
        "patchIpPool": Example(200, _ip_pool, body={"reservedHead": 1}, content_type=MERGE_PATCH),
        "deleteIpPool": Example(204, _ip_pool),
        "listVlanGroup": Example(200),
        "createVlanGroup": Example(201, body={"name": "matrix"}),
        "retrieveVlanGroup": Example(200, _vlan_group),
        "deleteVlanGroup": Example(204, _vlan_group),
        "listAvailableVlan": Example(200, _vlan_group),
        "createAvailableVlan": Example(201, _vlan_group, body={}),
        "listVlan": Example(200),
        "createVlan": Example(201, _vlan_group, body=lambda params: {"groupId": params["id"], "vid": 10}),
        "retrieveVlan": Example(200, _vlan),
        "deleteVlan": Example(204, _vlan),
        "ipam.retrieveListener": Example(200, _ipam_listener),
        "ipam.unregisterListener": Example(204, _ipam_listener),
    }
)


def declared(operation: Operation) -> dict[str, Any]:
    item = _document(operation.api.spec)["paths"][operation.template]
    result: dict[str, Any] = item[operation.method.lower()]
    return result


def required_scopes(operation: Operation) -> list[str]:
    return sorted(
        {scope for requirement in declared(operation).get("security") or () for scope in requirement.get("oauth2", ())}
    )


@pytest.mark.parametrize("operation", OPERATIONS, ids=str)
def test_every_operation_declares_security_with_its_scopes(operation: Operation) -> None:
    security = declared(operation).get("security")
    assert security, (
        f"{operation} ({operation.operation_id}) in {OPENAPI_DIR / operation.api.spec} declares no `security`: "
        "add `security: [{oauth2: ['<api>:<verb>']}, {apiToken: []}, {apiKey: []}]` naming its scopes"
    )
    schemes = {name for requirement in security for name in requirement}
    assert schemes == {"oauth2", "apiToken", "apiKey"}, f"{operation}: the alternatives are oauth2, apiToken, apiKey"
    scopes = required_scopes(operation)
    assert scopes, f"{operation}: its oauth2 requirement names no scope"
    assert set(scopes) <= set(SCOPES), (
        f"{operation}: unknown scopes {set(scopes) - set(SCOPES)} (server/auth/settings.py)"
    )
    document = _document(operation.api.spec)
    declared_scopes = document["components"]["securitySchemes"]["oauth2"]["flows"]["clientCredentials"]["scopes"]
    assert set(scopes) <= set(declared_scopes), f"{operation}: scopes missing from the document's oauth2 scheme"


@pytest.mark.parametrize("operation", OPERATIONS, ids=str)
def test_every_operation_has_an_example_for_the_matrix(operation: Operation) -> None:
    assert _key(operation) in EXAMPLES, (
        f"{operation} ({operation.operation_id}) has no entry in EXAMPLES of {__file__}: add one "
        "(expected 2xx status, setup giving its path parameters, body), so the auth matrix can call it"
    )


def call(
    client: TestClient, operation: Operation, example: Example, params: dict[str, str], headers: dict[str, str]
) -> Any:
    request_headers = dict(headers)
    kwargs: dict[str, Any] = {}
    body = example.body(params) if callable(example.body) else example.body
    if body is not None:
        request_headers["Content-Type"] = example.content_type
        kwargs["json"] = body
    # A setup's "?name" entries are query parameters (e.g. the poolId a search needs), the rest path parameters.
    query = {name[1:]: value for name, value in params.items() if name.startswith("?")}
    path = {name: value for name, value in params.items() if not name.startswith("?")}
    if query:
        kwargs["params"] = query
    return client.request(operation.method, operation.url(**path), headers=request_headers, **kwargs)


def _key(operation: Operation) -> str:
    """The operation's entry in EXAMPLES: its API's own, else the one of its operationId."""
    own = f"{operation.api.name}.{operation.operation_id}"
    return own if own in EXAMPLES else operation.operation_id


def _example(operation: Operation) -> Example:
    if _key(operation) not in EXAMPLES:
        pytest.fail(
            f"{operation.operation_id}: add an entry to EXAMPLES (test_every_operation_has_an_example_for_the_matrix)"
        )
    return EXAMPLES[_key(operation)]


@pytest.mark.parametrize("operation", OPERATIONS, ids=str)
def test_without_a_credential_every_operation_is_401(
    client: TestClient, clean_db: Engine, operation: Operation
) -> None:
    example = _example(operation)
    params = example.setup(client, clean_db)
    anonymous = {"Authorization": ""}  # overrides the client's default credential
    response = call(client, operation, example, params, anonymous)
    assert response.status_code == 401, response.text
    assert response.json()["@type"] == "Error" and response.json()["status"] == "401"
    assert "Bearer" in response.headers["WWW-Authenticate"] and "Token" in response.headers["WWW-Authenticate"]


@pytest.mark.parametrize("operation", OPERATIONS, ids=str)
def test_without_its_scope_every_operation_is_403_naming_it(
    client: TestClient, clean_db: Engine, make_token: Any, operation: Operation
) -> None:
    example = _example(operation)
    params = example.setup(client, clean_db)
    needed = required_scopes(operation)
    _, key = make_token(scopes=[scope for scope in ALL_SCOPES if scope not in needed])
    response = call(client, operation, example, params, token_headers(key))
    assert response.status_code == 403, response.text
    body = response.json()
    assert body["code"] == "INSUFFICIENT_SCOPE" and body["status"] == "403"
    assert all(scope in body["message"] for scope in needed), body


@pytest.mark.parametrize("operation", OPERATIONS, ids=str)
def test_with_exactly_its_scopes_every_operation_succeeds(
    client: TestClient, clean_db: Engine, make_token: Any, operation: Operation
) -> None:
    example = _example(operation)
    params = example.setup(client, clean_db)
    _, key = make_token(scopes=required_scopes(operation))
    response = call(client, operation, example, params, token_headers(key))
    assert response.status_code == example.status, response.text


@pytest.mark.parametrize("operation", OPERATIONS, ids=str)
def test_with_a_jwt_of_exactly_its_scopes_every_operation_succeeds(
    client: TestClient, clean_db: Engine, identity_provider: Any, operation: Operation
) -> None:
    example = _example(operation)
    params = example.setup(client, clean_db)
    jwt = identity_provider.token(scope=" ".join(required_scopes(operation)))
    response = call(client, operation, example, params, {"Authorization": f"Bearer {jwt}"})
    assert response.status_code == example.status, response.text


@pytest.mark.parametrize("api", APIS, ids=lambda api: api.name)
def test_every_served_document_declares_the_schemes_with_the_token_url_from_settings(
    anonymous_client: TestClient, settings: Any, api: Any
) -> None:
    served = anonymous_client.get(f"{api.base_path}/openapi.json").json()
    schemes = served["components"]["securitySchemes"]
    assert set(schemes) >= {"oauth2", "apiToken", "apiKey"}
    assert schemes["oauth2"]["flows"]["clientCredentials"]["tokenUrl"] == settings.auth.token_url
    assert schemes["apiToken"]["in"] == "header" and schemes["apiToken"]["name"] == "Authorization"
    assert schemes["apiKey"]["name"] == "X-API-Key"


# Catalog (bss/catalog, issue 20): TMF620 v5, TMF633 v4, TMF634 v5.
_CATALOGS = {
    "productCatalogManagement": ("/tmf-api/productCatalogManagement/v5",
                                 ("productSpecification", "productOffering", "productOfferingPrice")),
    "serviceCatalogManagement": ("/tmf-api/serviceCatalogManagement/v4", ("serviceSpecification",)),
    "resourceCatalog": ("/tmf-api/resourceCatalog/v5", ("resourceSpecification",)),
}  # fmt: skip


def _catalog_entity(base: str, collection: str) -> Setup:
    def setup(client: TestClient, _engine: Engine) -> dict[str, str]:
        created = client.post(f"{base}/{collection}", json={"name": "matrix"})
        assert created.status_code == 201, created.text
        return {"id": created.json()["id"]}

    return setup


def _catalog_listener(base: str) -> Setup:
    return lambda client, engine: _listener(client, engine, base)


for _api, (_base, _collections) in _CATALOGS.items():
    EXAMPLES[f"{_api}.retrieveListener"] = Example(200, _catalog_listener(_base))
    EXAMPLES[f"{_api}.unregisterListener"] = Example(204, _catalog_listener(_base))
    for _collection in _collections:
        _name = _collection[0].upper() + _collection[1:]
        EXAMPLES[f"list{_name}"] = Example(200)
        EXAMPLES[f"create{_name}"] = Example(201, body={"name": "matrix"})
        EXAMPLES[f"retrieve{_name}"] = Example(200, _catalog_entity(_base, _collection))
        EXAMPLES[f"patch{_name}"] = Example(
            200, _catalog_entity(_base, _collection), body={"description": "changed"}, content_type=MERGE_PATCH
        )
