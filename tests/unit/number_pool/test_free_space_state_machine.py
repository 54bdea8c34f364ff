"""The range arithmetic of number blocks (split, merge, run search, pattern search) against a brute-force
model: a set of the free numbers of a small block (issue 16, "Correctness under concurrency")."""

from __future__ import annotations

import itertools

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from oss.number_pool.domain import (
    FreeSpace,
    Interval,
    NumberShape,
    chunk_bounds,
    count_in,
    glob_part,
    max_chunk_size,
)

FIRST = 442079460000
SIZE = 300
SHAPE = NumberShape(length=12, cc_length=2, national_prefix="0")
PATTERNS = ("*7*", "*00", "02079460??5", "*12*", "*9", "+4420794601*", "*3?3*")


class FreeSpaceMachine(RuleBasedStateMachine):
    @initialize(chunks=st.integers(min_value=1, max_value=8), min_size=st.integers(min_value=1, max_value=50))
    def start(self, chunks: int, min_size: int) -> None:
        block = Interval(FIRST, FIRST + SIZE - 1)
        self.space = FreeSpace(chunk_bounds(block, chunks, min_size), max_chunk_size(SIZE, chunks, min_size))
        self.free = set(range(block.first, block.last + 1))
        self.taken: set[int] = set()

    @precondition(lambda self: self.free)
    @rule(data=st.data())
    def take_a_specific_number(self, data: st.DataObject) -> None:
        number = data.draw(st.sampled_from(sorted(self.free)))
        self.space.take(Interval(number, number))
        self.free.discard(number)
        self.taken.add(number)

    @rule(length=st.integers(min_value=1, max_value=40))
    def take_a_contiguous_run(self, length: int) -> None:
        expected = next(
            (start for start in sorted(self.free) if all(start + k in self.free for k in range(length))), None
        )
        run = self.space.take_run(length)
        assert (run.first if run else None) == expected
        if run is not None:
            numbers = set(range(run.first, run.last + 1))
            self.free -= numbers
            self.taken |= numbers

    @precondition(lambda self: self.taken)
    @rule(data=st.data())
    def give_a_number_back(self, data: st.DataObject) -> None:
        number = data.draw(st.sampled_from(sorted(self.taken)))
        self.space.give_back(number)
        self.taken.discard(number)
        self.free.add(number)

    @rule(pattern=st.sampled_from(PATTERNS), limit=st.integers(min_value=1, max_value=20))
    def search_by_pattern(self, pattern: str, limit: int) -> None:
        matcher = SHAPE.matcher([glob_part(pattern)])
        assert matcher is not None
        brute = [n for n in sorted(self.free) if _glob_matches(pattern, n)]
        assert self.space.search(matcher, limit) == brute[:limit]
        assert sum(count_in(matcher, chunk) for chunk in self.space.chunks) == len(brute)

    @invariant()
    def chunks_are_exactly_the_free_numbers(self) -> None:
        chunks = self.space.chunks
        assert chunks == sorted(chunks)
        assert all(a.last < b.first for a, b in itertools.pairwise(chunks)), "chunks overlap"
        assert all(chunk.size <= self.space.max_size for chunk in chunks), "a merge grew a chunk past its cap"
        covered = {n for chunk in chunks for n in range(chunk.first, chunk.last + 1)}
        assert covered == self.free


def _glob_matches(pattern: str, number: int) -> bool:
    import fnmatch

    text = f"+{number}" if pattern.startswith("+") else "0" + str(number)[2:]
    return fnmatch.fnmatchcase(text, pattern)


FreeSpaceMachine.TestCase.settings = settings(max_examples=150, stateful_step_count=40, deadline=None)
TestFreeSpace = FreeSpaceMachine.TestCase
