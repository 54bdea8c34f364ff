"""Every benchmark figure has one owner module: two modules recording the same metric id overwrite each
other in ``bench/results/latest.json`` (the last one run wins), so the README would show whichever ran last.
``numbers.search.pattern.p95`` once came from two modules measuring different things (HTTP and in process).

Baselines (``baseline.*``, ``pgbench.*``) are the exception by design: each module measures the ones it
compares against in its own run, on its own database.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parents[2] / "bench"
SHARED_PREFIXES = ("baseline.", "pgbench.")


def literal_metric_ids(module: Path) -> set[str]:
    """The metric ids a module passes as a plain string literal to ``record(...)``."""
    found = set()
    for node in ast.walk(ast.parse(module.read_text())):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "record" and node.args:
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                found.add(first.value)
    return found


def test_no_two_benchmark_modules_record_the_same_metric() -> None:
    owners: dict[str, list[str]] = defaultdict(list)
    for module in sorted(BENCH_DIR.glob("*.py")):
        for metric in literal_metric_ids(module):
            if not metric.startswith(SHARED_PREFIXES):
                owners[metric].append(module.name)
    assert owners, "no record(...) calls found: the scan is broken"
    assert {metric: modules for metric, modules in owners.items() if len(modules) > 1} == {}


def test_the_scan_sees_a_duplicate(tmp_path: Path) -> None:
    module = tmp_path / "x.py"
    module.write_text('def run(record):\n    record("x.a", 1, "s")\n    record(f"x.{1}", 2, "s")\n')
    assert literal_metric_ids(module) == {"x.a"}
