"""The CPE lifecycle graph, its TMF639 mapping and the serial / MAC rules (oss/cpe/domain.py)."""

from __future__ import annotations

import itertools

import pytest

from oss.cpe import domain
from oss.cpe.errors import InvalidMac, InvalidSerial, InvalidTransition


def test_every_state_has_a_tmf639_status_of_the_v4_enumerations() -> None:
    assert set(domain.TMF639_STATUS) == set(domain.STATES) == set(domain.TRANSITIONS)
    for status, usage in domain.TMF639_STATUS.values():
        assert status in {"standby", "alarm", "available", "reserved", "unknown", "suspended"}
        assert usage in {"idle", "active", "busy"}


def test_the_lifecycle_of_the_issue_is_a_path_of_the_graph() -> None:
    path = ["inStock", "reserved", "allocated", "shipped", "installed", "active", "returned", "refurbished", "inStock"]
    for current, target in itertools.pairwise(path):
        domain.check_transition("SN1", current, target)
    for final in ("rma", "scrapped"):
        domain.check_transition("SN1", "returned", final)
    assert domain.TRANSITIONS["scrapped"] == frozenset()


@pytest.mark.parametrize(
    ("current", "target"),
    [
        ("inStock", "installed"),
        ("inStock", "allocated"),
        ("reserved", "shipped"),
        ("active", "inStock"),
        ("scrapped", "inStock"),
    ],
)
def test_a_transition_outside_the_graph_names_the_current_state(current: str, target: str) -> None:
    with pytest.raises(InvalidTransition) as refused:
        domain.check_transition("SN1", current, target)
    assert refused.value.details["currentState"] == current
    assert current in refused.value.message and target in refused.value.message


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("00:1A:2B:3C:4D:5E", "00:1a:2b:3c:4d:5e"),
        ("00-1a-2b-3c-4d-5e", "00:1a:2b:3c:4d:5e"),
        ("001a.2b3c.4d5e", "00:1a:2b:3c:4d:5e"),
        ("001A2B3C4D5E", "00:1a:2b:3c:4d:5e"),
        (" 02:00:00:00:00:01 ", "02:00:00:00:00:01"),
    ],
)
def test_a_mac_is_stored_in_one_form(raw: str, stored: str) -> None:
    assert domain.normalise_mac(raw) == stored


@pytest.mark.parametrize(
    "raw", ["", "zz:00:00:00:00:01", "00:1a:2b:3c:4d", "01:00:5e:00:00:01", "ff:ff:ff:ff:ff:ff", 42]
)
def test_a_bad_or_multicast_mac_is_refused(raw: object) -> None:
    with pytest.raises(InvalidMac):
        domain.normalise_mac(raw)


def test_serials_are_upper_case_and_of_a_restricted_alphabet() -> None:
    assert domain.normalise_serial(" sn-001/a ") == "SN-001/A"
    for bad in ("", "ab", "-SN1", "SN 1", "S" * 65, None):
        with pytest.raises(InvalidSerial):
            domain.normalise_serial(bad)
