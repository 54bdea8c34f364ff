"""Number porting through the API (issue 16 "Porting"): port-in and port-out requests, their lifecycle, and
the port date run by the durable-step kernel with the injected clock, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from common import clock, steps
from common.events import OutboxEvent
from oss.number_pool.porting import PORT_IN_ASSIGN_STEP, PORT_IN_STEP, PORT_OUT_STEP
from server.db import make_session_factory
from tests.api.number_pool.helpers_numbers import BASE, MERGE, RI, london, patch_number

START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
DONOR_NUMBERS = ["+442079470001", "+442079470002", "+442079470007"]  # in none of our blocks


@pytest.fixture
def fixed_clock() -> Iterator[clock.FixedClock]:
    fixed = clock.FixedClock(START)
    previous = clock.set_clock(fixed)
    yield fixed
    clock.set_clock(previous)


@pytest.fixture
def runner(clean_db: Engine) -> Iterator[steps.StepRunner]:
    made = steps.StepRunner(
        make_session_factory(clean_db),
        retry=steps.RetryPolicy(max_attempts=3, base_delay=10.0, max_delay=60.0, jitter=0.0),
        lease=timedelta(seconds=30),
        heartbeat=False,
    )
    yield made
    made.close()


def when(delta: timedelta) -> str:
    return clock.isoformat(START + delta)


def port_in(client: TestClient, pool_id: str, numbers: list[str] | None = None, **extra: Any) -> Any:
    body = {
        "donorOperator": "Donor Telecom",
        "number": numbers or DONOR_NUMBERS,
        "authorisationReference": "LOA-2026-0042",
        "requestedPortDate": when(timedelta(days=3)),
        "poolId": pool_id,
        "customerId": "cust-7",
        "serviceId": "svc-7",
        **extra,
    }
    return client.post(f"{BASE}/portInRequest", json=body)


def patch(client: TestClient, kind: str, request_id: str, **body: Any) -> Any:
    return client.patch(f"{BASE}/{kind}/{request_id}", json=body, headers=MERGE)


def step_state(engine: Engine, kind: str, key: str) -> tuple[str, datetime | None]:
    with Session(engine) as session:
        row = session.scalars(
            select(steps.DurableStep).where(steps.DurableStep.kind == kind, steps.DurableStep.key == key)
        ).one()
        return row.state, row.due_at


def event_types(engine: Engine) -> list[str]:
    with Session(engine) as session:
        return [e.event_type for e in session.scalars(select(OutboxEvent).order_by(OutboxEvent.seq))]


def history(client: TestClient, number: str) -> list[tuple[str, str]]:
    entries = client.get(f"{BASE}/telephoneNumber/{number}/history").json()
    return [(entry["fromState"], entry["toState"]) for entry in entries]


def test_port_in_moves_on_the_port_date_to_ported_in_then_assigned(
    client: TestClient, clean_db: Engine, fixed_clock: clock.FixedClock, runner: steps.StepRunner
) -> None:
    pool, _ = london(client)
    created = port_in(client, pool["id"])
    assert created.status_code == 201, created.text
    request = created.json()
    assert request["state"] == "requested" and request["@type"] == "PortInRequest"
    assert created.headers["Location"].endswith(f"/portInRequest/{request['id']}")

    confirmed = patch(client, "portInRequest", request["id"], state="confirmed", portDate=when(timedelta(days=5)))
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["portDate"] == when(timedelta(days=5))
    assert step_state(clean_db, PORT_IN_STEP, request["id"]) == ("pending", START + timedelta(days=5))

    fixed_clock.advance(timedelta(days=4, hours=23))
    runner.run_once()  # not due yet: nothing moves
    assert client.get(f"{BASE}/portInRequest/{request['id']}").json()["state"] == "confirmed"
    assert client.get(f"{BASE}/telephoneNumber/{DONOR_NUMBERS[0]}").status_code == 404

    fixed_clock.advance(timedelta(hours=1))
    runner.run_once()
    ported = client.get(f"{BASE}/portInRequest/{request['id']}").json()
    number = client.get(f"{BASE}/telephoneNumber/{DONOR_NUMBERS[0]}").json()
    if ported["state"] == "ported":  # the follow-up step is due now: the next pass assigns
        assert number["state"] == "portedIn"
        runner.run_once()
    done = client.get(f"{BASE}/portInRequest/{request['id']}").json()
    assert done["state"] == "completed" and "completedAt" in done and "portedAt" in done
    for value in DONOR_NUMBERS:
        number = client.get(f"{BASE}/telephoneNumber/{value}").json()
        assert number["state"] == "assigned" and number["customerId"] == "cust-7" and number["serviceId"] == "svc-7"
        assert number["poolId"] == pool["id"]
        assert history(client, value) == [("available", "portedIn"), ("portedIn", "assigned")]
        resource = client.get(f"{RI}/resource/{number['resource']['id']}").json()
        assert resource["value"] == value and resource["usageState"] == "busy"
    assert step_state(clean_db, PORT_IN_STEP, request["id"])[0] == "done"
    assert step_state(clean_db, PORT_IN_ASSIGN_STEP, request["id"])[0] == "done"
    types = event_types(clean_db)
    assert types.count("PortInRequestStateChangeEvent") == 3  # confirmed, ported, completed
    assert "PortInRequestCreateEvent" in types and "NumberBlockCreateEvent" in types
    retrieved = client.get(f"{BASE}/numberPool/{pool['id']}").json()
    assert retrieved["capacity"] == 1000 + 3  # the ported numbers joined our stock (2 blocks: 0001-0002, 0007)


def test_a_rejected_port_in_keeps_the_donors_reason_and_moves_no_further(
    client: TestClient, clean_db: Engine, fixed_clock: clock.FixedClock
) -> None:
    pool, _ = london(client)
    request = port_in(client, pool["id"]).json()
    early_date = patch(client, "portInRequest", request["id"], portDate=when(timedelta(days=4)))
    assert early_date.status_code == 400 and "confirmed request" in early_date.json()["message"]
    without_reason = patch(client, "portInRequest", request["id"], state="rejected")
    assert without_reason.status_code == 400 and without_reason.json()["code"] == "INVALID_PORT_REQUEST"
    rejected = patch(client, "portInRequest", request["id"], state="rejected", stateReason="LOA name mismatch")
    assert rejected.status_code == 200 and rejected.json()["stateReason"] == "LOA name mismatch"
    again = patch(client, "portInRequest", request["id"], state="confirmed")
    assert again.status_code == 409 and again.json()["code"] == "INVALID_PORT_REQUEST_TRANSITION"
    # The numbers are free for another request once this one is closed.
    assert port_in(client, pool["id"]).status_code == 201


def test_a_number_of_ours_or_in_an_open_request_cannot_be_ported_in(
    client: TestClient, clean_db: Engine, fixed_clock: clock.FixedClock
) -> None:
    pool, _ = london(client)
    ours = port_in(client, pool["id"], ["+442079460005"])
    assert ours.status_code == 409 and ours.json()["code"] == "NUMBER_NOT_PORTABLE"
    assert port_in(client, pool["id"]).status_code == 201
    twice = port_in(client, pool["id"], ["+442079470002"])
    assert twice.status_code == 409 and twice.json()["code"] == "NUMBER_IN_OPEN_PORT_REQUEST"
    invalid = port_in(client, pool["id"], ["+4420794"])
    assert invalid.status_code == 400 and invalid.json()["code"] == "INVALID_E164"
    past = port_in(client, pool["id"], ["+442079470100"], requestedPortDate=when(-timedelta(days=1)))
    assert past.status_code == 400 and past.json()["code"] == "PORT_DATE_IN_PAST"


def test_port_out_ends_with_the_numbers_ported_out_and_released(
    client: TestClient, clean_db: Engine, fixed_clock: clock.FixedClock, runner: steps.StepRunner
) -> None:
    london(client)
    number = "+442079460123"
    assert patch_number(client, number, state="assigned", customerId="cust-1", serviceId="svc-1").status_code == 200
    body = {"recipientOperator": "Recipient Mobile", "number": [number], "requestedPortDate": when(timedelta(days=1))}
    wrong_customer = client.post(f"{BASE}/portOutRequest", json={**body, "customerId": "cust-2"})
    assert wrong_customer.status_code == 409 and wrong_customer.json()["code"] == "NUMBER_NOT_OF_CUSTOMER"
    created = client.post(f"{BASE}/portOutRequest", json={**body, "customerId": "cust-1"})
    assert created.status_code == 201, created.text
    request = created.json()
    assert patch(client, "portOutRequest", request["id"], state="confirmed").status_code == 200
    assert step_state(clean_db, PORT_OUT_STEP, request["id"]) == ("pending", START + timedelta(days=1))

    fixed_clock.advance(timedelta(days=1))
    runner.run_once()
    done = client.get(f"{BASE}/portOutRequest/{request['id']}").json()
    assert done["state"] == "completed" and done["recipientOperator"] == "Recipient Mobile"
    gone = client.get(f"{BASE}/telephoneNumber/{number}").json()
    assert gone["state"] == "portedOut" and "customerId" not in gone and "serviceId" not in gone
    assert history(client, number)[-1] == ("assigned", "portedOut")
    resource = client.get(f"{RI}/resource/{gone['resource']['id']}").json()
    assert resource["resourceStatus"] == "unknown" and not resource.get("relatedParty")
    # A number we ported out may come back.
    pool_id = gone["poolId"]
    assert port_in(client, pool_id, [number]).status_code == 201


def test_port_out_of_a_number_not_in_service_is_a_409_with_its_state(
    client: TestClient, clean_db: Engine, fixed_clock: clock.FixedClock
) -> None:
    london(client)
    body = {"recipientOperator": "R", "number": ["+442079460200"], "requestedPortDate": when(timedelta(days=1))}
    response = client.post(f"{BASE}/portOutRequest", json=body)
    assert response.status_code == 409
    assert response.json()["code"] == "NUMBER_NOT_PORTABLE" and "available" in response.json()["message"]


def test_a_number_that_moved_before_the_port_date_fails_the_request_and_changes_nothing(
    client: TestClient, clean_db: Engine, fixed_clock: clock.FixedClock, runner: steps.StepRunner
) -> None:
    london(client)
    numbers = ["+442079460300", "+442079460301"]
    for number in numbers:
        patch_number(client, number, state="assigned", customerId="cust-1")
    body = {"recipientOperator": "R", "number": numbers, "requestedPortDate": when(timedelta(days=2))}
    request = client.post(f"{BASE}/portOutRequest", json=body).json()
    patch(client, "portOutRequest", request["id"], state="confirmed")
    assert patch_number(client, numbers[1], state="aging").status_code == 200  # released meanwhile

    fixed_clock.advance(timedelta(days=2))
    runner.run_once()
    failed = client.get(f"{BASE}/portOutRequest/{request['id']}").json()
    assert failed["state"] == "failed" and "INVALID_NUMBER_TRANSITION" in failed["stateReason"]
    assert client.get(f"{BASE}/telephoneNumber/{numbers[0]}").json()["state"] == "assigned"  # all or nothing
    assert step_state(clean_db, PORT_OUT_STEP, request["id"])[0] == "done"


def test_cancel_and_reschedule_move_the_step_with_the_request(
    client: TestClient, clean_db: Engine, fixed_clock: clock.FixedClock, runner: steps.StepRunner
) -> None:
    pool, _ = london(client)
    first = port_in(client, pool["id"], ["+442079470010"]).json()
    second = port_in(client, pool["id"], ["+442079470020"]).json()
    patch(client, "portInRequest", first["id"], state="confirmed")
    patch(client, "portInRequest", second["id"], state="confirmed")
    assert patch(client, "portInRequest", first["id"], state="cancelled").json()["state"] == "cancelled"
    later = patch(client, "portInRequest", second["id"], portDate=when(timedelta(days=10)))
    assert later.status_code == 200 and later.json()["portDate"] == when(timedelta(days=10))

    fixed_clock.advance(timedelta(days=3))
    runner.run_once()
    assert client.get(f"{BASE}/portInRequest/{first['id']}").json()["state"] == "cancelled"
    assert client.get(f"{BASE}/portInRequest/{second['id']}").json()["state"] == "confirmed"
    assert client.get(f"{BASE}/telephoneNumber/+442079470010").status_code == 404
    fixed_clock.advance(timedelta(days=7))
    runner.run_once()
    runner.run_once()
    assert client.get(f"{BASE}/portInRequest/{second['id']}").json()["state"] == "completed"
    closed = patch(client, "portInRequest", second["id"], state="cancelled")
    assert closed.status_code == 409 and closed.json()["code"] == "INVALID_PORT_REQUEST_TRANSITION"


def test_port_requests_are_listed_filtered_projected_and_found_by_number(
    client: TestClient, clean_db: Engine, fixed_clock: clock.FixedClock
) -> None:
    pool, _ = london(client)
    a = port_in(client, pool["id"], ["+442079470030"], externalReference="D-1").json()
    port_in(client, pool["id"], ["+442079470031", "+442079470032"], donorOperator="Other Telecom")
    patch(client, "portInRequest", a["id"], state="rejected", stateReason="no")

    everything = client.get(f"{BASE}/portInRequest")
    assert everything.status_code == 200 and everything.headers["X-Total-Count"] == "2"
    rejected = client.get(f"{BASE}/portInRequest?state=rejected&fields=state")
    assert [r["id"] for r in rejected.json()] == [a["id"]]
    assert set(rejected.json()[0]) == {"id", "href", "@type", "state"}
    by_donor = client.get(f"{BASE}/portInRequest?donorOperator=Other%20Telecom").json()
    assert len(by_donor) == 1 and by_donor[0]["donorOperator"] == "Other Telecom"
    by_number = client.get(f"{BASE}/portInRequest?number=%2B442079470032").json()
    assert len(by_number) == 1 and "+442079470032" in by_number[0]["number"]
    paged = client.get(f"{BASE}/portInRequest?limit=1&offset=1&sort=createdAt")
    assert paged.headers["X-Result-Count"] == "1" and paged.headers["X-Total-Count"] == "2"
    assert client.get(f"{BASE}/portOutRequest").json() == []
    unknown = client.get(f"{BASE}/portInRequest?bogus=1")
    assert unknown.status_code == 400
    assert client.get(f"{BASE}/portOutRequest/{a['id']}").status_code == 404  # a port-in is not a port-out
