"""The benchmark runner's arithmetic and bookkeeping (ARCHITECTURE.md §7), without running a benchmark."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bench.__main__ import discover, merge_latest
from bench.common import Recorder, format_table, machine_description, percentile


def test_ratio_is_value_over_baseline_for_throughputs() -> None:
    recorder = Recorder(backend="sqlite", machine="2 cores, 24 GiB")
    recorder.record("resource.create", 500.0, "ops/s", "baseline.starlette.json", 2000.0)
    assert recorder.records[0]["ratio"] == 0.25


def test_ratio_is_baseline_over_value_for_latencies() -> None:
    recorder = Recorder(backend="sqlite", machine="2 cores, 24 GiB")
    recorder.record("resource.list.p95", 8.0, "ms", "baseline.starlette.json.p95", 2.0, higher_is_better=False)
    assert recorder.records[0]["ratio"] == 0.25


def test_record_has_every_field_of_the_format() -> None:
    recorder = Recorder()
    recorder.record("resource.retrieve.p50", 1.23456, "ms")
    record = recorder.records[0]
    assert set(record) == {
        "metric",
        "value",
        "unit",
        "baseline_metric",
        "baseline",
        "ratio",
        "backend",
        "machine",
        "when",
    }
    assert record["ratio"] is None and record["baseline"] is None
    assert record["backend"] in ("sqlite", "postgresql")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", record["when"])
    json.dumps(record)


def test_machine_description_reads_cores_and_memory() -> None:
    assert re.fullmatch(r"\d+ cores?(, \d+ GiB)?", machine_description())


@pytest.mark.parametrize(("q", "expected"), [(0, 1.0), (50, 50.5), (95, 95.05), (100, 100.0)])
def test_percentile_interpolates_linearly(q: float, expected: float) -> None:
    assert percentile([float(i) for i in range(100, 0, -1)], q) == pytest.approx(expected)


def test_discover_selects_modules_by_group_prefix() -> None:
    everything = discover([])
    assert "common" not in everything and "baseline_app" not in everything
    assert "resource" in everything
    assert discover(["resource"]) == ["resource", "resource_bulk", "resource_scale"]  # the group is the first segment
    assert discover(["resource_bulk"]) == ["resource_bulk"]
    assert all(name.split("_")[0] == "sim" for name in discover(["sim"]))


def test_merge_latest_replaces_rerun_metrics_and_keeps_the_others(tmp_path: Path) -> None:
    latest = tmp_path / "latest.json"
    old = [
        {"metric": "sim.rss1000", "value": 1, "backend": "sqlite"},
        {"metric": "resource.create", "value": 2, "backend": "sqlite"},
        {"metric": "resource.create", "value": 4, "backend": "postgresql"},
    ]
    latest.write_text(json.dumps(old))
    merged = merge_latest(latest, [{"metric": "resource.create", "value": 3, "backend": "sqlite"}])
    assert merged == [old[0], old[2], {"metric": "resource.create", "value": 3, "backend": "sqlite"}]


def test_table_lists_each_metric_with_its_ratio() -> None:
    recorder = Recorder(backend="sqlite", machine="2 cores, 24 GiB")
    recorder.record("resource.create", 500.0, "ops/s", "baseline.starlette.json", 2000.0)
    table = format_table(recorder.records)
    assert "resource.create" in table and "0.25" in table
