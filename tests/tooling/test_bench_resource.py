"""The foundation benchmark end to end, scaled down: a real server, a real baseline, every metric recorded."""

from __future__ import annotations

import pytest

from bench import resource
from bench.common import Recorder


@pytest.mark.slow
@pytest.mark.e2e
def test_resource_benchmark_records_every_metric_with_its_baseline_when_scaled_down(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in {
        "TOTAL_RESOURCES": 300,
        "BATCH": 100,
        "CREATE_REQUESTS": 40,
        "LIST_REQUESTS": 20,
        "RETRIEVE_REQUESTS": 20,
    }.items():
        monkeypatch.setattr(resource, name, value)
    recorder = Recorder()
    resource.run(recorder.record)
    by_metric = {record["metric"]: record for record in recorder.records}

    assert by_metric["resource.create"]["baseline_metric"] == "baseline.starlette.json"
    for metric in ("resource.list.p95", "resource.retrieve.p95", "resource.list.p50", "resource.retrieve.p50"):
        assert by_metric[metric]["unit"] == "ms"
        assert by_metric[metric]["baseline_metric"] == f"baseline.starlette.json.{metric.rsplit('.', 1)[1]}"
    for record in recorder.records:
        assert record["value"] > 0, record
    for metric in ("resource.create", "resource.list.p95", "resource.retrieve.p95"):
        assert by_metric[metric]["ratio"] is not None and by_metric[metric]["ratio"] > 0
