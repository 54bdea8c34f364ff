"""Each operation's handler is decorated once (``server.routing``), not at every request, and still gets
its parameters and answers as connexion would."""

from __future__ import annotations

from typing import Any

import pytest
from connexion.decorators.main import BaseDecorator

from tests.api.resource_inventory.helpers_tmf639 import BASE


def test_handler_is_decorated_once_not_per_request(client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    created = client.post(f"{BASE}/resource", json={"name": "r1", "@type": "LogicalResource"})
    assert created.status_code == 201
    resource_id = created.json()["id"]
    builds: list[object] = []
    real = BaseDecorator.decorate

    def counting(self: BaseDecorator, function: Any) -> Any:
        builds.append(function)
        return real(self, function)

    monkeypatch.setattr(BaseDecorator, "decorate", counting)
    for _ in range(3):
        response = client.get(f"{BASE}/resource/{resource_id}", params={"fields": "name"})
        assert response.status_code == 200
        assert response.json() == {
            "id": resource_id,
            "href": response.json()["href"],
            "@type": "LogicalResource",
            "name": "r1",
        }
    assert len(builds) <= 1  # at most the operation's first request builds it


def test_request_body_is_parsed_once_and_handed_to_the_handler(client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The guard's parse is the document the validator checks and the handler gets (no second parse)."""
    import starlette.requests

    second_parses: list[object] = []
    real = starlette.requests.Request.json

    async def counting(self: starlette.requests.Request) -> Any:
        second_parses.append(self)
        return await real(self)

    monkeypatch.setattr(starlette.requests.Request, "json", counting)
    created = client.post(f"{BASE}/resource", json={"name": "once", "@type": "LogicalResource", "category": "c"})
    assert created.status_code == 201
    assert (created.json()["name"], created.json()["category"]) == ("once", "c")
    assert second_parses == []


def test_request_validation_is_built_once_per_operation(client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from server import validation

    created = client.post(f"{BASE}/resource", json={"name": "r1", "@type": "LogicalResource"})
    resource_id = created.json()["id"]
    assert client.get(f"{BASE}/resource/{resource_id}").status_code == 200  # each operation's first request
    assert client.get(f"{BASE}/resource", params={"limit": "-1"}).status_code == 400
    builds: list[object] = []
    real = validation.CachedParameterValidator.__init__

    def counting(self: Any, *args: Any, **kwargs: Any) -> None:
        builds.append(self)
        real(self, *args, **kwargs)

    monkeypatch.setattr(validation.CachedParameterValidator, "__init__", counting)
    for _ in range(3):
        assert client.get(f"{BASE}/resource/{resource_id}").status_code == 200
        # still validated: a declared parameter that breaks its schema is a 400
        assert client.get(f"{BASE}/resource", params={"limit": "-1"}).status_code == 400
    assert builds == []


@pytest.mark.parametrize("path", ["/resource/ui", "/resource/openapi", "/resource/openapi.json"])
def test_api_paths_that_look_like_explorer_paths_still_reach_the_api(client: Any, path: str) -> None:
    """Paths holding ``/ui`` or ``/openapi`` take connexion's explorer router, which hands them on."""
    response = client.get(f"{BASE}{path}")
    assert response.status_code == 404
    assert response.json()["@type"] == "Error"


def test_explorer_and_documents_are_still_served(client: Any) -> None:
    assert client.get(f"{BASE}/openapi.json").json()["info"]
    assert client.get(f"{BASE}/ui/").status_code == 200


def test_raw_query_handler_takes_path_parameters_only(client: Any) -> None:
    """``reads_raw_query``: the query reaches the handler as text, checked by common.tmf, not as arguments."""
    created = client.post(f"{BASE}/resource", json={"name": "r1", "@type": "LogicalResource"})
    resource_id = created.json()["id"]
    answer = client.get(f"{BASE}/resource/{resource_id}", params={"fields": "name"})
    assert answer.status_code == 200
    assert set(answer.json()) == {"id", "href", "@type", "name"}
    assert client.get(f"{BASE}/resource/{resource_id}", params={"fields": "nope"}).status_code == 400
