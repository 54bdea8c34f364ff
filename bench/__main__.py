"""``python -m bench [GROUP ...]``: run the benchmark modules, print a table, write bench/results/latest.json.

A module ``bench/<name>.py`` exposing ``run(record)`` is a benchmark; its group is the first segment of its
name (``sim_snmp`` -> ``sim``), which is also the first segment of its metric ids (ARCHITECTURE.md §7).
``make bench BENCH=sim`` runs ``bench/sim*.py``. The backend is PostgreSQL when DATABASE_URL points at one,
else SQLite. ``latest.json`` keeps the latest record of every metric on each backend: figures from groups not run this
time stay, those re-run are replaced. Each run also lands in ``bench/results/<when>-<backend>.json``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import pkgutil
import sys
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.common import BENCH_DIR, RESULTS_DIR, Recorder, format_markdown, format_table

# Modules in bench/ that are helpers, not benchmarks.
NOT_BENCHMARKS = frozenset({"common", "baseline_app", "pgbench_figures"})


def discover(groups: Sequence[str]) -> list[str]:
    names = sorted(
        info.name
        for info in pkgutil.iter_modules([str(BENCH_DIR)])
        if not info.name.startswith("_") and info.name not in NOT_BENCHMARKS
    )
    if not groups:
        return names
    return [name for name in names if any(name.split("_")[0] == group or name == group for group in groups)]


def merge_latest(path: Path, new: list[dict[str, Any]]) -> list[dict[str, Any]]:
    old: list[dict[str, Any]] = []
    if path.is_file():
        try:
            old = json.loads(path.read_text())
        except (OSError, ValueError):
            old = []
    # One latest figure per metric and backend: a PostgreSQL run does not erase the SQLite figures.
    replaced = {(record["metric"], record.get("backend")) for record in new}
    return [record for record in old if (record.get("metric"), record.get("backend")) not in replaced] + new


def update_readme(readme: Path, records: list[dict[str, Any]]) -> None:
    """Replace the text between ``<!-- bench:start -->`` and ``<!-- bench:end -->`` with the table."""
    text = readme.read_text()
    start, end = "<!-- bench:start -->", "<!-- bench:end -->"
    if start not in text or end not in text:
        raise SystemExit(f"{readme}: no {start} ... {end} markers")
    machines = sorted({record.get("machine", "?") for record in records})
    dates = sorted(record.get("when", "")[:10] for record in records)
    span = dates[0] if dates and dates[0] == dates[-1] else f"{dates[0]} to {dates[-1]}" if dates else "?"
    caption = f"Measured on {', '.join(machines)}, {span} (from `bench/results/latest.json`)."
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    readme.write_text(f"{head}{start}\n{caption}\n\n{format_markdown(records)}\n{end}{tail}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("groups", nargs="*", help="groups to run (resource, sim, ...); comma-separated works too")
    parser.add_argument("--list", action="store_true", help="list the benchmark modules and exit")
    parser.add_argument("--markdown", action="store_true", help="print latest.json as the README's table and exit")
    parser.add_argument(
        "--update-readme", action="store_true", help="write latest.json's table into README.md (between bench markers)"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)  # the migrations of a fresh database are not news
    groups = [group for item in args.groups for group in item.split(",") if group]
    latest_path = RESULTS_DIR / "latest.json"

    if args.markdown or args.update_readme:
        records = json.loads(latest_path.read_text())
        if args.update_readme:
            update_readme(BENCH_DIR.parent / "README.md", records)
        else:
            print(format_markdown(records))
        return 0
    modules = discover(groups)
    if args.list or not modules:
        print("\n".join(modules) if modules else f"no benchmark module matches {groups}")
        return 0 if modules else 2

    recorder = Recorder()
    failed: list[str] = []
    for name in modules:
        print(f"== bench.{name} ({recorder.backend}, {recorder.machine})", flush=True)
        started = time.monotonic()
        try:
            module = importlib.import_module(f"bench.{name}")
            module.run(recorder.record)
        except Exception:  # one broken benchmark must not hide the others' figures
            traceback.print_exc()
            failed.append(name)
        print(f"== bench.{name} took {time.monotonic() - started:.1f} s", flush=True)

    print()
    print(format_table(recorder.records) if recorder.records else "no figures recorded")
    if recorder.records:
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        stamp = recorder.records[0]["when"].replace(":", "")
        (RESULTS_DIR / f"{stamp}-{recorder.backend}.json").write_text(json.dumps(recorder.records, indent=2) + "\n")
        merged = merge_latest(latest_path, recorder.records)
        latest_path.write_text(json.dumps(merged, indent=2) + "\n")
        print(f"\nwrote {latest_path.relative_to(BENCH_DIR.parent)}")
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
