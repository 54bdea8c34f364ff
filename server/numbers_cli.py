"""``provisio numbers import FILE.csv``: a carrier's numbers from a spreadsheet into the number pools
(``oss.number_pool.importer`` has the rules, README "Number pool: import" the file format).

    provisio numbers import numbers.csv [--batch-size N] [--no-progress]

Prints a progress bar (rich) while it works, then a summary (pools, blocks, numbers per kind, unchanged)
and every line that was not imported with its line number and reason. Exit status 0 when every line was
imported (or was already there), 1 when some lines were not, 2 when the file cannot be read at all. The
CLI acts as ``cli:<os user>`` in the audit trail.
"""

from __future__ import annotations

import argparse
import getpass
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from server.settings import Settings

EXIT_LINE_ERRORS = 1
EXIT_BAD_FILE = 2


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    numbers = commands.add_parser("numbers", help="number pools: import blocks, assignments and ported numbers")
    sub = numbers.add_subparsers(dest="numbers_command", required=True, metavar="NUMBERS_COMMAND")
    load = sub.add_parser(
        "import", help="import a CSV file (type,pool,first,last,customerId,...); re-runs change nothing"
    )
    load.add_argument("file", type=Path)
    load.add_argument("--batch-size", type=int, default=1000, help="lines per transaction (default 1000)")
    load.add_argument("--no-progress", action="store_true", help="no progress bar (logs, CI)")
    numbers.set_defaults(handler=cmd_numbers)


def cmd_numbers(args: argparse.Namespace) -> int:
    from common import request_context
    from common.uow import UnitOfWork
    from oss.number_pool import importer
    from server.cli import announce_database, require_database
    from server.db import make_engine, make_session_factory
    from server.schema import load_all_models

    settings = Settings.from_env()
    require_database(settings, "numbers import")
    announce_database(settings)
    if not args.file.is_file():
        print(f"provisio numbers import: no file {args.file}", file=sys.stderr)
        return EXIT_BAD_FILE
    load_all_models()  # every context's steps, event types and TMF639 types are registered
    factory = make_session_factory(make_engine(settings.database_url))
    started = time.perf_counter()
    with request_context.bind(actor=f"cli:{getpass.getuser()}"[: request_context.IDENTITY_MAX_LENGTH]):
        try:
            with _progress(args.file, enabled=not args.no_progress) as advance:
                summary = importer.import_file(
                    lambda: UnitOfWork(factory), args.file, batch_size=max(1, args.batch_size), progress=advance
                )
        except importer.ImportFileError as error:
            print(f"provisio numbers import: {error}", file=sys.stderr)
            return EXIT_BAD_FILE
    _print_summary(summary, time.perf_counter() - started)
    return EXIT_LINE_ERRORS if summary.errors else 0


class _progress:
    """A rich progress bar over the file's lines (a no-op without a terminal or with --no-progress)."""

    def __init__(self, path: Path, *, enabled: bool) -> None:
        self.path, self.enabled = path, enabled
        self._bar: Any = None

    def __enter__(self) -> Callable[[int], None]:
        if not self.enabled:
            return lambda _n: None
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        from oss.number_pool.importer import count_rows

        self._bar = Progress(
            TextColumn("importing {task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
            transient=False,
        )  # fmt: skip
        self._bar.start()
        task = self._bar.add_task(self.path.name, total=count_rows(self.path))
        bar = self._bar
        return lambda n: bar.advance(task, n)

    def __exit__(self, *_exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()


def _print_summary(summary: object, seconds: float) -> None:
    from oss.number_pool.importer import ImportSummary

    assert isinstance(summary, ImportSummary)
    created = summary.numbers_created
    rate = summary.lines / seconds if seconds > 0 else 0.0
    print(f"{summary.lines} line(s) in {seconds:.2f} s ({rate:,.0f} lines/s)")
    print(f"  pools created:            {summary.pools_created}")
    print(f"  blocks created/unchanged: {summary.blocks_created}/{summary.blocks_unchanged}")
    print(f"  numbers assigned:         {created['assigned']}")
    print(f"  numbers blocked:          {created['blocked']}")
    print(f"  numbers ported in:        {created['portedIn']}")
    print(f"  numbers ported out:       {created['portedOut']}")
    print(f"  numbers unchanged:        {summary.numbers_unchanged}")
    print(f"  lines not imported:       {len(summary.errors)}")
    for error in summary.errors:
        print(f"line {error.line}: {error.reason}")
