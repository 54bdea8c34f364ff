"""``provisio catalog load FILE``: product, service and resource specifications, offerings and prices from
a catalog file (YAML) into the catalog (``bss.catalog.loader`` has the rules, README "Catalog file" the
format). A re-load of the same file changes nothing; a changed entry becomes a new version.

Exit status 0 when loaded, 2 when the file cannot be read or is not a valid catalog (nothing is written).
The CLI acts as ``cli:<os user>`` in the audit trail.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from server.settings import Settings

EXIT_BAD_FILE = 2
SHIPPED_CATALOG = Path(__file__).resolve().parent.parent / "bss" / "catalog" / "catalog.yaml"


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    catalog = commands.add_parser("catalog", help="product catalog: load a catalog file")
    sub = catalog.add_subparsers(dest="catalog_command", required=True, metavar="CATALOG_COMMAND")
    load = sub.add_parser("load", help="load a catalog file (YAML); re-loads change nothing")
    load.add_argument("file", type=Path, nargs="?", default=SHIPPED_CATALOG,
                      help=f"the catalog file (default: the shipped one, {SHIPPED_CATALOG.name})")  # fmt: skip
    catalog.set_defaults(handler=cmd_catalog)


def load_catalog(settings: Settings, path: Path) -> str:
    """Load ``path`` into the database of ``settings``; the one-line summary (``make run`` prints it)."""
    from bss.catalog import loader
    from common import request_context
    from common.uow import UnitOfWork
    from server.db import make_engine, make_session_factory
    from server.schema import load_all_models

    load_all_models()
    engine = make_engine(settings.database_url)
    try:
        factory = make_session_factory(engine)
        with request_context.bind(actor=f"cli:{getpass.getuser()}"[: request_context.IDENTITY_MAX_LENGTH]):
            summary = loader.load_file(UnitOfWork(factory), path)
    finally:
        engine.dispose()
    return (
        f"catalog {path.name}: {sum(summary.created.values())} created, {sum(summary.changed.values())} new versions, "
        f"{sum(summary.unchanged.values())} unchanged"
    )


def cmd_catalog(args: argparse.Namespace) -> int:
    from bss.catalog.errors import InvalidCatalogFile
    from server.cli import announce_database, require_database

    settings = Settings.from_env()
    require_database(settings, "catalog load")
    announce_database(settings)
    if not args.file.is_file():
        print(f"provisio catalog load: no file {args.file}", file=sys.stderr)
        return EXIT_BAD_FILE
    try:
        print(load_catalog(settings, args.file))
    except InvalidCatalogFile as error:
        print(f"provisio catalog load: {error}", file=sys.stderr)
        return EXIT_BAD_FILE
    return 0
