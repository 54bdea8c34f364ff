"""Number pool rules (ITU-T E.164): numbers as integers, free space as intervals, the lifecycle, categories
and the digit patterns searches use.

Pure: no database, no HTTP (``phonenumbers`` is a library of rules, not I/O).

- An E.164 number (``+442079460123``) is kept as the integer of its digits (442079460123): E.164 digits
  never start with 0 and are at most 15 long, so the integer is lossless and fits in 64 bits. A block is
  the inclusive interval ``[first, last]`` of numbers with the same length and country code.
- Free space is a sorted list of disjoint intervals (chunks). ``split``, ``merge_into`` and
  ``find_run`` are the whole arithmetic; ``FreeSpace`` runs them on a list, which is what the hypothesis
  state machine checks against a brute-force set, and what the repository does on chunk rows.
- Patterns (``*777*``, ``*0000``, ``0207946????``) and category rules (repeated digits, trailing zeros,
  ascending runs, a regex) compile to finite automata over the ten digits, so "the next matching number
  at or after n" and "how many match in [a, b]" are answered by walking digits (at most 15 positions x 10
  digits), never by visiting the numbers of a 10-million block one by one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from re import _constants as sre_constants  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any

import phonenumbers

from oss.number_pool.errors import (
    InvalidCategoryRule,
    InvalidE164,
    InvalidNumberBlock,
    InvalidPattern,
    InvalidTransition,
)

# --------------------------------------------------------------------------------------------- E.164

MAX_DIGITS = 15  # ITU-T E.164 §6.2.1

# camelCase names of phonenumbers' PhoneNumberType, as our API spells them.
NUMBER_TYPES: dict[int, str] = {
    phonenumbers.PhoneNumberType.FIXED_LINE: "fixedLine",
    phonenumbers.PhoneNumberType.MOBILE: "mobile",
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE: "fixedLineOrMobile",
    phonenumbers.PhoneNumberType.TOLL_FREE: "tollFree",
    phonenumbers.PhoneNumberType.PREMIUM_RATE: "premiumRate",
    phonenumbers.PhoneNumberType.SHARED_COST: "sharedCost",
    phonenumbers.PhoneNumberType.VOIP: "voip",
    phonenumbers.PhoneNumberType.PERSONAL_NUMBER: "personalNumber",
    phonenumbers.PhoneNumberType.PAGER: "pager",
    phonenumbers.PhoneNumberType.UAN: "uan",
    phonenumbers.PhoneNumberType.VOICEMAIL: "voicemail",
}


@dataclass(frozen=True)
class E164:
    """A valid E.164 number: its digits as an integer and what phonenumbers says about it."""

    digits: int
    country_code: int
    region: str  # ISO 3166-1 alpha-2, e.g. "GB"
    number_type: str  # camelCase, e.g. "fixedLine"
    national_prefix: str  # the trunk prefix of the national form ("0" in GB, "" in the US)

    @property
    def text(self) -> str:
        return format_e164(self.digits)

    @property
    def length(self) -> int:
        return len(str(self.digits))


def format_e164(digits: int) -> str:
    return f"+{digits}"


def parse_digits(text: str, *, what: str = "number") -> int:
    """The digits of an E.164 number written ``+`` and up to 15 digits (spaces, dots, dashes and brackets
    tolerated), without asking a numbering plan: enough to find a number in our blocks (400 otherwise)."""
    raw = str(text).strip()
    compact = re.sub(r"[\s().-]", "", raw)
    if not re.fullmatch(r"\+[1-9][0-9]{1,14}", compact):
        raise InvalidE164(f"{what} {raw!r} is not an E.164 number (+ then up to 15 digits, not starting with 0).")
    return int(compact[1:])


def parse_e164(text: str, *, what: str = "number") -> E164:
    """Parse and validate ``text`` as an E.164 number (``+`` and digits; spaces, dots, dashes and brackets
    are tolerated), 400 ``INVALID_E164`` naming it otherwise."""
    raw = str(text).strip()
    compact = re.sub(r"[\s().-]", "", raw)
    if not re.fullmatch(r"\+[1-9][0-9]{1,14}", compact):
        raise InvalidE164(f"{what} {raw!r} is not an E.164 number (+ then up to 15 digits, not starting with 0).")
    try:
        parsed = phonenumbers.parse(compact, None)
    except phonenumbers.NumberParseException:
        raise InvalidE164(f"{what} {raw!r} is not an E.164 number.") from None
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidE164(f"{what} {raw!r} is not a valid number of any numbering plan (ITU-T E.164).")
    return E164(
        digits=int(compact[1:]),
        country_code=int(parsed.country_code or 0),
        region=phonenumbers.region_code_for_number(parsed) or "001",
        number_type=NUMBER_TYPES.get(phonenumbers.number_type(parsed), "unknown"),
        national_prefix=_national_prefix(parsed),
    )


def _national_prefix(parsed: phonenumbers.PhoneNumber) -> str:
    national = re.sub(r"\D", "", phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL))
    significant = phonenumbers.national_significant_number(parsed)
    return national[: len(national) - len(significant)] if national.endswith(significant) else ""


@dataclass(frozen=True)
class BlockSpan:
    """A validated block: both ends valid E.164 numbers of one country code, the same length, first <= last."""

    first: E164
    last: E164

    @property
    def size(self) -> int:
        return self.last.digits - self.first.digits + 1


def block_span(first_text: str, last_text: str) -> BlockSpan:
    first, last = parse_e164(first_text, what="first"), parse_e164(last_text, what="last")
    if first.country_code != last.country_code or first.length != last.length:
        raise InvalidNumberBlock(f"first {first.text} and last {last.text} must have the same country code and length.")
    if first.digits > last.digits:
        raise InvalidNumberBlock(f"first {first.text} is after last {last.text}.")
    if first.national_prefix != last.national_prefix:
        raise InvalidNumberBlock(f"first {first.text} and last {last.text} are in different national ranges.")
    return BlockSpan(first, last)


# ------------------------------------------------------------------------------------- free intervals


@dataclass(frozen=True, order=True)
class Interval:
    """Inclusive interval of number digits."""

    first: int
    last: int

    def __post_init__(self) -> None:
        if self.first > self.last:
            raise ValueError(f"empty interval [{self.first}, {self.last}]")

    @property
    def size(self) -> int:
        return self.last - self.first + 1

    def contains(self, number: int) -> bool:
        return self.first <= number <= self.last


def split(chunk: Interval, taken: Interval) -> tuple[Interval | None, Interval | None]:
    """What is left of ``chunk`` once ``taken`` (inside it) is taken: the part before and the part after."""
    if not (chunk.first <= taken.first and taken.last <= chunk.last):
        raise ValueError(f"{taken} is not inside {chunk}")
    before = Interval(chunk.first, taken.first - 1) if taken.first > chunk.first else None
    after = Interval(taken.last + 1, chunk.last) if taken.last < chunk.last else None
    return before, after


@dataclass(frozen=True)
class MergePlan:
    """How a freed interval joins the free space: grow ``left`` or ``right`` (or both into ``left``,
    deleting ``right``), or become a chunk of its own (``new``)."""

    result: Interval
    extend: Interval | None = None  # the neighbour that grows into ``result``
    absorb: Interval | None = None  # the other neighbour, merged into it and deleted
    new: bool = False


def merge_into(freed: Interval, left: Interval | None, right: Interval | None, max_size: int) -> MergePlan:
    """Join ``freed`` with its adjacent free neighbours (``left.last + 1 == freed.first``,
    ``freed.last + 1 == right.first``) as long as the result stays within ``max_size``: chunks stay small
    enough that concurrent holds spread over several of them instead of queueing on one."""
    if left is not None and left.last + 1 != freed.first:
        left = None
    if right is not None and freed.last + 1 != right.first:
        right = None
    if left is not None and right is not None and left.size + freed.size + right.size <= max_size:
        return MergePlan(Interval(left.first, right.last), extend=left, absorb=right)
    if left is not None and left.size + freed.size <= max_size:
        return MergePlan(Interval(left.first, freed.last), extend=left)
    if right is not None and right.size + freed.size <= max_size:
        return MergePlan(Interval(freed.first, right.last), extend=right)
    return MergePlan(freed, new=True)


def find_run(chunks: Iterable[Interval], length: int) -> Interval | None:
    """The lowest run of ``length`` free numbers in sorted disjoint ``chunks``, across adjacent chunks."""
    start: int | None = None
    end = -2
    for chunk in chunks:
        if start is None or chunk.first != end + 1:
            start = chunk.first
        end = chunk.last
        if end - start + 1 >= length:
            return Interval(start, start + length - 1)
    return None


def chunk_bounds(span: Interval, max_chunks: int, min_size: int) -> list[Interval]:
    """Cut a new block's free space into at most ``max_chunks`` chunks of at least ``min_size`` numbers (a
    10-million block is a few dozen rows, and as many holds can proceed at once)."""
    size = max_chunk_size(span.size, max_chunks, min_size)
    return [Interval(first, min(first + size - 1, span.last)) for first in range(span.first, span.last + 1, size)]


def max_chunk_size(block_size: int, max_chunks: int, min_size: int) -> int:
    """The size of a new block's chunks, and the most a merge may grow one to."""
    count = max(1, min(max_chunks, block_size // max(1, min_size)))
    return -(-block_size // count)


@dataclass
class FreeSpace:
    """The free space of one block as sorted disjoint chunks, with the operations the repository performs
    on chunk rows (the model the hypothesis state machine checks)."""

    chunks: list[Interval]
    max_size: int

    def take(self, taken: Interval) -> None:
        index = next(i for i, chunk in enumerate(self.chunks) if chunk.contains(taken.first))
        remaining = [part for part in split(self.chunks[index], taken) if part is not None]
        self.chunks[index : index + 1] = remaining

    def take_run(self, length: int) -> Interval | None:
        run = find_run(self.chunks, length)
        if run is None:
            return None
        for part in covering(self.chunks, run):
            self.take(part)
        return run

    def give_back(self, number: int) -> None:
        freed = Interval(number, number)
        left = next((chunk for chunk in self.chunks if chunk.last + 1 == number), None)
        right = next((chunk for chunk in self.chunks if chunk.first == number + 1), None)
        plan = merge_into(freed, left, right, self.max_size)
        kept = [chunk for chunk in self.chunks if chunk not in (plan.extend, plan.absorb)]
        self.chunks = sorted([*kept, plan.result])

    def search(self, matcher: DigitMatcher | None, limit: int) -> list[int]:
        found: list[int] = []
        for chunk in self.chunks:
            found.extend(matches_in(matcher, chunk, limit - len(found)))
            if len(found) >= limit:
                break
        return found


def covering(chunks: Iterable[Interval], run: Interval) -> list[Interval]:
    """The parts of ``run`` each chunk holds (a run may span adjacent chunks)."""
    parts = []
    for chunk in chunks:
        first, last = max(chunk.first, run.first), min(chunk.last, run.last)
        if first <= last:
            parts.append(Interval(first, last))
    return parts


# ------------------------------------------------------------------------------------------ lifecycle

AVAILABLE, RESERVED, ASSIGNED, AGING = "available", "reserved", "assigned", "aging"
PORTED_IN, PORTED_OUT, BLOCKED = "portedIn", "portedOut", "blocked"
STATES = (AVAILABLE, RESERVED, ASSIGNED, AGING, PORTED_IN, PORTED_OUT, BLOCKED)

TRANSITIONS: Mapping[str, frozenset[str]] = {
    AVAILABLE: frozenset({RESERVED, ASSIGNED, BLOCKED, PORTED_IN}),
    RESERVED: frozenset({ASSIGNED, AVAILABLE, AGING}),  # AGING: a released hold of a number that had been assigned
    ASSIGNED: frozenset({AGING, PORTED_OUT, BLOCKED}),
    AGING: frozenset({AVAILABLE, ASSIGNED, BLOCKED}),  # ASSIGNED: the same customer takes it back
    PORTED_IN: frozenset({ASSIGNED, PORTED_OUT}),
    PORTED_OUT: frozenset({PORTED_IN}),
    BLOCKED: frozenset({AVAILABLE}),
}

# Our states on TMF639 v4 resourceStatus / usageState (README "Number pool" has the table and why).
TMF639_STATUS: Mapping[str, tuple[str, str]] = {
    AVAILABLE: ("available", "idle"),
    RESERVED: ("reserved", "idle"),
    ASSIGNED: ("available", "busy"),
    AGING: ("suspended", "idle"),
    PORTED_IN: ("reserved", "active"),
    PORTED_OUT: ("unknown", "idle"),
    BLOCKED: ("suspended", "idle"),
}


def check_transition(number: str, current: str, target: str) -> None:
    """Refuse a transition the lifecycle does not have (409 naming the current state)."""
    if target not in TRANSITIONS.get(current, frozenset()):
        allowed = ", ".join(sorted(TRANSITIONS.get(current, ()))) or "none"
        raise InvalidTransition(
            f"{number} is {current}: it cannot become {target} (from {current}: {allowed}).",
            details={"currentState": current, "requestedState": target},
        )


# ---------------------------------------------------------------------------------- digit automata


class _Nfa:
    """A Thompson NFA over the characters '0'-'9' (epsilon moves precomputed into closures)."""

    def __init__(self) -> None:
        self.moves: list[dict[str, set[int]]] = []
        self.epsilon: list[set[int]] = []

    def state(self) -> int:
        self.moves.append({})
        self.epsilon.append(set())
        return len(self.moves) - 1

    def closure(self, states: Iterable[int]) -> frozenset[int]:
        stack, seen = list(states), set(states)
        while stack:
            for nxt in self.epsilon[stack.pop()]:
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append(nxt)
        return frozenset(seen)


_DIGITS = "0123456789"
_MAX_REPEAT_COPIES = MAX_DIGITS + 1  # beyond this a bounded repeat cannot matter to a 15-digit number


class CompiledPattern:
    """A regular language over digits, as an NFA with memoised subset steps (a lazily built DFA)."""

    def __init__(self, regex: str) -> None:
        self.source = regex
        try:
            parsed = sre_parse.parse(regex)
        except re.error as error:
            raise InvalidPattern(f"{regex!r} is not a regular expression: {error}.") from None
        self._nfa = _Nfa()
        start, end = self._build(list(parsed))
        self.accept = end
        self.start = self._nfa.closure([start])
        self._steps: dict[tuple[frozenset[int], str], frozenset[int]] = {}

    def step(self, states: frozenset[int], digit: str) -> frozenset[int]:
        key = (states, digit)
        found = self._steps.get(key)
        if found is None:
            targets: set[int] = set()
            for state in states:
                targets |= self._nfa.moves[state].get(digit, set())
            found = self._steps[key] = self._nfa.closure(targets)
        return found

    def feed(self, states: frozenset[int], text: str) -> frozenset[int]:
        for digit in text:
            states = self.step(states, digit)
        return states

    def accepts(self, states: frozenset[int]) -> bool:
        return self.accept in states

    # Thompson construction from re's own parse tree: only what a digit language needs.
    def _build(self, items: list[tuple[Any, Any]]) -> tuple[int, int]:
        nfa = self._nfa
        start = current = nfa.state()
        for op, arg in items:
            fragment_start, fragment_end = self._item(op, arg)
            nfa.epsilon[current].add(fragment_start)
            current = fragment_end
        return start, current

    def _chars(self, digits: Iterable[str]) -> tuple[int, int]:
        nfa = self._nfa
        start, end = nfa.state(), nfa.state()
        for digit in digits:
            nfa.moves[start].setdefault(digit, set()).add(end)
        return start, end

    def _item(self, op: Any, arg: Any) -> tuple[int, int]:
        nfa = self._nfa
        if op is sre_constants.LITERAL:
            return self._chars([chr(arg)] if chr(arg) in _DIGITS else [])
        if op is sre_constants.NOT_LITERAL:
            return self._chars([d for d in _DIGITS if d != chr(arg)])
        if op is sre_constants.ANY:
            return self._chars(_DIGITS)
        if op is sre_constants.IN:
            return self._chars(self._set(arg))
        if op is sre_constants.SUBPATTERN:
            return self._build(list(arg[-1]))
        if op is sre_constants.AT:  # ^ and $: a rule matches the whole number anyway
            state = nfa.state()
            return state, state
        if op is sre_constants.BRANCH:
            start, end = nfa.state(), nfa.state()
            for alternative in arg[1]:
                branch_start, branch_end = self._build(list(alternative))
                nfa.epsilon[start].add(branch_start)
                nfa.epsilon[branch_end].add(end)
            return start, end
        if op in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT, sre_constants.POSSESSIVE_REPEAT):
            low, high, body = arg
            return self._repeat(min(low, _MAX_REPEAT_COPIES), high, list(body))
        raise InvalidPattern(
            f"{self.source!r} uses {str(op).lower()}, which a number rule cannot: use digits, ., [..], "
            "\\d, groups, | and repeats."
        )

    def _repeat(self, low: int, high: int, body: list[tuple[Any, Any]]) -> tuple[int, int]:
        nfa = self._nfa
        start = current = nfa.state()
        for _ in range(low):
            part_start, part_end = self._build(body)
            nfa.epsilon[current].add(part_start)
            current = part_end
        if high is sre_constants.MAXREPEAT or high > _MAX_REPEAT_COPIES:
            loop_start, loop_end = self._build(body)
            nfa.epsilon[current].add(loop_start)
            nfa.epsilon[loop_end].add(current)
            return start, current
        end = nfa.state()
        nfa.epsilon[current].add(end)
        for _ in range(high - low):
            part_start, part_end = self._build(body)
            nfa.epsilon[current].add(part_start)
            nfa.epsilon[part_end].add(end)
            current = part_end
        return start, end

    def _set(self, members: list[tuple[Any, Any]]) -> list[str]:
        chosen: set[str] = set()
        negate = False
        for op, arg in members:
            if op is sre_constants.NEGATE:
                negate = True
            elif op is sre_constants.LITERAL:
                chosen.add(chr(arg))
            elif op is sre_constants.RANGE:
                chosen |= {d for d in _DIGITS if arg[0] <= ord(d) <= arg[1]}
            elif op is sre_constants.CATEGORY and arg is sre_constants.CATEGORY_DIGIT:
                chosen |= set(_DIGITS)
            else:
                raise InvalidPattern(f"{self.source!r}: only digits, ranges and \\d can be in a [...] set.")
        return [d for d in _DIGITS if (d in chosen) != negate]


@lru_cache(maxsize=512)
def compiled(regex: str) -> CompiledPattern:
    return CompiledPattern(regex)


@dataclass(frozen=True)
class Part:
    """One condition on a number: a pattern that must (``want``) or must not match, on the national digits
    (trunk prefix + national significant number, ``02079460123``) or the international ones (``442079460123``)."""

    regex: str
    want: bool = True
    international: bool = False


def glob_part(pattern: str) -> Part:
    """A search pattern: digits, ``?`` (one digit) and ``*`` (any digits), national digits unless it starts
    with ``+`` (then E.164 digits). Spaces, dashes and brackets are ignored."""
    text = re.sub(r"[\s()-]", "", str(pattern))
    international = text.startswith("+")
    body = text[1:] if international else text
    if not body or not re.fullmatch(r"[0-9?*]+", body):
        raise InvalidPattern(
            f"pattern {pattern!r} may have only digits, ? (one digit) and * (any digits), after an optional +."
        )
    regex = "".join(".*" if char == "*" else "." if char == "?" else char for char in body)
    return Part(re.sub(r"(\.\*)+", ".*", regex), international=international)


def prefix_part(prefix: str) -> Part:
    if "*" in str(prefix) or "?" in str(prefix):
        raise InvalidPattern(f"prefix {prefix!r} may have only digits, after an optional +.")
    return glob_part(f"{prefix}*")


State = tuple[frozenset[int], ...]


class DigitMatcher:
    """Numbers of one block (``length`` digits, country code of ``cc_length`` digits, national prefix
    ``national_prefix``) that satisfy every ``Part``: ``next_match`` and ``count_upto`` walk digit positions
    over the product of the parts' automata.

    Product states are interned as small integers and their transitions, acceptance, viability and match
    counts are kept in lists indexed by them, filled lazily: after the first search of a shape a count is a
    dozen list lookups (``matcher_for`` shares one matcher per block shape and parts across requests)."""

    def __init__(self, parts: Sequence[Part], *, length: int, cc_length: int, national_prefix: str) -> None:
        self.parts = tuple(parts)
        self.length = length
        self.cc_length = cc_length
        self._patterns = [compiled(part.regex) for part in self.parts]
        start: State = tuple(
            pattern.start if part.international else pattern.feed(pattern.start, national_prefix)
            for part, pattern in zip(self.parts, self._patterns, strict=True)
        )
        self._ids: dict[State, int] = {}
        self._states: list[State] = []
        self._accepting: list[bool] = []
        self._dead: list[bool] = []
        # Transitions per state: before the country code ends (national parts wait) and after it.
        self._next: tuple[list[list[int] | None], list[list[int] | None]] = ([], [])
        self._count: list[dict[int, int]] = [{} for _ in range(length + 1)]  # position -> state -> matches
        self._below: list[dict[int, list[int]]] = [{} for _ in range(length + 1)]  # prefix sums over digits
        self.start = self._intern(start)

    def _intern(self, state: State) -> int:
        found = self._ids.get(state)
        if found is None:
            found = self._ids[state] = len(self._states)
            self._states.append(state)
            self._accepting.append(
                all(
                    pattern.accepts(current) == part.want
                    for part, pattern, current in zip(self.parts, self._patterns, state, strict=True)
                )
            )
            self._dead.append(any(part.want and not current for part, current in zip(self.parts, state, strict=True)))
            self._next[0].append(None)
            self._next[1].append(None)
        return found

    def step(self, state: int, digit: str, position: int) -> int:
        return self._transitions(state, position)[int(digit)]

    def _transitions(self, state: int, position: int) -> list[int]:
        early = position < self.cc_length
        table = self._next[0 if early else 1]
        found = table[state]
        if found is None:
            current = self._states[state]
            found = [
                self._intern(
                    tuple(
                        value if (early and not part.international) else pattern.step(value, digit)
                        for part, pattern, value in zip(self.parts, self._patterns, current, strict=True)
                    )
                )
                for digit in _DIGITS
            ]
            self._next[0 if early else 1][state] = found
        return found

    def accepting(self, state: int) -> bool:
        return self._accepting[state]

    def viable(self, state: int, position: int) -> bool:
        """Can the digits from ``position`` on complete ``state`` to a match?"""
        return self.count_from(state, position) > 0

    def count_from(self, state: int, position: int) -> int:
        """How many digit strings from ``position`` to the end take ``state`` to a match."""
        memo = self._count[position]
        found = memo.get(state)
        if found is None:
            if self._dead[state]:
                found = 0
            elif position == self.length:
                found = int(self._accepting[state])
            else:
                found = sum(self.count_from(nxt, position + 1) for nxt in self._transitions(state, position))
            memo[state] = found
        return found

    def _counts_below(self, state: int, position: int) -> list[int]:
        """``result[d]``: matches among strings that put a digit smaller than ``d`` at ``position``."""
        memo = self._below[position]
        found = memo.get(state)
        if found is None:
            found, total = [], 0
            for nxt in self._transitions(state, position):
                found.append(total)
                total += self.count_from(nxt, position + 1)
            memo[state] = found
        return found

    def matches(self, number: int) -> bool:
        state = self.start
        for position, digit in enumerate(str(number)):
            state = self._transitions(state, position)[ord(digit) - 48]
        return self._accepting[state]

    def next_match(self, number: int) -> int | None:
        """The smallest matching number >= ``number`` with the same length, or None."""
        digits = str(number)
        if len(digits) != self.length:
            return None
        states = [self.start]
        for position, digit in enumerate(digits):
            states.append(self._transitions(states[-1], position)[ord(digit) - 48])
        if self._accepting[states[-1]]:
            return number
        for position in range(self.length - 1, -1, -1):
            following = self._transitions(states[position], position)
            for value in range(int(digits[position]) + 1, 10):
                if self.count_from(following[value], position + 1):
                    completion = self._smallest_completion(following[value], position + 1)
                    return int(digits[:position] + str(value) + completion)
        return None

    def _smallest_completion(self, state: int, position: int) -> str:
        completion = []
        while position < self.length:
            for value, following in enumerate(self._transitions(state, position)):
                if self.count_from(following, position + 1):
                    completion.append(_DIGITS[value])
                    state, position = following, position + 1
                    break
        return "".join(completion)

    def count_upto(self, number: int) -> int:
        """How many matching numbers of this length are <= ``number``."""
        digits = str(number)
        if len(digits) < self.length:
            return 0
        if len(digits) > self.length:
            return self.count_from(self.start, 0) - self._counts_below(self.start, 0)[1]
        total, state = 0, self.start
        for position, digit in enumerate(digits):
            value = ord(digit) - 48
            below = self._counts_below(state, position)[value]
            if position == 0:  # E.164 digits never start with 0: leave out the strings that do
                below -= self._counts_below(state, 0)[1]
            total += below
            state = self._transitions(state, position)[value]
        return total + int(self._accepting[state])

    def count_in(self, interval: Interval) -> int:
        return self.count_upto(interval.last) - self.count_upto(interval.first - 1)


@lru_cache(maxsize=256)
def matcher_for(parts: tuple[Part, ...], length: int, cc_length: int, national_prefix: str) -> DigitMatcher:
    """One matcher per block shape and parts, shared: its lazily filled tables serve every later search.
    (Concurrent requests may fill the same entry twice with the same value; nothing is lost.)"""
    return DigitMatcher(parts, length=length, cc_length=cc_length, national_prefix=national_prefix)


def matches_in(matcher: DigitMatcher | None, chunk: Interval, limit: int, start: int | None = None) -> Iterator[int]:
    """Up to ``limit`` matching numbers of ``chunk`` (from ``start``), in order."""
    current = chunk.first if start is None else max(start, chunk.first)
    emitted = 0
    while emitted < limit and current <= chunk.last:
        found = current if matcher is None else matcher.next_match(current)
        if found is None or found > chunk.last:
            return
        yield found
        emitted += 1
        current = found + 1


def count_in(matcher: DigitMatcher | None, chunk: Interval) -> int:
    return chunk.size if matcher is None else matcher.count_in(chunk)


# ---------------------------------------------------------------------------------------- categories

GOLDEN, SILVER, STANDARD = "golden", "silver", "standard"
CATEGORIES = (GOLDEN, SILVER, STANDARD)
RULE_KINDS = ("repeatedDigits", "trailingZeros", "ascendingRun", "regex")


@dataclass(frozen=True)
class CategoryRule:
    """A pool's rule: numbers whose national digits match it are of ``category`` (golden or silver)."""

    category: str
    kind: str
    length: int | None = None
    regex: str | None = None

    def as_regex(self) -> str:
        if self.kind == "regex":
            return str(self.regex)
        length = int(self.length or 0)
        if self.kind == "repeatedDigits":
            return ".*(" + "|".join(d * length for d in _DIGITS) + ").*"
        if self.kind == "trailingZeros":
            return ".*" + "0" * length
        runs = [_DIGITS[i : i + length] for i in range(0, 11 - length)]
        return ".*(" + "|".join(runs) + ").*"  # ascendingRun

    def to_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {"category": self.category, "kind": self.kind}
        if self.length is not None:
            document["length"] = self.length
        if self.regex is not None:
            document["regex"] = self.regex
        return document


DEFAULT_RULES: tuple[CategoryRule, ...] = (
    CategoryRule(GOLDEN, "repeatedDigits", length=6),
    CategoryRule(GOLDEN, "trailingZeros", length=4),
    CategoryRule(SILVER, "repeatedDigits", length=4),
    CategoryRule(SILVER, "trailingZeros", length=3),
    CategoryRule(SILVER, "ascendingRun", length=4),
)


def parse_rules(documents: Iterable[Mapping[str, Any]]) -> tuple[CategoryRule, ...]:
    """Category rules from their JSON (400 ``INVALID_CATEGORY_RULE`` for one that cannot work)."""
    rules = []
    for index, document in enumerate(documents):
        where = f"categoryRule[{index}]"
        category, kind = document.get("category"), document.get("kind")
        if category not in (GOLDEN, SILVER):
            raise InvalidCategoryRule(f"{where}.category must be golden or silver, not {category!r}.")
        if kind not in RULE_KINDS:
            raise InvalidCategoryRule(f"{where}.kind must be one of {', '.join(RULE_KINDS)}, not {kind!r}.")
        if kind == "regex":
            regex = document.get("regex")
            if not isinstance(regex, str) or not regex or len(regex) > 200:
                raise InvalidCategoryRule(f"{where}.regex must be a regular expression of up to 200 characters.")
            try:
                CompiledPattern(regex)
            except InvalidPattern as error:
                raise InvalidCategoryRule(f"{where}: {error.message}") from None
            rules.append(CategoryRule(category, kind, regex=regex))
            continue
        length = document.get("length")
        top = 10 if kind == "ascendingRun" else MAX_DIGITS
        if not isinstance(length, int) or isinstance(length, bool) or not 2 <= length <= top:
            raise InvalidCategoryRule(f"{where}.length must be an integer from 2 to {top}, not {length!r}.")
        rules.append(CategoryRule(category, kind, length=length))
    return tuple(rules)


def category_regex(rules: Sequence[CategoryRule], category: str) -> str | None:
    chosen = [f"(?:{rule.as_regex()})" for rule in rules if rule.category == category]
    return "|".join(chosen) if chosen else None


def category_parts(rules: Sequence[CategoryRule], category: str) -> list[Part]:
    """The conditions that make a number ``category``: golden rules win over silver ones; standard is
    neither."""
    golden, silver = category_regex(rules, GOLDEN), category_regex(rules, SILVER)
    never = [Part(regex, want=False) for regex in (golden, silver) if regex is not None]
    if category == GOLDEN:
        return [Part(golden)] if golden else [Part("x")]  # "x" matches no digits: nothing is golden
    if category == SILVER:
        if silver is None:
            return [Part("x")]
        return [Part(silver)] + ([Part(golden, want=False)] if golden else [])
    return never


@dataclass(frozen=True)
class NumberShape:
    """What the matchers of one block need to know about its numbers."""

    length: int
    cc_length: int
    national_prefix: str

    def matcher(self, parts: Sequence[Part]) -> DigitMatcher | None:
        if not parts:
            return None
        return matcher_for(tuple(parts), self.length, self.cc_length, self.national_prefix)


def classify(number: int, shape: NumberShape, rules: Sequence[CategoryRule]) -> str:
    for category in (GOLDEN, SILVER):
        matcher = shape.matcher(category_parts(rules, category))
        if matcher is not None and matcher.matches(number):
            return category
    return STANDARD


def national_digits(number: int, shape: NumberShape) -> str:
    return shape.national_prefix + str(number)[shape.cc_length :]


# ---------------------------------------------------------------------------------------- selection

LOWEST_FIRST, RANDOM, LEAST_RECENTLY_RELEASED, ANY = "lowestFirst", "random", "leastRecentlyReleased", "any"
POLICIES = (ANY, LOWEST_FIRST, RANDOM, LEAST_RECENTLY_RELEASED)


@dataclass(frozen=True)
class Criteria:
    """What a hold asks for (a reservation item, or a PATCH/task of the number API)."""

    quantity: int = 1
    pattern: str | None = None
    prefix: str | None = None
    category: str | None = None
    contiguous: bool = False
    policy: str = ANY
    number: str | None = None  # a specific number
    allow_golden: bool = False
    seed: int | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def parts(self, rules: Sequence[CategoryRule]) -> list[Part]:
        parts: list[Part] = []
        if self.pattern:
            parts.append(glob_part(self.pattern))
        if self.prefix:
            parts.append(prefix_part(self.prefix))
        if self.category:
            parts.extend(category_parts(rules, self.category))
        elif not self.allow_golden and category_regex(rules, GOLDEN):
            # Without the flag golden numbers are not handed out by "any number" requests either.
            parts.append(Part(str(category_regex(rules, GOLDEN)), want=False))
        return parts


def shuffled_order(items: Sequence[Any], choose: Callable[[int], int]) -> list[Any]:
    """A random order of ``items`` from ``choose(n) -> 0..n-1`` (injectable for tests)."""
    remaining = list(items)
    ordered = []
    while remaining:
        ordered.append(remaining.pop(choose(len(remaining))))
    return ordered
