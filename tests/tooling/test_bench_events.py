"""The event delivery benchmark end to end, scaled down: real processes, a real listener, every metric."""

from __future__ import annotations

import pytest

from bench import events
from bench.common import Recorder, backend_name


@pytest.mark.slow
@pytest.mark.e2e
def test_events_benchmark_records_delivery_latencies_with_their_baseline_when_scaled_down(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in {
        "DELIVERIES": 10,
        "WARM_UP": 2,
        "LOAD_REQUESTS": 20,
        "LOAD_CONCURRENCY": 2,
        "BASELINE_SAMPLES": 10,
    }.items():
        monkeypatch.setattr(events, name, value)
    recorder = Recorder()
    events.run(recorder.record)
    by_metric = {record["metric"]: record for record in recorder.records}

    baseline = "baseline.pg_notify_post" if backend_name() == "postgresql" else "baseline.thread_post"
    for metric in [f"events.delivery.{q}" for q in ("p50", "p95", "load.p50", "load.p95")]:
        assert by_metric[metric]["unit"] == "ms"
        assert by_metric[metric]["baseline_metric"] == f"{baseline}.{metric.rsplit('.', 1)[1]}"
        assert by_metric[metric]["ratio"] is not None and by_metric[metric]["ratio"] > 0
    for record in recorder.records:
        assert record["value"] > 0, record
