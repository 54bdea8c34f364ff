"""``fields=`` attribute selection (TMF630)."""

from __future__ import annotations

from common.tmf import parse_fields, project

DOC = {
    "id": "1",
    "href": "http://h/resource/1",
    "@type": "LogicalResource",
    "name": "n",
    "category": "c",
    "resourceCharacteristic": [{"name": "vlan", "value": 100}, {"name": "mtu", "value": 1500}],
    "place": {"id": "p", "role": "site"},
}


def test_projection_without_fields_returns_everything() -> None:
    assert project(DOC, parse_fields(None)) is DOC


def test_projection_keeps_selected_members_and_identity() -> None:
    assert project(DOC, parse_fields("name")) == {
        "id": "1",
        "href": "http://h/resource/1",
        "@type": "LogicalResource",
        "name": "n",
    }


def test_projection_none_keeps_only_identity() -> None:
    assert set(project(DOC, parse_fields("none"))) == {"id", "href", "@type"}


def test_projection_ignores_unknown_and_blank_names() -> None:
    assert set(project(DOC, parse_fields("category, ,nonexistent"))) == {"id", "href", "@type", "category"}


def test_projection_dotted_field_selects_inside_arrays_and_objects() -> None:
    result = project(DOC, parse_fields("resourceCharacteristic.name,place.id"))
    assert result["resourceCharacteristic"] == [{"name": "vlan"}, {"name": "mtu"}]
    assert result["place"] == {"id": "p"}


def test_projection_whole_member_wins_over_a_dotted_one() -> None:
    result = project(DOC, parse_fields("place,place.id"))
    assert result["place"] == DOC["place"]
