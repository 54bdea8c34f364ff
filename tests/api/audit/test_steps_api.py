"""Durable steps and sweepers through the ops API (``/provisio/audit/v1/step``, ``/sweeper``): listed with
their state, filtered by kind and state, and a dead step retried."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, update
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from common import clock, steps

AUDIT = "/provisio/audit/v1"


def _schedule(engine: Engine, kind: str, key: str, *, state: str | None = None, due_in: float = 0) -> str:
    with Session(engine) as session, session.begin():
        step_id = steps.schedule_step(
            session, kind, key=key, due_at=clock.now() + timedelta(seconds=due_in), payload={"key": key}
        )
        if state is not None:
            session.execute(update(steps.DurableStep).where(steps.DurableStep.id == step_id).values(state=state))
    return step_id


@pytest.fixture
def scheduled(clean_db: Engine) -> dict[str, str]:
    return {
        "late": _schedule(clean_db, "reservation.expiry", "r2", due_in=600),
        "soon": _schedule(clean_db, "reservation.expiry", "r1", due_in=60),
        "dead": _schedule(clean_db, "number.aging", "n1", state=steps.DEAD),
    }


def test_steps_are_listed_soonest_due_first_and_filtered_by_kind_and_state(
    client: TestClient, scheduled: dict[str, str]
) -> None:
    listed = client.get(f"{AUDIT}/step")
    assert listed.status_code == 200, listed.text
    assert [step["id"] for step in listed.json()] == [scheduled["dead"], scheduled["soon"], scheduled["late"]]
    assert listed.headers["X-Total-Count"] == "3"

    expiries = client.get(f"{AUDIT}/step", params={"kind": "reservation.expiry", "fields": "key,state"}).json()
    assert expiries == [
        {"id": scheduled["soon"], "key": "r1", "state": "pending"},
        {"id": scheduled["late"], "key": "r2", "state": "pending"},
    ]
    dead = client.get(f"{AUDIT}/step", params={"state": "dead"}).json()
    assert [(step["kind"], step["key"], step["payload"]) for step in dead] == [("number.aging", "n1", {"key": "n1"})]
    assert client.get(f"{AUDIT}/step", params={"state": "sleeping"}).status_code == 400
    assert client.get(f"{AUDIT}/step", params={"sort": "-dueAt", "limit": 1}).json()[0]["id"] == scheduled["late"]


def test_a_dead_step_is_retried_and_any_other_is_a_conflict(client: TestClient, scheduled: dict[str, str]) -> None:
    retried = client.post(f"{AUDIT}/step/{scheduled['dead']}/retry")
    assert retried.status_code == 200, retried.text
    assert (retried.json()["state"], retried.json()["failures"]) == ("pending", 0)
    assert client.get(f"{AUDIT}/step/{scheduled['dead']}").json()["state"] == "pending"

    again = client.post(f"{AUDIT}/step/{scheduled['dead']}/retry")
    assert again.status_code == 409
    assert again.json()["code"] == "STEP_NOT_DEAD"
    missing = client.post(f"{AUDIT}/step/no-such-step/retry")
    assert (missing.status_code, missing.json()["code"]) == (404, "STEP_NOT_FOUND")
    assert client.get(f"{AUDIT}/step/no-such-step").status_code == 404


def test_sweepers_are_listed_with_their_due_time_and_last_run(
    client: TestClient, clean_db: Engine, registry_sweeper: str
) -> None:
    listed = client.get(f"{AUDIT}/sweeper")
    assert listed.status_code == 200, listed.text
    # Contexts' own sweepers (reservation.expire) ran in the same round; this test's is the one with its name.
    (sweeper,) = [found for found in listed.json() if found["id"] == registry_sweeper]
    assert (sweeper["id"], sweeper["state"], sweeper["runs"]) == (registry_sweeper, "idle", 1)
    assert sweeper["lastChanged"] == 4
    assert sweeper["everySeconds"] == 300.0
    assert client.get(f"{AUDIT}/sweeper", params={"state": "running"}).json() == []


@pytest.fixture
def registry_sweeper(clean_db: Engine) -> str:
    from server.db import make_session_factory

    steps.register_sweeper("test.api-sweep", timedelta(minutes=5), lambda uow, now: 4)
    runner = steps.StepRunner(make_session_factory(clean_db), heartbeat=False)
    try:
        runner.run_once()
    finally:
        runner.close()
        steps.unregister_sweeper("test.api-sweep")
    return "test.api-sweep"
