"""orjson where the server writes JSON (response bodies, JSON columns): the same values as the standard
library and connexion's encoder, and nothing refused that they accept."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import uuid
from typing import Any

import pytest
from connexion.jsonifier import Jsonifier

from server.db import json_text
from server.responses import JSONIFIER

SAMPLES: list[Any] = [
    {"name": "é😀", "n": 1, "f": 0.1, "none": None, "list": [True, False, {"a": []}]},
    [{"huge": 10**30}, {"negative huge": -(10**40)}],  # beyond 64 bits: the standard library takes it
    {"at": dt.datetime(2026, 12, 3, 10, 0, tzinfo=dt.UTC), "naive": dt.datetime(2026, 12, 3, 10, 0)},
    {"day": dt.date(2026, 12, 3), "amount": decimal.Decimal("1.5"), "id": uuid.UUID(int=7)},
]


@pytest.mark.parametrize("value", SAMPLES)
def test_response_bodies_carry_the_values_connexion_would_write(value: Any) -> None:
    written = JSONIFIER.dumps(value)
    assert json.loads(written) == json.loads(Jsonifier().dumps(value))
    assert written.endswith("\n")


@pytest.mark.parametrize("value", SAMPLES[:2])
def test_json_columns_carry_the_values_the_standard_library_would_write(value: Any) -> None:
    assert json.loads(json_text(value)) == json.loads(json.dumps(value)) == value
