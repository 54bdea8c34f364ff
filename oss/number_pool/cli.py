"""``provisio numbers import FILE.csv`` (see ``oss.number_pool.importer`` for the file's columns)."""

from __future__ import annotations

import argparse
import getpass
from pathlib import Path

from common import request_context
from common.uow import UnitOfWork


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    numbers = commands.add_parser("numbers", help="number pool: import blocks, assignments and ported numbers")
    sub = numbers.add_subparsers(dest="numbers_command", required=True, metavar="NUMBERS_COMMAND")
    imported = sub.add_parser("import", help="import a CSV (kind,pool,first,last,number,customerId,serviceId)")
    imported.add_argument("file", type=Path)
    numbers.set_defaults(handler=cmd_numbers)


def cmd_numbers(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.progress import Progress

    from oss.number_pool.importer import import_rows, read_rows
    from server.cli import announce_database, require_database
    from server.db import make_engine, make_session_factory
    from server.settings import Settings

    settings = Settings.from_env()
    require_database(settings, "numbers import")
    announce_database(settings)
    if not args.file.is_file():
        raise SystemExit(f"provisio numbers import: no file {args.file}")
    factory = make_session_factory(make_engine(settings.database_url))
    rows = list(read_rows(args.file))
    console = Console(stderr=True)
    with (
        request_context.bind(actor=f"cli:{getpass.getuser()}"[: request_context.IDENTITY_MAX_LENGTH]),
        Progress(console=console, transient=True) as progress,
    ):
        task = progress.add_task(f"importing {args.file.name}", total=len(rows))
        summary = import_rows(lambda: UnitOfWork(factory), rows, progress=lambda: progress.advance(task))
    for line, reason in summary.errors:
        print(f"line {line}: {reason}")
    counts = ", ".join(f"{name} {count}" for name, count in sorted(summary.counts.items())) or "nothing"
    print(f"{args.file.name}: {summary.lines} line(s): {counts}; errors {len(summary.errors)}")
    return 1 if summary.errors else 0
