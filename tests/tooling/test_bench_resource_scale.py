"""The multi-process create benchmark end to end, scaled down: real `provisio serve --workers N` processes."""

from __future__ import annotations

import os

import pytest

from bench import resource_scale
from bench.common import Recorder


def _run_scaled_down(monkeypatch: pytest.MonkeyPatch) -> dict[str, dict[str, object]]:
    monkeypatch.setattr(resource_scale, "CREATE_REQUESTS", 40)
    monkeypatch.setattr(resource_scale, "WARMUP_REQUESTS", 16)
    recorder = Recorder()
    resource_scale.run(recorder.record)
    for record in recorder.records:
        assert isinstance(record["value"], float | int) and record["value"] > 0, record
    return {str(record["metric"]): record for record in recorder.records}


@pytest.mark.slow
@pytest.mark.e2e
def test_scale_benchmark_records_the_one_process_figure_under_both_names_with_its_baseline(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    by_metric = _run_scaled_down(monkeypatch)
    one, named = by_metric["resource.create.c16.w1"], by_metric["resource.create.c16"]
    assert one["value"] == named["value"] and one["unit"] == "ops/s"
    assert one["baseline_metric"] == "baseline.starlette.json.c16"
    assert one["baseline"] == by_metric["baseline.starlette.json.c16"]["value"]
    assert isinstance(one["ratio"], float) and one["ratio"] > 0
    if not os.environ.get("DATABASE_URL", "").startswith("postgresql"):
        assert "resource.create.c16.w2" not in by_metric  # `serve --workers 2` refuses SQLite


@pytest.mark.pg
@pytest.mark.slow
@pytest.mark.e2e
def test_scale_benchmark_measures_two_api_processes_against_one_on_postgresql(monkeypatch: pytest.MonkeyPatch) -> None:
    by_metric = _run_scaled_down(monkeypatch)
    two = by_metric["resource.create.c16.w2"]
    assert two["baseline_metric"] == "resource.create.c16.w1"
    assert two["baseline"] == by_metric["resource.create.c16.w1"]["value"]
    assert isinstance(two["ratio"], float) and two["ratio"] > 0
