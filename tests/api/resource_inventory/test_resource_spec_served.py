"""The served contract: TM Forum's operationIds and base path, a loadable spec for the API explorer."""

from __future__ import annotations

from starlette.testclient import TestClient

from tests.api.resource_inventory.helpers_tmf639 import BASE

TMF639_OPERATIONS = {
    ("/resource", "get"): "listResource",
    ("/resource", "post"): "createResource",
    ("/resource/{id}", "get"): "retrieveResource",
    ("/resource/{id}", "patch"): "patchResource",
    ("/resource/{id}", "delete"): "deleteResource",
    ("/hub", "post"): "registerListener",
    ("/hub/{id}", "get"): "retrieveListener",  # not in the v4 file; TMF639 v5 has it (hubGet)
    ("/hub/{id}", "delete"): "unregisterListener",
}


def test_openapi_json_is_served_with_tmf_operation_ids_and_no_external_refs(client: TestClient) -> None:
    response = client.get(f"{BASE}/openapi.json")
    assert response.status_code == 200
    spec = response.json()
    served = {
        (path, method): operation["operationId"]
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if isinstance(operation, dict) and "operationId" in operation
    }
    assert served == TMF639_OPERATIONS
    assert "tmf_common.yaml" not in response.text  # shared parts are inlined for the explorer


def test_swagger_ui_is_served(client: TestClient) -> None:
    response = client.get(f"{BASE}/ui/")
    assert response.status_code == 200
    assert "swagger" in response.text.lower()
