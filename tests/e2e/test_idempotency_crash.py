"""A real server process killed between the two writes of a keyed POST (the commit that holds the key and
the effect, and the keeping of the answer): a restarted server answers the retry from the effect, and the
effect happened once. ``PROVISIO_TEST_EXIT_BEFORE_IDEMPOTENT_ANSWER`` makes the first server exit right
there, as a crash would."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, select

from common.events import EventSubscription
from oss.resource_inventory.models import ResourceRow
from server.idempotency import EXIT_BEFORE_ANSWER_STATUS, IdempotencyRecord
from server.settings import Settings
from tests.api.idempotency.helpers_idempotency import HUB, RESOURCES, count
from tests.support.auth import token_headers
from tests.support.ports import free_port

pytestmark = pytest.mark.e2e

PROJECT_ROOT = Path(__file__).resolve().parents[2]


class ServerProcess:
    """``uvicorn server.app:create_app`` in its own process, on the tests' database and data directory."""

    def __init__(self, database_url: str, data_dir: Path, **environment: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("PROVISIO_")}
        env.update(DATABASE_URL=database_url, PROVISIO_DATA_DIR=str(data_dir), LOG_LEVEL="WARNING", **environment)
        command = [sys.executable, "-m", "uvicorn", "server.app:create_app", "--factory",
                   "--host", "127.0.0.1", "--port", str(self.port)]  # fmt: skip
        self.process = subprocess.Popen(
            command, cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )

    def wait_until_serving(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if httpx.get(f"{self.url}/health", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server did not start: {self.process.communicate()[0]}")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
        self.process.communicate(timeout=30)


@pytest.fixture
def start_server(settings: Settings, clean_db: Engine) -> Iterator[Callable[..., ServerProcess]]:
    started: list[ServerProcess] = []

    def start(**environment: str) -> ServerProcess:
        server = ServerProcess(settings.database_url, settings.data_dir, **environment)
        started.append(server)
        server.wait_until_serving()
        return server

    yield start
    for server in started:
        server.stop()


CASES = {
    "tmf639-create": (RESOURCES, {"@type": "LogicalResource", "name": "survivor"}, ResourceRow),
    "hub-registration": (HUB, {"callback": "http://127.0.0.1:9/listener"}, EventSubscription),
}


def test_servers_killed_between_commit_and_answer_are_answered_from_the_effect_after_restart(
    start_server: Callable[..., ServerProcess], clean_db: Engine, make_token: Any
) -> None:
    _token, key = make_token()
    credential = token_headers(key)
    effects: dict[str, str] = {}
    for case, (path, body, model) in CASES.items():
        doomed = start_server(PROVISIO_TEST_EXIT_BEFORE_IDEMPOTENT_ANSWER="1")
        with pytest.raises(httpx.TransportError):  # the process is gone before it answers
            httpx.post(doomed.url + path, json=body, headers={**credential, "Idempotency-Key": case}, timeout=20)
        assert doomed.process.wait(timeout=20) == EXIT_BEFORE_ANSWER_STATUS
        assert count(clean_db, model) == 1  # the effect committed, with its key, without an answer
        with clean_db.connect() as connection:
            record = connection.execute(select(IdempotencyRecord).where(IdempotencyRecord.key == case)).one()
        assert record.status is None
        assert record.effect_id is not None
        effects[case] = record.effect_id

    restarted = start_server()
    for case, (path, body, model) in CASES.items():
        headers = {**credential, "Idempotency-Key": case}
        retry = httpx.post(restarted.url + path, json=body, headers=headers, timeout=20)
        assert retry.status_code == 201
        assert retry.headers["Idempotent-Replayed"] == "true"
        assert retry.json()["id"] == effects[case]
        assert retry.headers["Location"] == f"{restarted.url}{path}/{effects[case]}"
        if model is EventSubscription:
            assert retry.json()["secret"]  # as the lost first answer had it
        else:
            shown = httpx.get(retry.headers["Location"], headers=credential, timeout=20)
            assert retry.json() == shown.json()
            assert retry.headers["ETag"] == shown.headers["ETag"]
        again = httpx.post(restarted.url + path, json=body, headers=headers, timeout=20)
        assert (again.status_code, again.content) == (201, retry.content)  # the rendered answer was kept
        assert count(clean_db, model) == 1
