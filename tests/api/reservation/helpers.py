from __future__ import annotations

from typing import Any

RP = "/tmf-api/resourcePoolManagement/v1"
MERGE_PATCH = {"Content-Type": "application/merge-patch+json"}


def number_item(quantity: int = 1, pool: str | None = "fake-numbers-a", **criteria: Any) -> dict[str, Any]:
    item: dict[str, Any] = {"@type": "FakeNumberReservationItem", "quantity": quantity, **criteria}
    if pool is not None:
        item["resourceCapacity"] = {"resourcePool": {"id": pool}}
    return item


def address_item(quantity: int = 1, **criteria: Any) -> dict[str, Any]:
    return {
        "@type": "FakeAddressReservationItem",
        "quantity": quantity,
        "resourceCapacity": {"resourcePool": {"id": "fake-addresses"}},
        **criteria,
    }


def reservation(*items: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"reservationItem": list(items), "relatedParty": [{"id": "cust-1", "role": "customer"}], **extra}


def held_values(body: dict[str, Any]) -> list[str]:
    return [
        resource["value"] for item in body["reservationItem"] for resource in item["appliedCapacityAmount"]["resource"]
    ]
