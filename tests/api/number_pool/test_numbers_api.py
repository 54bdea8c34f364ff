"""The number inventory API (issue 16 "Numbers"): pools, blocks as ranges, the lifecycle with history, TMF639
rows in the same transaction, search from the ranges."""

from __future__ import annotations

from sqlalchemy import Engine, func, select
from starlette.testclient import TestClient

from oss.number_pool.models import NumberChunkRow, TelephoneNumberRow
from oss.resource_inventory.models import ResourceRow
from tests.api.number_pool.helpers_numbers import BASE, MERGE, RI, london, new_block, new_pool, patch_number


def count(engine: Engine, model: type) -> int:
    with engine.connect() as connection:
        return int(connection.scalar(select(func.count()).select_from(model)) or 0)


def test_a_block_is_a_few_rows_until_numbers_are_touched(client: TestClient, clean_db: Engine) -> None:
    pool = new_pool(client)
    block = new_block(client, pool["id"], "+442079460000", "+442079469999")
    assert block["size"] == 10_000 and block["available"] == 10_000
    assert count(clean_db, NumberChunkRow) <= 64 and count(clean_db, TelephoneNumberRow) == 0
    retrieved = client.get(f"{BASE}/numberPool/{pool['id']}").json()
    assert retrieved["capacity"] == 10_000 and retrieved["available"] == 10_000


def test_an_invalid_e164_is_a_400_naming_it(client: TestClient, clean_db: Engine) -> None:
    pool = new_pool(client)
    response = client.post(
        f"{BASE}/numberBlock", json={"poolId": pool["id"], "first": "+4420794", "last": "+442079460999"}
    )
    assert response.status_code == 400
    assert response.json()["code"] == "INVALID_E164" and "+4420794" in response.json()["message"]


def test_overlapping_blocks_are_a_409_naming_the_clash_in_any_pool(client: TestClient, clean_db: Engine) -> None:
    _first_pool, block = london(client)
    other = new_pool(client, name="Other")
    response = client.post(
        f"{BASE}/numberBlock", json={"poolId": other["id"], "first": "+442079460500", "last": "+442079461500"}
    )
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "NUMBER_BLOCK_OVERLAP" and block["id"] in body["message"]


def test_lifecycle_reserve_assign_age_with_history_and_tmf639(client: TestClient, clean_db: Engine) -> None:
    london(client)
    number = "+442079460123"
    reserved = patch_number(client, number, state="reserved", reason="quote 7")
    assert reserved.status_code == 200, reserved.text
    assert reserved.json()["state"] == "reserved"
    resource_id = reserved.json()["resource"]["id"]
    resource = client.get(f"{RI}/resource/{resource_id}").json()
    assert resource["@type"] == "TelephoneNumber" and resource["@baseType"] == "LogicalResource"
    assert resource["value"] == number and resource["resourceStatus"] == "reserved"
    assigned = patch_number(client, number, state="assigned", customerId="cust-1", serviceId="svc-9")
    assert assigned.json()["state"] == "assigned" and assigned.json()["customerId"] == "cust-1"
    assert client.get(f"{RI}/resource/{resource_id}").json()["usageState"] == "busy"
    aging = patch_number(client, number, state="aging")
    assert aging.json()["state"] == "aging" and "agingUntil" in aging.json()
    history = client.get(f"{BASE}/telephoneNumber/{number}/history").json()
    assert [(h["fromState"], h["toState"]) for h in history] == [
        ("available", "reserved"),
        ("reserved", "assigned"),
        ("assigned", "aging"),
    ]
    assert history[0]["reason"] == "quote 7" and history[0]["actor"]


def test_a_forbidden_transition_is_a_409_with_the_current_state(client: TestClient, clean_db: Engine) -> None:
    london(client)
    patch_number(client, "+442079460124", state="blocked")
    response = patch_number(client, "+442079460124", state="assigned")
    assert response.status_code == 409
    assert response.json()["code"] == "INVALID_NUMBER_TRANSITION" and "blocked" in response.json()["message"]


