"""Concurrent PATCHes of one resource over a real socket: each is applied once, none is lost, no 500."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import Engine, func, select

from common.events import OutboxEvent

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

BASE = "/tmf-api/resourceInventoryManagement/v4"
WRITERS = 8


def test_parallel_patches_serialise_and_each_publishes_its_event(live_server, clean_db: Engine) -> None:  # type: ignore[no-untyped-def]
    with httpx.Client(base_url=live_server.url, timeout=30, headers=live_server.headers) as client:
        created = client.post(f"{BASE}/resource", json={"name": "shared", "note": []}).json()

        def patch(index: int) -> int:
            with httpx.Client(base_url=live_server.url, timeout=30, headers=live_server.headers) as own:
                response = own.patch(
                    f"{BASE}/resource/{created['id']}",
                    content=f'{{"description": "writer {index}"}}',
                    headers={"content-type": "application/merge-patch+json"},
                )
                return response.status_code

        with ThreadPoolExecutor(max_workers=WRITERS) as pool:
            statuses = list(pool.map(patch, range(WRITERS)))
        final = client.get(f"{BASE}/resource/{created['id']}").json()

    assert statuses == [200] * WRITERS
    assert final["description"] in {f"writer {index}" for index in range(WRITERS)}
    with clean_db.connect() as connection:
        changes = connection.scalar(
            select(func.count())
            .select_from(OutboxEvent)
            .where(OutboxEvent.event_type == "ResourceAttributeValueChangeEvent")
        )
    assert changes == WRITERS  # every patch changed the description, so every one published


def test_parallel_patches_with_the_same_if_match_give_one_200_and_412s(live_server, clean_db: Engine) -> None:  # type: ignore[no-untyped-def]
    """If-Match is checked against the row the use case has locked, so a race is a 412, never a lost update."""
    with httpx.Client(base_url=live_server.url, timeout=30, headers=live_server.headers) as client:
        created = client.post(f"{BASE}/resource", json={"name": "shared"})
        etag = created.headers["etag"]
        path = f"{BASE}/resource/{created.json()['id']}"

        def patch(index: int) -> int:
            with httpx.Client(base_url=live_server.url, timeout=30, headers=live_server.headers) as own:
                response = own.patch(
                    path,
                    content=f'{{"description": "writer {index}"}}',
                    headers={"content-type": "application/merge-patch+json", "If-Match": etag},
                )
                return response.status_code

        with ThreadPoolExecutor(max_workers=WRITERS) as pool:
            statuses = list(pool.map(patch, range(WRITERS)))
        final = client.get(path)

    assert sorted(statuses) == [200] + [412] * (WRITERS - 1)
    assert final.headers["etag"] == '"2"'
    with clean_db.connect() as connection:
        changes = connection.scalar(
            select(func.count())
            .select_from(OutboxEvent)
            .where(OutboxEvent.event_type == "ResourceAttributeValueChangeEvent")
        )
    assert changes == 1
