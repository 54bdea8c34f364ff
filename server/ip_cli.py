"""``provisio ip import FILE.csv``: prefixes, addresses and VLANs from a spreadsheet into IPAM
(``oss.ip_pool.importer`` has the rules and the file format).

    provisio ip import addresses.csv [--batch-size N] [--no-progress]

Prints a progress bar (rich) while it works, then a summary and every line that was not imported with its
line number and reason. Exit status 0 when every line was imported (or was already there), 1 when some
lines were not, 2 when the file cannot be read at all. The CLI acts as ``cli:<os user>`` in the audit trail.
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
    ip = commands.add_parser("ip", help="IP address management: import prefixes, addresses and VLANs")
    sub = ip.add_subparsers(dest="ip_command", required=True, metavar="IP_COMMAND")
    load = sub.add_parser("import", help="import a CSV file (kind,value,vrf,status,...); re-runs change nothing")
    load.add_argument("file", type=Path)
    load.add_argument("--batch-size", type=int, default=1000, help="lines per transaction (default 1000)")
    load.add_argument("--no-progress", action="store_true", help="no progress bar (logs, CI)")
    ip.set_defaults(handler=cmd_ip)


def cmd_ip(args: argparse.Namespace) -> int:
    from common import request_context
    from common.uow import UnitOfWork
    from oss.ip_pool import importer
    from server.cli import announce_database, require_database
    from server.db import make_engine, make_session_factory
    from server.schema import load_all_models

    settings = Settings.from_env()
    require_database(settings, "ip import")
    announce_database(settings)
    if not args.file.is_file():
        print(f"provisio ip import: no file {args.file}", file=sys.stderr)
        return EXIT_BAD_FILE
    load_all_models()
    import oss.ip_pool  # noqa: F401  # the TMF639 types and events of IPAM are registered

    factory = make_session_factory(make_engine(settings.database_url))
    started = time.perf_counter()
    with request_context.bind(actor=f"cli:{getpass.getuser()}"[: request_context.IDENTITY_MAX_LENGTH]):
        try:
            with _progress(args.file, enabled=not args.no_progress) as advance:
                summary = importer.import_file(
                    lambda: UnitOfWork(factory), args.file, batch_size=max(1, args.batch_size), progress=advance
                )
        except importer.ImportFileError as error:
            print(f"provisio ip import: {error}", file=sys.stderr)
            return EXIT_BAD_FILE
    seconds = time.perf_counter() - started
    rate = summary.lines / seconds if seconds > 0 else 0.0
    print(f"{summary.lines} line(s) in {seconds:.2f} s ({rate:,.0f} lines/s)")
    for kind, count in summary.created.items():
        print(f"  {kind + 'es' if kind == 'address' else kind + 's'} created: {count}")
    print(f"  unchanged: {summary.unchanged}")
    print(f"  lines not imported: {len(summary.errors)}")
    for line_error in summary.errors:
        print(f"line {line_error.line}: {line_error.reason}")
    return EXIT_LINE_ERRORS if summary.errors else 0


class _progress:
    """A rich progress bar over the file's lines (a no-op without --no-progress)."""

    def __init__(self, path: Path, *, enabled: bool) -> None:
        self.path, self.enabled = path, enabled
        self._bar: Any = None

    def __enter__(self) -> Callable[[int], None]:
        if not self.enabled:
            return lambda _n: None
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        from oss.ip_pool.importer import count_rows

        self._bar = Progress(
            TextColumn("importing {task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn()
        )
        self._bar.start()
        task = self._bar.add_task(self.path.name, total=count_rows(self.path))
        bar = self._bar
        return lambda n: bar.advance(task, n)

    def __exit__(self, *_exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()
