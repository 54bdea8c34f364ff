"""TMF630 filters and sort of resourcePool lists, answered in memory from the providers' PoolViews."""

from __future__ import annotations

import pytest

from common.tmf import UnknownFilterAttribute, parse_list_query
from oss.reservation import pools
from oss.reservation.provider import PoolView

POOLS = [
    PoolView("a", "London 020", "TelephoneNumber", 1000, 10, "number_pool"),
    PoolView("b", "UK 03", "TelephoneNumber", 50, 50, "number_pool", description="non-geographic"),
    PoolView("c", "Customer /24", "IPAddress", 256, 200, "ip_pool"),
]


def _ids(query: str) -> list[str]:
    return [pool.id for pool in pools.select(POOLS, parse_list_query(query, pools.POOL_QUERY))]


def test_filters_by_equality_lists_and_comparisons() -> None:
    assert _ids("resourceType=TelephoneNumber") == ["a", "b"]
    assert _ids("provider=ip_pool,number_pool&capacity.capacityAmount.gte=256") == ["a", "c"]
    assert _ids("capacity.availableCapacityAmount.lt=50") == ["a"]
    assert _ids("name.ne=UK%2003") == ["a", "c"]


def test_absent_values_never_match_and_sort_last() -> None:
    assert _ids("description=non-geographic") == ["b"]
    assert _ids("sort=description") == ["b", "a", "c"]


def test_sorts_ascending_and_descending() -> None:
    assert _ids("sort=-capacity.capacityAmount") == ["a", "c", "b"]
    assert _ids("sort=resourceType,-id") == ["c", "b", "a"]


def test_unknown_filter_is_refused() -> None:
    with pytest.raises(UnknownFilterAttribute):
        parse_list_query("colour=red", pools.POOL_QUERY)
