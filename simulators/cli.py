"""``python -m simulators`` / ``provisio sim``: start a fleet of simulated devices.

The server's CLI runs this as a subprocess (the server never imports simulators). The process
prints one ``manifest: PATH`` line on stdout once every device listens, runs until SIGINT or
SIGTERM, then closes every listener, persists device state to ``--state-dir`` and exits 0.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import resource
import signal
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from simulators.faults_file import FaultsFileError
from simulators.fleet import PROFILE_CHOICES, Fleet, FleetConfig, FleetStartError

logger = logging.getLogger("simulators")

EXIT_OK = 0
EXIT_STARTUP_FAILED = 1
EXIT_USAGE = 2
PROG_VARIABLE = "SIMULATORS_PROG"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        # `provisio sim` runs this module as a child process and names itself here, so its usage lines
        # show the command the user typed.
        prog=os.environ.get(PROG_VARIABLE) or "python -m simulators",
        description="Start N stateful simulated routers (NETCONF over SSH, SNMP) on 127.0.0.1.",
    )
    parser.add_argument("--devices", type=_positive_int, required=True, metavar="N", help="how many devices")
    parser.add_argument(
        "--profile",
        choices=PROFILE_CHOICES,
        default="mixed",
        help="device profile for every device, or 'mixed' for a seeded blend (default: mixed)",
    )
    parser.add_argument(
        "--base-port",
        type=_port,
        metavar="P",
        help="device i listens on P+2i (NETCONF) and P+2i+1 (SNMP); default: ephemeral ports",
    )
    parser.add_argument(
        "--state-dir",
        type=Path,
        metavar="DIR",
        help="keeps host keys, credentials and device state across restarts (default: none; keys live in memory)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed for the mixed blend and fault draws")
    parser.add_argument(
        "--commit-latency-ms",
        type=_non_negative_int,
        default=0,
        metavar="L",
        help="how long each commit takes, as on a real router",
    )
    parser.add_argument("--faults", type=Path, metavar="FILE", help="YAML/JSON faults per device name or glob")
    parser.add_argument("--manifest", type=Path, metavar="PATH", help="where to write the JSON manifest (mode 0600)")
    parser.add_argument(
        "--control-port", type=_port, default=0, metavar="P", help="control API port (default: ephemeral)"
    )
    parser.add_argument(
        "--name-prefix",
        metavar="PREFIX",
        help="name devices PREFIX1..PREFIXN (default: per profile, pe1, cpe1, sw1, ...)",
    )
    parser.add_argument(
        "--authorized-keys",
        type=Path,
        metavar="FILE",
        help="OpenSSH public keys (authorized_keys format) accepted for user admin on every device",
    )
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    return parser


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must not be negative")
    return value


def _port(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError("must be a port number 0..65535")
    return value


def config_from_args(args: argparse.Namespace) -> FleetConfig:
    if args.base_port and args.base_port + 2 * args.devices - 1 > 65535:
        raise ValueError(f"--base-port {args.base_port} leaves no room for {args.devices} devices")
    manifest = args.manifest
    if manifest is None:
        parent = args.state_dir or Path(tempfile.mkdtemp(prefix="provisio-sim-"))
        manifest = Path(parent) / "manifest.json"
    return FleetConfig(
        devices=args.devices,
        profile=args.profile,
        base_port=args.base_port or None,
        state_dir=args.state_dir,
        seed=args.seed,
        commit_latency_ms=args.commit_latency_ms,
        faults_file=args.faults,
        manifest=manifest.absolute(),
        control_port=args.control_port,
        name_prefix=args.name_prefix,
        authorized_keys=args.authorized_keys,
    )


def raise_open_file_limit(devices: int) -> None:
    """Each device holds a TCP listener, a UDP socket and its sessions: lift the soft fd limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = devices * 4 + 256
    if soft != resource.RLIM_INFINITY and soft < wanted:
        new_soft = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (new_soft, hard))


async def run_fleet(config: FleetConfig) -> int:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    started = time.monotonic()
    fleet = Fleet(config)
    try:
        await fleet.start()
    except (FleetStartError, FaultsFileError, OSError, ValueError) as error:
        # Expected failures (a taken port, a bad faults file, a name that cannot be a file name):
        # the reason, without a traceback.
        logger.error("fleet did not start: %s", error)
        await fleet.stop()
        return EXIT_STARTUP_FAILED
    except Exception:
        logger.exception("fleet did not start")
        await fleet.stop()
        return EXIT_STARTUP_FAILED
    logger.info(
        "%d devices up in %.2f s; control API %s", len(fleet.devices), time.monotonic() - started, fleet.control_url
    )
    # The one line a supervising process looks for; flushed so a pipe reader sees it at once.
    print(f"manifest: {config.manifest}", flush=True)
    await stop.wait()
    logger.info("signal received, shutting down")
    await fleet.stop()
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    if args.log_level != "DEBUG":
        # asyncssh logs every listener and connection at INFO: thousands of lines for a fleet.
        logging.getLogger("asyncssh").setLevel(logging.WARNING)
    try:
        config = config_from_args(args)
    except ValueError as error:
        parser.error(str(error))
    raise_open_file_limit(config.devices)
    logger.debug("simulators pid %d", os.getpid())
    try:
        return asyncio.run(run_fleet(config))
    finally:
        if args.manifest is None and args.state_dir is None:
            # The temporary directory made for the manifest; empty once the fleet removed it.
            with contextlib.suppress(OSError):
                config.manifest.parent.rmdir()
