"""The bulk import benchmark, scaled down: every figure recorded, with its baseline, from a real import."""

from __future__ import annotations

import pytest

from bench import resource_bulk
from bench.common import Recorder


@pytest.mark.slow
def test_resource_bulk_benchmark_records_every_figure_when_scaled_down(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {"BULK_ROWS": 300, "BULK_BATCH": 100, "ROW_BY_ROW_ROWS": 20}.items():
        monkeypatch.setattr(resource_bulk, name, value)
    recorder = Recorder()
    resource_bulk.run(recorder.record)
    by_metric = {record["metric"]: record for record in recorder.records}

    assert set(by_metric) == {
        "baseline.core_insert",
        "resource.bulkimport",
        "resource.bulkimport.cpu",
        "resource.bulkimport.rowbyrow",
    }
    assert by_metric["resource.bulkimport"]["unit"] == "rows/s"
    assert by_metric["resource.bulkimport"]["baseline_metric"] == "baseline.core_insert"
    assert by_metric["resource.bulkimport"]["ratio"] > 0
    for record in recorder.records:
        assert record["value"] > 0, record
