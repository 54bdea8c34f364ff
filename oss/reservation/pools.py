"""TMF630 filtering and sorting of ``resourcePool`` lists, in memory: pools come from the providers (a few
dozen at most), not from a table of ours. ``POOL_QUERY`` declares the attributes as any list does, so the
served document and the query rules are the same as everywhere; the columns are names only."""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import column as sql_column

from common import tmf
from common.tmf import INTEGER, ColumnAttribute, Filter, ListQuery, column
from oss.reservation.provider import PoolView

SPEC = Path(__file__).resolve().parents[2] / "openapi" / "reservation.yaml"

# TMF attribute -> how to read it from a PoolView
_VALUES: dict[str, Callable[[PoolView], Any]] = {
    "id": lambda pool: pool.id,
    "name": lambda pool: pool.name,
    "resourceType": lambda pool: pool.resource_type,
    "provider": lambda pool: pool.provider,
    "description": lambda pool: pool.description,
    "capacity.capacityAmount": lambda pool: pool.capacity,
    "capacity.availableCapacityAmount": lambda pool: pool.available,
}
_INTEGERS = ("capacity.capacityAmount", "capacity.availableCapacityAmount")

POOL_QUERY = tmf.QuerySpec(
    attributes=tuple(
        column(name, sql_column(name.replace(".", "_")), INTEGER if name in _INTEGERS else tmf.STRING)
        for name in _VALUES
    ),
    tiebreaker=sql_column("id"),
    members=tmf.schema_members(SPEC, "ResourcePool"),
)

_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "eq": operator.eq,
    "ne": operator.ne,
    "gt": operator.gt,
    "gte": operator.ge,
    "lt": operator.lt,
    "lte": operator.le,
}


def _matches(pool: PoolView, term: Filter) -> bool:
    value = _VALUES[term.attribute.name](pool)
    if value is None:
        return False
    compare = _COMPARE[term.operator]
    try:
        if term.operator == "ne":
            return all(compare(value, wanted) for wanted in term.values)
        return any(compare(value, wanted) for wanted in term.values)
    except TypeError:  # a value of another kind never matches
        return False


def select(pools: Sequence[PoolView], query: ListQuery) -> list[PoolView]:
    """The pools matching every filter of ``query``, in its sort order (default: provider, id)."""
    matching = [pool for pool in pools if all(_matches(pool, term) for term in query.filters)]
    for key in reversed(query.sort):
        attribute = key.attribute
        assert isinstance(attribute, ColumnAttribute)
        read = _VALUES[attribute.name]
        present = [pool for pool in matching if read(pool) is not None]
        absent = [pool for pool in matching if read(pool) is None]
        matching = sorted(present, key=read, reverse=key.descending) + absent  # NULLs last, as in SQL lists
    return matching
