"""Retry delays: exponential, capped, jittered within bounds, reproducible from a seed."""

from __future__ import annotations

import random

from server.dispatcher import RetryPolicy


def test_delay_doubles_per_attempt_without_jitter() -> None:
    policy = RetryPolicy(base_delay=1.0, multiplier=2.0, max_delay=1000.0, jitter=0.0)
    rng = random.Random(1)
    assert [policy.delay(attempt, rng) for attempt in range(1, 6)] == [1.0, 2.0, 4.0, 8.0, 16.0]


def test_delay_is_capped_at_max_delay_even_for_huge_attempt_numbers() -> None:
    policy = RetryPolicy(base_delay=1.0, max_delay=30.0, jitter=0.25)
    rng = random.Random(2)
    assert all(policy.delay(attempt, rng) <= 30.0 for attempt in (6, 10, 100, 10_000))


def test_jitter_stays_within_its_fraction_of_the_nominal_delay() -> None:
    policy = RetryPolicy(base_delay=4.0, max_delay=1000.0, jitter=0.25)
    rng = random.Random(3)
    delays = [policy.delay(1, rng) for _ in range(500)]
    assert min(delays) >= 3.0 and max(delays) <= 5.0
    assert max(delays) - min(delays) > 1.0  # it does spread the retries out


def test_same_seed_gives_the_same_schedule() -> None:
    policy = RetryPolicy()
    first = [policy.delay(attempt, random.Random(42)) for attempt in range(1, 8)]
    second = [policy.delay(attempt, random.Random(42)) for attempt in range(1, 8)]
    assert first == second
    assert first != [policy.delay(attempt, random.Random(43)) for attempt in range(1, 8)]