def test_tmf639_writes_to_a_number_answer_owned_by_number_pool(client: TestClient, clean_db: Engine) -> None:
    london(client)
    resource_id = patch_number(client, "+442079460125", state="reserved").json()["resource"]["id"]
    response = client.patch(f"{RI}/resource/{resource_id}", json={"description": "x"}, headers=MERGE)
    assert response.status_code == 409 and response.json()["code"] == "OWNED_BY_NUMBER_POOL"


def test_an_untouched_number_is_available_and_has_no_tmf639_row(client: TestClient, clean_db: Engine) -> None:
    london(client)
    number = client.get(f"{BASE}/telephoneNumber/+442079460777").json()
    assert number["state"] == "available" and "resource" not in number
    assert count(clean_db, ResourceRow) == 0


def test_search_by_pattern_answers_from_the_ranges(client: TestClient, clean_db: Engine) -> None:
    pool, _ = london(client)
    patch_number(client, "+442079460777", state="blocked")
    response = client.get(f"{BASE}/availableNumber", params={"poolId": pool["id"], "pattern": "*77*", "limit": 5})
    assert response.status_code == 200, response.text
    values = [n["value"] for n in response.json()]
    assert values == ["+442079460077", "+442079460177", "+442079460277", "+442079460377", "+442079460477"]
    assert int(response.headers["X-Total-Count"]) == 19 - 1  # 077..977 and 770..779, less the blocked 777
    national = client.get(f"{BASE}/availableNumber", params={"poolId": pool["id"], "pattern": "0207946099?"}).json()
    assert [n["value"] for n in national][:2] == ["+442079460990", "+442079460991"]


def test_search_by_category_and_offset(client: TestClient, clean_db: Engine) -> None:
    pool, _ = london(client)
    golden = client.get(f"{BASE}/availableNumber", params={"poolId": pool["id"], "category": "golden"}).json()
    assert [n["value"] for n in golden] == ["+442079460000"]  # four trailing zeros
    page = client.get(
        f"{BASE}/availableNumber", params={"poolId": pool["id"], "category": "silver", "offset": 2, "limit": 2}
    )
    silver = client.get(f"{BASE}/availableNumber", params={"poolId": pool["id"], "category": "silver", "limit": 4})
    assert [n["value"] for n in page.json()] == [n["value"] for n in silver.json()][2:4]


def test_reserving_a_golden_number_needs_the_flag(client: TestClient, clean_db: Engine) -> None:
    london(client)
    refused = patch_number(client, "+442079460000", state="reserved")
    assert refused.status_code == 409 and refused.json()["code"] == "GOLDEN_NUMBER_NEEDS_FLAG"
    allowed = patch_number(client, "+442079460000", state="reserved", allowGolden=True)
    assert allowed.status_code == 200 and allowed.json()["category"] == "golden"


def test_a_state_change_task_is_all_or_nothing(client: TestClient, clean_db: Engine) -> None:
    london(client)
    patch_number(client, "+442079460002", state="blocked")
    response = client.post(
        f"{BASE}/numberStateChange", json={"number": ["+442079460001", "+442079460002"], "state": "reserved"}
    )
    assert response.status_code == 409
    assert client.get(f"{BASE}/telephoneNumber/+442079460001").json()["state"] == "available"
    done = client.post(
        f"{BASE}/numberStateChange", json={"number": ["+442079460001", "+442079460003"], "state": "blocked"}
    )
    assert done.status_code == 201 and [n["state"] for n in done.json()["number"]] == ["blocked", "blocked"]


def test_list_numbers_filters_by_state_and_pattern(client: TestClient, clean_db: Engine) -> None:
    london(client)
    for number in ("+442079460011", "+442079460012", "+442079460021"):
        patch_number(client, number, state="blocked")
    listed = client.get(f"{BASE}/telephoneNumber?state=blocked&pattern=*1?")
    assert listed.status_code == 200, listed.text
    assert [n["value"] for n in listed.json()] == ["+442079460011", "+442079460012"]
