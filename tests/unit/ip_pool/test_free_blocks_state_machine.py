"""The buddy allocator of IP free space (``oss.ip_pool.domain``) against a brute-force model: the set of free
addresses of a small IPv4 and IPv6 prefix (issue 17, "Correctness under concurrency"). After every step the
free blocks are exactly the canonical CIDR decomposition of the free set (netaddr's), first fit finds the
lowest aligned free block of a length in a window, best fit one that exists, and both fail exactly when
no aligned free block of that length is in the window."""

from __future__ import annotations

import netaddr
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from oss.ip_pool.domain import BEST_FIT, FIRST_FIT, Block, FreeSpace, address_window, decompose

PREFIXES = {
    4: Block(int(netaddr.IPAddress("192.0.2.0")), 24, 32),
    6: Block(int(netaddr.IPAddress("2001:db8:ffff:ffff:ffff:ffff:ffff:ff00")), 120, 128),
}


def canonical(free: set[int], family: int) -> set[Block]:
    bits = 32 if family == 4 else 128
    addresses = netaddr.IPSet(netaddr.IPAddress(value, version=family) for value in free)
    return {Block(int(net.network), net.prefixlen, bits) for net in addresses.iter_cidrs()}


class FreeBlocksMachine(RuleBasedStateMachine):
    @initialize(family=st.sampled_from((4, 6)), head=st.integers(min_value=0, max_value=9), tail=st.integers(0, 9))
    def start(self, family: int, head: int, tail: int) -> None:
        self.family = family
        self.prefix = PREFIXES[family]
        first, last = self.prefix.start + head, self.prefix.end - tail
        self.space = FreeSpace(decompose(first, last, self.prefix.bits))
        self.free = set(range(first, last + 1))
        self.allocated: list[Block] = []

    def _aligned_free(self, length: int, lo: int, hi: int) -> list[int]:
        size = 1 << (self.prefix.bits - length)
        starts = range(self.prefix.start, self.prefix.end + 1, size)
        return [s for s in starts if s >= lo and s + size - 1 <= hi and all(s + k in self.free for k in range(size))]

    def _window(self, kind: str) -> tuple[int, int]:
        if kind == "whole":
            return self.prefix.start, self.prefix.end
        if kind == "addresses":
            return address_window(self.prefix)
        return address_window(self.prefix, 3, 5)

    @rule(
        offset=st.integers(min_value=0, max_value=8),
        policy=st.sampled_from((FIRST_FIT, BEST_FIT)),
        window=st.sampled_from(("whole", "addresses", "pool")),
    )
    def allocate(self, offset: int, policy: str, window: str) -> None:
        length = self.prefix.length + offset
        lo, hi = self._window(window)
        expected = self._aligned_free(length, lo, hi)
        got = self.space.allocate(length, lo, hi, policy)
        if not expected:
            assert got is None
            return
        assert got is not None, f"/{length} free at {expected[:3]} but none found"
        assert got.length == length
        assert got.start in expected
        if policy == FIRST_FIT:
            assert got.start == expected[0]
        self.free -= set(range(got.start, got.end + 1))
        self.allocated.append(got)

    @rule(offset=st.integers(min_value=0, max_value=8), data=st.data())
    def take_a_specific_block(self, offset: int, data: st.DataObject) -> None:
        length = self.prefix.length + offset
        size = 1 << (self.prefix.bits - length)
        start = self.prefix.start + data.draw(st.integers(0, self.prefix.size // size - 1)) * size
        block = Block(start, length, self.prefix.bits)
        wanted = set(range(block.start, block.end + 1))
        assert self.space.take(block) == (wanted <= self.free)
        if wanted <= self.free:
            self.free -= wanted
            self.allocated.append(block)

    @precondition(lambda self: self.allocated)
    @rule(data=st.data())
    def release(self, data: st.DataObject) -> None:
        block = self.allocated.pop(data.draw(st.integers(0, len(self.allocated) - 1)))
        self.space.release(block, self.prefix)
        self.free |= set(range(block.start, block.end + 1))

    @invariant()
    def blocks_are_the_canonical_decomposition_of_the_free_set(self) -> None:
        assert self.space.blocks == canonical(self.free, self.family)


FreeBlocksMachine.TestCase.settings = settings(max_examples=60, stateful_step_count=40, deadline=None, derandomize=True)
test_free_blocks_match_a_brute_force_model = FreeBlocksMachine.TestCase
