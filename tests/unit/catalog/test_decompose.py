"""``bss.catalog.domain.decompose`` (issue 20 "Catalog"): the plan of an order item from catalog data alone."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from bss.catalog.domain import (
    ActivationStep,
    CatalogView,
    HoldStep,
    InvalidDecomposition,
    ManualTaskStep,
    MissingCharacteristic,
    decompose,
    dependencies_in_order,
    next_version,
    parse_duration,
    render,
)
from bss.catalog.errors import InvalidDecomposition as InvalidDecompositionError


def _resource(name: str, item_type: str, **criteria: Any) -> dict[str, Any]:
    rule = {"reservationItemType": item_type, "criteria": criteria, "expectedDuration": "PT1S"}
    return {"id": f"rs-{name}", "name": name, "version": "1.0", "decompositionRule": rule}


RESOURCES = {
    spec["id"]: spec
    for spec in (
        _resource("Access port", "PortReservationItem", role="pe"),
        _resource("VLAN", "VlanReservationItem"),
        _resource("Link network", "IpPrefixReservationItem", prefixLength=30),
        _resource("Telephone number", "TelephoneNumberReservationItem"),
        _resource("CPE", "CpeReservationItem"),
    )
}
BY_NAME = {spec["name"]: spec for spec in RESOURCES.values()}


def _use(name: str, **extra: Any) -> dict[str, Any]:
    return {"resourceSpecification": {"name": name}, **extra}


SERVICES = {
    "ss-cfs": {"id": "ss-cfs", "name": "Internet CFS", "version": "1.0", "decompositionRule": {"layer": "CFS"},
               "serviceSpecRelationship": [{"id": "ss-l3", "relationshipType": "requires"},
                                           {"id": "ss-cpe", "relationshipType": "requires"}]},
    "ss-l3": {"id": "ss-l3", "name": "L3 access RFS", "version": "1.0", "decompositionRule": {
        "layer": "RFS",
        "resource": [_use("Access port", criteria={"speed": "{bandwidth}"}), _use("VLAN"), _use("Link network")],
        "activation": {"serviceType": "l3-access", "targetRole": "pe", "expectedDuration": "PT30S"}}},
    "ss-cpe": {"id": "ss-cpe", "name": "Managed CPE RFS", "version": "1.0", "decompositionRule": {
        "layer": "RFS", "resource": [_use("CPE", criteria={"model": "{cpeModel}"})],
        "manualTask": {"name": "Ship and install {cpeModel}", "role": "technician", "expectedDuration": "P3D"},
        "activation": {"serviceType": "cpe-wan", "targetRole": "cpe", "expectedDuration": "PT20S"}}},
    "ss-voice": {"id": "ss-voice", "name": "Voice CFS", "version": "1.0", "decompositionRule": {
        "layer": "CFS",
        "resource": [_use("Telephone number", quantity="{numberCount}",
                          when={"characteristic": "didRange", "equals": False}),
                     _use("Telephone number", quantity="{numberCount}", criteria={"contiguous": True},
                          when={"characteristic": "didRange", "equals": True})]}},
}  # fmt: skip
INTERNET_SPEC = {
    "id": "ps-bi", "name": "Business Internet", "version": "1.0",
    "serviceSpecification": [{"id": "ss-cfs"}],
    "productSpecCharacteristic": [
        {"name": "bandwidth", "valueType": "integer", "minCardinality": 1,
         "characteristicValueSpecification": [{"value": 100}, {"value": 1000}]},
        {"name": "cpeModel", "valueType": "string",
         "characteristicValueSpecification": [{"value": "edge-100", "isDefault": True}, {"value": "edge-900"}]},
    ],
}  # fmt: skip
VOICE_SPEC = {
    "id": "ps-bv", "name": "Business Voice", "version": "1.0", "serviceSpecification": [{"id": "ss-voice"}],
    "productSpecCharacteristic": [
        {"name": "numberCount", "valueType": "integer", "characteristicValueSpecification": [
            {"value": 1, "isDefault": True}, {"valueFrom": 1, "valueTo": 100}]},
        {"name": "didRange", "valueType": "boolean",
         "characteristicValueSpecification": [{"value": False, "isDefault": True}, {"value": True}]},
    ],
}  # fmt: skip


def _view(spec: dict[str, Any] | None, offering: str = "po-1") -> CatalogView:
    return CatalogView(
        offering={"id": offering, "name": "offer", "version": "2.0"},
        product_specification=spec,
        prices=({"id": "pop-1", "name": "Monthly", "version": "1.0"},),
        service_specifications=SERVICES,
        resource_specifications={**RESOURCES, **BY_NAME},
    )


def test_business_internet_holds_port_vlan_prefix_and_cpe_then_installs_and_activates() -> None:
    plan = decompose(_view(INTERNET_SPEC), {"bandwidth": 100})
    assert [service.layer for service in plan.services] == ["CFS", "RFS", "RFS"]
    assert [hold.reservation_item_type for hold in plan.holds] == [
        "PortReservationItem", "VlanReservationItem", "IpPrefixReservationItem", "CpeReservationItem"
    ]  # fmt: skip
    port = plan.holds[0]
    assert port.criteria == {"role": "pe", "speed": 100}  # the template kept the integer
    assert port.reservation_item() == {"@type": "PortReservationItem", "quantity": 1, "role": "pe", "speed": 100}
    assert plan.holds[2].criteria == {"prefixLength": 30}
    (task,) = plan.manual_tasks
    assert task.name == "Ship and install edge-100" and task.role == "technician" and task.auto_complete
    assert task.depends_on == (plan.holds[3].key,)
    assert [(a.service_type, a.target_role) for a in plan.activations] == [("l3-access", "pe"), ("cpe-wan", "cpe")]
    assert plan.activations[1].depends_on == (plan.holds[3].key, task.key)
    assert dependencies_in_order(plan.steps)
    # The CPE branch (1 s hold + 3 days + 20 s) is the critical path.
    assert plan.expected_duration() == timedelta(days=3, seconds=21)
    assert plan.offering.version == "2.0" and plan.prices[0].id == "pop-1"
    assert not plan.instant


def test_a_mandatory_characteristic_missing_is_refused_with_its_name() -> None:
    with pytest.raises(MissingCharacteristic, match="bandwidth"):
        decompose(_view(INTERNET_SPEC), {})


def test_a_value_outside_the_declared_ones_is_refused() -> None:
    with pytest.raises(InvalidDecomposition, match="bandwidth"):
        decompose(_view(INTERNET_SPEC), {"bandwidth": 7})
    with pytest.raises(InvalidDecomposition, match="numberCount"):
        decompose(_view(VOICE_SPEC), {"numberCount": 500})


def test_voice_holds_n_numbers_and_a_contiguous_range_on_request() -> None:
    single = decompose(_view(VOICE_SPEC), {"numberCount": 5})
    (hold,) = single.holds
    assert hold.quantity == 5 and hold.criteria == {} and hold.reservation_item_type == "TelephoneNumberReservationItem"
    ranged = decompose(_view(VOICE_SPEC), {"numberCount": 20, "didRange": True})
    (hold,) = ranged.holds
    assert hold.quantity == 20 and hold.criteria == {"contiguous": True}


def test_a_product_with_no_services_is_instant() -> None:
    plan = decompose(_view({"id": "ps-key", "name": "Licence key", "version": "1.0"}), {})
    assert plan.instant and plan.steps == () and plan.expected_duration() == timedelta(0)


def test_an_unknown_service_specification_is_refused() -> None:
    spec = {"id": "ps-x", "name": "X", "version": "1.0", "serviceSpecification": [{"id": "nope", "name": "Nope"}]}
    with pytest.raises(InvalidDecompositionError, match="Nope"):
        decompose(_view(spec), {})


def test_steps_are_plain_frozen_dataclasses() -> None:
    plan = decompose(_view(INTERNET_SPEC), {"bandwidth": 1000})
    assert {type(step) for step in plan.steps} == {HoldStep, ManualTaskStep, ActivationStep}
    with pytest.raises(AttributeError):
        plan.steps[0].key = "changed"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "expected"),
    [("PT30S", timedelta(seconds=30)), ("P3D", timedelta(days=3)), ("PT1H30M", timedelta(minutes=90)),
     ("P1W", timedelta(weeks=1)), ("PT0.5S", timedelta(milliseconds=500))],
)  # fmt: skip
def test_iso_durations_parse(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["P", "PT", "30S", "P1Y", "soon", ""])
def test_a_bad_duration_is_refused(text: str) -> None:
    with pytest.raises(InvalidDecomposition):
        parse_duration(text)


def test_templates_keep_types_and_substitute_text() -> None:
    assert render({"a": "{n}", "b": "vlan-{n}", "c": ["{n}"], "d": 3}, {"n": 7}) == {
        "a": 7,
        "b": "vlan-7",
        "c": [7],
        "d": 3,
    }
    with pytest.raises(MissingCharacteristic):
        render("{missing}", {})


@pytest.mark.parametrize(("before", "after"), [("1.0", "1.1"), ("2", "3"), ("v1.9", "v1.10"), ("beta", "beta.1")])
def test_next_version_counts_the_last_number_up(before: str, after: str) -> None:
    assert next_version(before) == after
