"""Pure rules of IP address management: parsing (``netaddr``), the sortable keys addresses are stored as, and
the buddy allocator of free space.

Free space of a prefix is a set of disjoint *aligned CIDR blocks* (``Block``), kept in canonical form: no two
free blocks are buddies (they would have been merged), so a fully free aligned /L is always inside one free
block of length <= L. Hence "is there an aligned free /L in [lo, hi]" is answered by the first few free blocks
of length <= L that meet the window (only the two blocks straddling its edges can fail to hold one), an index
lookup, never a walk over what is allocated. ``FreeSpace`` is the same arithmetic over a dict, the model the
service's SQL mirrors and the property test checks against a brute-force set.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import netaddr

from common.errors import InvalidInput

FIRST_FIT = "firstFit"
BEST_FIT = "bestFit"
POLICIES = (FIRST_FIT, BEST_FIT)

ADDRESS_STATUSES = ("active", "reserved", "deprecated", "dhcp", "slaac")
ADDRESS_ROLES = ("loopback", "secondary", "anycast", "vip", "vrrp", "hsrp", "gateway")
PREFIX_STATUSES = ("container", "active", "reserved", "deprecated")
# Our states onto TMF639 (resourceStatus, usageState).
TMF639_STATUS = {
    "container": ("available", "active"),
    "active": ("available", "busy"),
    "reserved": ("reserved", "idle"),
    "deprecated": ("suspended", "idle"),
    "dhcp": ("available", "busy"),
    "slaac": ("available", "busy"),
}


class InvalidIp(InvalidInput):
    code = "INVALID_IP"


def bits_of(family: int) -> int:
    return 32 if family == 4 else 128


def key(value: int) -> str:
    """An address as a fixed-width string that sorts as the number does (128 bits: 32 hex digits), for both
    families, so SQLite and PostgreSQL compare bounds the same way with a plain btree index."""
    return f"{value:032x}"


def unkey(text: str) -> int:
    return int(text, 16)


@dataclass(frozen=True, order=True)
class Block:
    """An aligned CIDR block: ``start`` (an integer, aligned to its size) and prefix ``length``."""

    start: int
    length: int
    bits: int = 32

    @property
    def size(self) -> int:
        return 1 << (self.bits - self.length)

    @property
    def end(self) -> int:
        return self.start + self.size - 1

    @property
    def family(self) -> int:
        return 4 if self.bits == 32 else 6

    def contains(self, other: Block) -> bool:
        return self.start <= other.start and other.end <= self.end

    def buddy(self) -> Block:
        return Block(self.start ^ self.size, self.length, self.bits)

    def parent(self) -> Block:
        return Block(self.start & ~((self.size << 1) - 1), self.length - 1, self.bits)

    def cidr(self) -> str:
        return str(netaddr.IPNetwork((self.start, self.length), version=self.family))


def network(text: str, *, what: str = "prefix") -> netaddr.IPNetwork:
    """A prefix as written (``192.0.2.0/24``, ``2001:db8::/48``): its host bits must be zero (400 otherwise)."""
    try:
        parsed = netaddr.IPNetwork(str(text).strip())
    except (netaddr.AddrFormatError, ValueError, TypeError):
        raise InvalidIp(f"{text!r} is not an IP {what}.") from None
    if "/" not in str(text):
        raise InvalidIp(f"{text!r} has no prefix length (write it as {parsed.cidr}).")
    if parsed.ip != parsed.network:
        raise InvalidIp(f"{text!r} has host bits set: the prefix is {parsed.cidr}.")
    return parsed.cidr


def address(text: str) -> tuple[netaddr.IPAddress, int]:
    """An address with an optional mask (``192.0.2.7/24``, ``2001:db8::1``): the address and the mask length
    (/32 or /128 when none is written)."""
    try:
        if "/" in str(text):
            parsed = netaddr.IPNetwork(str(text).strip())
            return parsed.ip, parsed.prefixlen
        ip = netaddr.IPAddress(str(text).strip())
    except (netaddr.AddrFormatError, ValueError, TypeError):
        raise InvalidIp(f"{text!r} is not an IP address.") from None
    return ip, 32 if ip.version == 4 else 128


def block_of(net: netaddr.IPNetwork) -> Block:
    return Block(int(net.network), net.prefixlen, bits_of(net.version))


def format_address(value: int, family: int) -> str:
    return str(netaddr.IPAddress(value, version=family))


def decompose(first: int, last: int, bits: int) -> list[Block]:
    """The canonical aligned blocks of the inclusive range ``first..last`` (netaddr's CIDR merge)."""
    if first > last:
        return []
    family = 4 if bits == 32 else 6
    return [
        block_of(net)
        for net in netaddr.iprange_to_cidrs(
            netaddr.IPAddress(first, version=family), netaddr.IPAddress(last, version=family)
        )
    ]


def subtract(whole: Block, taken: Iterable[Block]) -> list[Block]:
    """``whole`` minus ``taken`` as canonical aligned blocks (netaddr's IPSet)."""
    family = whole.family
    free = netaddr.IPSet([netaddr.IPNetwork((whole.start, whole.length), version=family)])
    holes = netaddr.IPSet([netaddr.IPNetwork((b.start, b.length), version=family) for b in taken])
    return [block_of(net) for net in (free - holes).iter_cidrs()]


def carve(block: Block, taken: Block) -> list[Block]:
    """What stays free of ``block`` once its aligned sub-block ``taken`` is allocated: on the way down from
    ``block`` to ``taken``, the half that does not hold ``taken`` (each maximal: its buddy holds ``taken``)."""
    if not block.contains(taken):
        raise ValueError(f"{taken} is not inside {block}")
    pieces, current = [], block
    while current.length < taken.length:
        low = Block(current.start, current.length + 1, current.bits)
        high = Block(low.start + low.size, low.length, current.bits)
        current, other = (low, high) if low.contains(taken) else (high, low)
        pieces.append(other)
    return pieces


def fit(block: Block, length: int, lo: int, hi: int) -> Block | None:
    """The lowest aligned /``length`` inside both ``block`` and the inclusive window ``lo..hi``, if any."""
    if length < block.length:
        return None
    size = 1 << (block.bits - length)
    start = max(block.start, lo)
    start = (start + size - 1) // size * size
    if start + size - 1 > min(block.end, hi):
        return None
    return Block(start, length, block.bits)


def address_window(prefix: Block, head: int = 0, tail: int = 0) -> tuple[int, int]:
    """The addresses of ``prefix`` an address allocation may hand out: IPv4 skips the network and broadcast
    addresses unless /31 or /32 (RFC 3021), and a pool's reserved head and tail (a gateway) are skipped too."""
    lo, hi = prefix.start, prefix.end
    if prefix.bits == 32 and prefix.length < 31:
        lo, hi = lo + 1, hi - 1
    return lo + head, hi - tail


def choose(candidates: Iterable[Block], length: int, lo: int, hi: int) -> tuple[Block, Block] | None:
    """The first candidate free block that holds an aligned /``length`` in the window, and that sub-block."""
    for block in candidates:
        found = fit(block, length, lo, hi)
        if found is not None:
            return block, found
    return None


class FreeSpace:
    """The buddy allocator over an in-memory set of free blocks (the service does the same in SQL)."""

    def __init__(self, blocks: Iterable[Block] = ()) -> None:
        self.blocks: set[Block] = set(blocks)

    def candidates(self, length: int, lo: int, hi: int, policy: str = FIRST_FIT) -> Iterator[Block]:
        meeting = [b for b in self.blocks if b.length <= length and b.end >= lo and b.start <= hi]
        if policy == BEST_FIT:
            meeting.sort(key=lambda b: (-b.length, b.start))
        else:
            meeting.sort(key=lambda b: b.start)
        return iter(meeting[:3])  # as the SQL: LIMIT 3 is enough (module docstring)

    def allocate(self, length: int, lo: int, hi: int, policy: str = FIRST_FIT) -> Block | None:
        chosen = choose(self.candidates(length, lo, hi, policy), length, lo, hi)
        if chosen is None:
            return None
        block, taken = chosen
        self.blocks.remove(block)
        self.blocks.update(carve(block, taken))
        return taken

    def take(self, taken: Block) -> bool:
        """Allocate a specific aligned block (False if any of it is not free)."""
        holder = next((b for b in self.blocks if b.contains(taken)), None)
        if holder is None:
            return False
        self.blocks.remove(holder)
        self.blocks.update(carve(holder, taken))
        return True

    def release(self, block: Block, within: Block) -> None:
        """Give ``block`` back, merging it with its free buddy as long as the parent stays ``within``."""
        current = block
        while current.length > within.length:
            buddy = current.buddy()
            if buddy not in self.blocks:
                break
            self.blocks.remove(buddy)
            current = current.parent()
        self.blocks.add(current)
