"""``provisio devices import --manifest FILE``: every device of a ``provisio sim`` manifest (or a credentials
file of the same shape) into the physical inventory, its ports read from the device over SNMP
(``oss.site.importer`` has the rules, README "Physical inventory" the choices).

    provisio devices import --manifest manifest.json [--site NAME]
    provisio devices import --device-types cisco-c9300-48p.yaml ...   (NetBox's device-type library format)

Re-runs update, never duplicate. Exit status 0 when every device was imported, 1 when some were not (each
printed with its reason), 2 when the file cannot be read. The CLI acts as ``cli:<os user>`` in the audit trail.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from server.settings import Settings

EXIT_DEVICE_ERRORS = 1
EXIT_BAD_FILE = 2


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    devices = commands.add_parser("devices", help="physical inventory: import devices from a network manifest")
    sub = devices.add_subparsers(dest="devices_command", required=True, metavar="DEVICES_COMMAND")
    load = sub.add_parser("import", help="register every device of a manifest, ports read over SNMP; re-runs update")
    load.add_argument("--manifest", type=Path, help="a provisio sim manifest or credentials file")
    load.add_argument(
        "--device-types", type=Path, nargs="+", metavar="FILE.yaml", help="NetBox device-type library YAML files"
    )
    load.add_argument("--site", default=None, help="the site the devices stand at (default: Discovered network)")
    devices.set_defaults(handler=cmd_devices)


def cmd_devices(args: argparse.Namespace) -> int:
    from common import request_context
    from common.uow import UnitOfWork
    from oss.site import importer
    from server.cli import announce_database, require_database
    from server.db import make_engine, make_session_factory
    from server.schema import load_all_models

    settings = Settings.from_env()
    if args.manifest is None and not args.device_types:
        print("provisio devices import: give --manifest FILE and/or --device-types FILE...", file=sys.stderr)
        return EXIT_BAD_FILE
    require_database(settings, "devices import")
    announce_database(settings)
    load_all_models()
    factory = make_session_factory(make_engine(settings.database_url))
    status = 0
    if args.device_types:
        with request_context.bind(actor=f"cli:{getpass.getuser()}"[: request_context.IDENTITY_MAX_LENGTH]):
            types = importer.import_device_types(lambda: UnitOfWork(factory), args.device_types)
        print(f"  device types created:   {types.created}")
        print(f"  device types unchanged: {types.unchanged}")
        for failed in types.errors:
            print(f"{failed.device}: {failed.reason}")
        status = EXIT_DEVICE_ERRORS if types.errors else 0
    if args.manifest is None:
        return status
    if not args.manifest.is_file():
        print(f"provisio devices import: no file {args.manifest}", file=sys.stderr)
        return EXIT_BAD_FILE
    with request_context.bind(actor=f"cli:{getpass.getuser()}"[: request_context.IDENTITY_MAX_LENGTH]):
        try:
            summary = importer.import_manifest(
                lambda: UnitOfWork(factory), args.manifest, site_name=args.site or importer.DEFAULT_SITE
            )
        except importer.ImportFileError as error:
            print(f"provisio devices import: {error}", file=sys.stderr)
            return EXIT_BAD_FILE
    print(f"  devices created:   {summary.created} ({summary.ports_created} ports)")
    print(f"  devices updated:   {summary.updated}")
    print(f"  devices unchanged: {summary.unchanged}")
    print(f"  devices not imported: {len(summary.errors)}")
    for failed in summary.errors:
        print(f"device {failed.device}: {failed.reason}")
    return EXIT_DEVICE_ERRORS if summary.errors else status


def register_simulated_network(settings: Settings, manifest: Path) -> str:
    """``provisio run``: the simulated network's devices into the physical inventory (a re-run updates their
    management ports, never duplicates), so activation can target them from the first start. One line for
    the console; a device that could not be read is named there and the API starts anyway."""
    from common import request_context
    from common.uow import UnitOfWork
    from oss.site import importer
    from server.db import make_engine, make_session_factory
    from server.schema import load_all_models

    load_all_models()
    engine = make_engine(settings.database_url)
    try:
        factory = make_session_factory(engine)
        with request_context.bind(actor="system:provisio-run"):
            summary = importer.import_manifest(lambda: UnitOfWork(factory), manifest, site_name=importer.DEFAULT_SITE)
    finally:
        engine.dispose()
    line = (
        f"inventory: {summary.created} devices registered ({summary.ports_created} ports), "
        f"{summary.updated} updated, {summary.unchanged} unchanged (provisio devices import)"
    )
    return "\n".join([line, *(f"  device {failed.device}: {failed.reason}" for failed in summary.errors)])
