"""Fixtures for the TMF639 API tests (helpers live in helpers_tmf639.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from tests.api.resource_inventory.helpers_tmf639 import OfficialSpecClient


@pytest.fixture
def tmf(client: TestClient) -> Iterator[OfficialSpecClient]:
    """The in-process client; every response is validated against the official TMF639 v4 spec."""
    yield OfficialSpecClient(client)
