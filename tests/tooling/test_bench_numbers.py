"""The numbers benchmark end to end, scaled down: a real server, the raw-SQL baseline, every metric recorded."""

from __future__ import annotations

import pytest

from bench import numbers
from bench.common import Recorder


def test_touched_runs_are_disjoint_and_their_complement_is_the_rest_of_the_block() -> None:
    runs = numbers.touched_runs(1_000, 1_999, touched=300, run=10, seed=7)
    assert len(runs) == 30 and all(last - first == 9 for first, last in runs)
    free = list(numbers.complement(1_000, 1_999, runs))
    covered = sorted(d for a, b in [*runs, *free] for d in range(a, b + 1))
    assert covered == list(range(1_000, 2_000))


@pytest.mark.slow
@pytest.mark.e2e
def test_numbers_benchmark_records_every_metric_with_its_baseline_when_scaled_down(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in {
        "RESERVE_REQUESTS": 30,
        "TAKE_REQUESTS": 30,
        "TOUCHED": 5_000,
        "SEARCH_REQUESTS": 10,
        "RUN_PGBENCH": False,  # minutes of pgbench; bench/pgbench_figures.py has its own test
    }.items():
        monkeypatch.setattr(numbers, name, value)
    recorder = Recorder()
    numbers.run(recorder.record)
    by_metric = {record["metric"]: record for record in recorder.records}

    assert by_metric["numbers.block10m.create"]["unit"] == "s"
    assert by_metric["numbers.block10m.growth"]["unit"] == "MB"
    for concurrency in (1, 16):
        reserve = by_metric[f"numbers.reserve.c{concurrency}"]
        assert reserve["unit"] == "holds/s" and reserve["baseline_metric"] == f"baseline.sql_take.c{concurrency}"
        assert reserve["ratio"] is not None and reserve["ratio"] > 0
    for metric in ("numbers.search.pattern.p95", "numbers.search.pattern.p50"):
        assert by_metric[metric]["unit"] == "ms" and by_metric[metric]["value"] > 0
    for record in recorder.records:
        assert record["value"] >= 0, record
