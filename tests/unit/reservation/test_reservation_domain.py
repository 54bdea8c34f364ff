"""The reservation state machine, expiry rules, item criteria and the provider registry, without a database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from common.tmf.polymorphism import UnknownAttribute
from oss.reservation import domain, registry
from oss.reservation.errors import InvalidCriterion, InvalidStateTransition, UnknownItemType

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize("target", ["committed", "released", "expired"])
def test_a_reserved_hold_can_end_every_way(target: str) -> None:
    domain.check_transition("reserved", target)


@pytest.mark.parametrize("final", ["committed", "released", "expired"])
@pytest.mark.parametrize("target", ["reserved", "committed", "released", "expired"])
def test_final_states_are_final_and_the_409_names_the_current_state(final: str, target: str) -> None:
    with pytest.raises(InvalidStateTransition) as raised:
        domain.check_transition(final, target)
    assert raised.value.details == {"reservationState": final}
    assert "final" in raised.value.message


def test_reserved_cannot_become_reserved_again() -> None:
    with pytest.raises(InvalidStateTransition, match="committed, expired, released"):
        domain.check_transition("reserved", "reserved")


def test_expiry_is_strictly_after_the_end() -> None:
    assert not domain.has_expired(NOW, NOW, expirable=True)
    assert domain.has_expired(NOW, NOW + timedelta(microseconds=1), expirable=True)


def test_a_hold_in_delivery_never_expires() -> None:
    assert not domain.has_expired(NOW, NOW + timedelta(days=30), expirable=False)
    assert domain.never_expires([{"id": "oi-1", "role": "inDelivery"}])
    assert not domain.never_expires([{"id": "q-1", "role": "quote"}, {"id": "oi-1"}])
    assert not domain.never_expires([])


SCHEMA = {"type": "object", "properties": {"count": {"type": "integer", "minimum": 1}, "prefix": {"type": "string"}}}


def test_criteria_values_are_checked_against_the_schema() -> None:
    domain.criteria_errors("T", SCHEMA, {"count": 3, "prefix": "+44"})
    with pytest.raises(InvalidCriterion, match="count") as raised:
        domain.criteria_errors("T", SCHEMA, {"count": 0})
    assert raised.value.details == {"criterion": "count"}
    with pytest.raises(InvalidCriterion, match="prefix"):
        domain.criteria_errors("T", SCHEMA, {"prefix": 7})


class _Provider:
    def __init__(self, name: str, item_type: str) -> None:
        self.name = name
        self._item_type = item_type

    @property
    def item_schemas(self) -> dict[str, Any]:
        return {self._item_type: SCHEMA}


def test_registered_item_types_are_closed_over_tmf_attributes_and_criteria() -> None:
    provider = _Provider("unit", "UnitReservationItem")
    with registry.temporarily(provider):  # type: ignore[arg-type]
        assert registry.provider_for("UnitReservationItem") is provider
        resolved = registry.ITEM_TYPES.resolve("UnitReservationItem")
        registry.ITEM_TYPES.check_attributes(resolved, {"@type": "x", "quantity": 1, "count": 2, "prefix": "+1"})
        with pytest.raises(UnknownAttribute, match="'colour'"):
            registry.ITEM_TYPES.check_attributes(resolved, {"quantity": 1, "colour": "red"})
    with pytest.raises(UnknownItemType):
        registry.provider_for("UnitReservationItem")


def test_two_providers_cannot_claim_one_item_type() -> None:
    with (
        registry.temporarily(_Provider("one", "SharedReservationItem")),  # type: ignore[arg-type]
        pytest.raises(ValueError, match="already provided by 'one'"),
    ):
        registry.register_provider(_Provider("two", "SharedReservationItem"))  # type: ignore[arg-type]


def test_unknown_item_type_names_what_is_provided() -> None:
    with (
        registry.temporarily(_Provider("unit", "UnitReservationItem")),  # type: ignore[arg-type]
        pytest.raises(UnknownItemType, match="UnitReservationItem"),
    ):
        registry.provider_for("Nope")
