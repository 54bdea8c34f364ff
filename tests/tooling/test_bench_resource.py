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
        "TAKE_REQUESTS": 30,
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
    for metric in ("baseline.sql_insert", "baseline.sql_take.c1", "baseline.sql_take.c16"):
        assert by_metric[metric]["unit"] == "ops/s" and by_metric[metric]["value"] > 0
    assert by_metric["resource.create.vs_sql"]["baseline_metric"] == "baseline.sql_insert"
    for name, sql_name in (("list", "sql_list"), ("retrieve", "sql_retrieve")):
        for q in ("p50", "p95"):
            record = by_metric[f"resource.{name}.{q}.vs_sql"]
            assert record["baseline_metric"] == f"baseline.{sql_name}.{q}"
            assert record["value"] == by_metric[f"resource.{name}.{q}"]["value"]
            assert record["ratio"] == pytest.approx(
                by_metric[f"baseline.{sql_name}.{q}"]["value"] / record["value"], rel=0.01
            )
    for name, sql_name in (("create", "sql_insert"), ("list", "sql_list"), ("retrieve", "sql_retrieve")):
        cpu = by_metric[f"resource.{name}.cpu"]
        assert cpu["unit"] == "ms CPU/req" and cpu["baseline_metric"] == f"baseline.{sql_name}.cpu"
