"""A page of a list (TMF630 Part 1 §"Pagination"): what ``offset``/``limit`` selected and how many matched."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: Sequence[T]
    total: int  # X-Total-Count: every item matching the filter
    offset: int
    limit: int

    @property
    def count(self) -> int:  # X-Result-Count: the items in this page
        return len(self.items)
