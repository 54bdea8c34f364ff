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
