"""The activation rendering/dry-run benchmark end to end, scaled down: a real simulator, every metric."""

from __future__ import annotations

import pytest

from bench import activation_dryrun
from bench.common import Recorder


@pytest.mark.slow
@pytest.mark.e2e
def test_activation_benchmark_records_render_rates_and_dry_run_latencies_when_scaled_down(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(activation_dryrun, "SECONDS", 0.2)
    monkeypatch.setattr(activation_dryrun, "DRYRUN_SAMPLES", 10)
    monkeypatch.setattr(activation_dryrun, "WARMUP", 2)
    recorder = Recorder()
    activation_dryrun.run(recorder.record)
    by_metric = {record["metric"]: record for record in recorder.records}
    assert set(by_metric) == {"activation.render", "activation.render.snmp", "activation.dryrun.p95",
                              "activation.dryrun.p50"}  # fmt: skip
    assert by_metric["activation.render"]["unit"] == "renders/s"
    p95 = by_metric["activation.dryrun.p95"]
    assert p95["unit"] == "ms" and p95["baseline_metric"] == "baseline.ncclient.get_config.p95"
    assert p95["ratio"] is not None and p95["ratio"] > 0
    for record in recorder.records:
        assert record["value"] > 0, record
