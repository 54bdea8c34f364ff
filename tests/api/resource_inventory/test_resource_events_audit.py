"""Each change publishes its TMF639 event in the same transaction, and is recorded in the audit trail."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from common.audit import AuditRecord
from tests.api.resource_inventory.helpers_tmf639 import BASE, OfficialSpecClient, counts, new_resource, outbox
from tests.support.auth import token_headers


def audit_trail(engine: Engine, entity_id: str) -> list[AuditRecord]:
    statement = (
        select(AuditRecord)
        .where(AuditRecord.entity_type == "resource", AuditRecord.entity_id == entity_id)
        .order_by(AuditRecord.id)
    )
    with Session(engine) as session:
        return list(session.scalars(statement))


def test_create_publishes_create_event_with_the_resource(tmf: OfficialSpecClient, clean_db: Engine) -> None:
    created = tmf.post(
        f"{BASE}/resource", json={"name": "r", "resourceStatus": "available"}, headers={"X-Request-ID": "req-1"}
    ).json()
    (event,) = outbox(clean_db)
    assert event["eventType"] == "ResourceCreateEvent"
    assert event["event"]["resource"] == created
    assert event["correlationId"] == "req-1"


def test_patch_of_a_state_publishes_state_change_only(tmf: OfficialSpecClient, clean_db: Engine) -> None:
    created = new_resource(tmf, resourceStatus="available")
    patched = tmf.patch(f"{BASE}/resource/{created['id']}", {"resourceStatus": "reserved"}).json()
    events = outbox(clean_db)
    assert [event["eventType"] for event in events] == ["ResourceCreateEvent", "ResourceStateChangeEvent"]
    assert events[1]["event"]["resource"] == patched


def test_patch_of_an_attribute_publishes_attribute_change_with_field_path(
    tmf: OfficialSpecClient, clean_db: Engine
) -> None:
    created = new_resource(tmf)
    tmf.patch(
        f"{BASE}/resource/{created['id']}", {"description": "d", "resourceCharacteristic": [{"name": "a", "value": 1}]}
    )
    events = outbox(clean_db)
    assert [event["eventType"] for event in events] == ["ResourceCreateEvent", "ResourceAttributeValueChangeEvent"]
    assert events[1]["fieldPath"] == "description,resourceCharacteristic"


def test_patch_of_both_publishes_both_events(tmf: OfficialSpecClient, clean_db: Engine) -> None:
    created = new_resource(tmf)
    tmf.patch(f"{BASE}/resource/{created['id']}", {"usageState": "busy", "category": "c"})
    assert [event["eventType"] for event in outbox(clean_db)][1:] == [
        "ResourceStateChangeEvent",
        "ResourceAttributeValueChangeEvent",
    ]


def test_patch_that_changes_nothing_publishes_nothing(tmf: OfficialSpecClient, clean_db: Engine) -> None:
    created = new_resource(tmf, category="c", usageState="idle")
    before = counts(clean_db)
    response = tmf.patch(f"{BASE}/resource/{created['id']}", {"category": "c", "usageState": "idle", "href": "ignored"})
    assert response.json() == created
    assert counts(clean_db) == before


def test_delete_publishes_delete_event_with_the_last_state(tmf: OfficialSpecClient, clean_db: Engine) -> None:
    created = new_resource(tmf)
    tmf.delete(f"{BASE}/resource/{created['id']}")
    events = outbox(clean_db)
    assert events[-1]["eventType"] == "ResourceDeleteEvent"
    assert events[-1]["event"]["resource"] == created


def test_every_change_is_audited_with_actor_and_request(
    tmf: OfficialSpecClient, clean_db: Engine, make_token: Any
) -> None:
    def as_user(user: str) -> dict[str, str]:  # the authenticated subject is the actor
        return token_headers(make_token(user=user)[1])

    headers = {**as_user("noc-alice"), "X-Request-ID": "req-audit"}
    created = tmf.post(f"{BASE}/resource", json={"name": "r", "usageState": "idle"}, headers=headers).json()
    tmf.patch(f"{BASE}/resource/{created['id']}", {"usageState": "busy"}, headers=as_user("noc-bob"))
    tmf.delete(f"{BASE}/resource/{created['id']}", headers=as_user("noc-carol"))
    trail = audit_trail(clean_db, created["id"])
    assert [(record.action, record.actor) for record in trail] == [
        ("create", "noc-alice"),
        ("update", "noc-bob"),
        ("delete", "noc-carol"),
    ]
    assert trail[0].request_id == "req-audit"
    update: Any = trail[1]
    assert update.before["usage_state"] == "idle" and update.after["usage_state"] == "busy"


def test_hub_is_served_under_the_tmf639_base_path(tmf: OfficialSpecClient, clean_db: Engine) -> None:
    response = tmf.post(
        f"{BASE}/hub", json={"callback": "http://127.0.0.1:9/listener", "query": "eventType=ResourceCreateEvent"}
    )
    assert response.status_code == 201
    subscription = response.json()
    assert tmf.delete(f"{BASE}/hub/{subscription['id']}").status_code == 204
