"""The import's line rules (``oss.number_pool.importer.parse_line``), without a database."""

from __future__ import annotations

from typing import Any

import pytest

from common.errors import ProvisioError
from oss.number_pool.importer import ImportLine, parse_line


def line(**values: Any) -> ImportLine:
    return parse_line(7, {"type": "assigned", "pool": "London", "first": "+442079460001", "customerId": "c", **values})


def test_a_range_line_names_every_number_from_first_to_last() -> None:
    parsed = line(last="+442079460010", serviceId="pbx")
    assert list(parsed.digits()) == list(range(442079460001, 442079460011))
    assert parsed.final_state == "assigned" and parsed.service_id == "pbx"


def test_a_ported_in_number_is_in_service_only_with_a_customer() -> None:
    assert line(type="portedIn", operator="Donor").final_state == "assigned"
    assert line(type="portedIn", operator="Donor", customerId="").final_state == "portedIn"
    reason = line(type="portedOut", operator="R", date="2026-10-15").reason("f.csv")
    assert reason == "import f.csv line 7: ported out to R on 2026-10-15"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"type": "rented"}, "type must be one of"),
        ({"pool": ""}, "pool must name"),
        ({"first": "442079460001"}, "not an E.164 number"),
        ({"first": "+0442079460001"}, "not an E.164 number"),
        ({"last": "+442079460000"}, "not a range"),
        ({"last": "+4420794600001"}, "not a range"),
        ({"last": "+442079480001"}, "at most 10000 numbers"),
        ({"customerId": ""}, "needs its customerId"),
        ({"type": "portedOut"}, "needs the other operator"),
        ({"type": "block"}, "needs first and last"),
        ({"type": "block", "last": "+12025550100"}, "same country code"),
        ({"date": "next week"}, "not an ISO 8601"),
        ({"serviceId": "s" * 129}, "longer than 128"),
    ],
)
def test_a_bad_line_says_why(values: dict[str, Any], message: str) -> None:
    with pytest.raises(ProvisioError, match=message):
        line(**values)


def test_a_line_with_more_values_than_the_header_is_refused() -> None:
    # csv.DictReader keeps the values beyond the header's columns under the key None.
    with pytest.raises(ProvisioError, match="more values than the header"):
        parse_line(7, {"type": "assigned", "pool": "London", "first": "+442079460001", None: ["extra"]})
