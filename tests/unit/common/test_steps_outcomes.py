"""Pure parts of the durable-step kernel: the outcome of a successful attempt, names, the backoff."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from common import steps
from common.steps.context import outcome_values

NOW = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)


def test_a_successful_attempt_is_done_or_waiting_with_a_fresh_budget() -> None:
    done = outcome_values(None, done=True, until=None, now=NOW)
    assert (done["state"], done["due_at"], done["finished_at"], done["failures"]) == (steps.DONE, None, NOW, 0)
    later = NOW + timedelta(minutes=5)
    waiting = outcome_values(None, done=False, until=later, now=NOW)
    assert (waiting["state"], waiting["due_at"], waiting["claimed_by"]) == (steps.WAITING, later, None)


def test_a_step_rescheduled_or_woken_while_running_is_pending_again_whatever_the_run_decided() -> None:
    woken_at = NOW + timedelta(seconds=1)
    for done in (True, False):
        values = outcome_values(woken_at, done=done, until=None, now=NOW)
        assert (values["state"], values["due_at"], values["rescheduled_at"]) == (steps.PENDING, woken_at, None)


@pytest.mark.parametrize("name", ["", "a b", "x" * 65, "ünïcode", "semi;colon"])
def test_step_kinds_and_sweeper_names_are_short_plain_words(name: str) -> None:
    with pytest.raises(ValueError):
        steps.register_step(name, lambda ctx: None)
    with pytest.raises(ValueError):
        steps.register_sweeper(name, timedelta(minutes=1), lambda uow, now: 0)


def test_the_backoff_doubles_up_to_its_cap_within_the_jitter() -> None:
    policy = steps.RetryPolicy(base_delay=1.0, max_delay=30.0, jitter=0.25)
    rng = random.Random(3)
    for attempt, nominal in [(1, 1.0), (2, 2.0), (3, 4.0), (6, 30.0), (1000, 30.0)]:
        delay = policy.delay(attempt, rng)
        assert nominal * 0.75 <= delay <= min(30.0, nominal * 1.25)
