"""The ``provisio`` command: serve the API, migrate the database, run workers and the simulated network.

    provisio serve [--workers N]        # uvicorn on HOST:PORT (default 127.0.0.1:8080); N API processes
    provisio db upgrade [REV]           # alembic upgrade (default: head)
    provisio db downgrade REV           # alembic downgrade
    provisio db current                 # the revision the database is at
    provisio db revision -m MSG [--autogenerate]
    provisio db create [--recreate]     # PostgreSQL: create the database named in DATABASE_URL (+ PostGIS)
    provisio worker                     # background workers (event dispatcher) without the HTTP API
    provisio sim --devices N ...        # the simulated network: forwards to ``python -m simulators``
    provisio run                        # what ``make run`` calls: migrate, simulators (supervised), serve
    provisio token create|list|revoke   # API tokens (server/auth/cli.py)
    provisio numbers import FILE.csv    # number blocks, assignments, ported numbers (server/numbers_cli.py)
    provisio cpe import FILE.csv        # CPE units into stock (server/cpe_cli.py)
    provisio ip import FILE.csv         # prefixes, addresses, VLANs (server/ip_cli.py)
    provisio catalog load [FILE.yaml]   # offerings, prices, specifications, decomposition rules (server/catalog_cli.py)

Configuration comes from the environment (server/settings.py). Every command that uses the database
prints which one (``database: ...``); only ``db upgrade``/``db revision`` and ``run`` create an embedded
SQLite file, the others refuse to start without one. ``run`` holds ``<data dir>/provisio.lock`` while it
(and its simulators) run, so a second ``run`` on the same data dir refuses before touching anything.
The server side never imports ``simulators`` (import-linter enforces it): ``sim`` and ``run`` start it as
a separate process.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import fcntl
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from server.settings import Settings

logger = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SIM_DEVICES = 6
LOCK_FILE = "provisio.lock"
SIMULATORS_PROG = "SIMULATORS_PROG"  # the simulators' parser takes its prog from it (simulators/cli.py)
EXIT_USAGE = 2  # argparse's status for a command line that cannot work


# --------------------------------------------------------------------------------------------- alembic


def migrations_dir() -> Path:
    """The alembic script directory: next to the ``server`` package (source tree, editable install,
    container image) or in the current directory."""
    for candidate in (PROJECT_ROOT / "migrations", Path.cwd() / "migrations"):
        if (candidate / "env.py").is_file():
            return candidate
    raise SystemExit("provisio: cannot find the migrations directory (run from the source tree)")


def alembic_config(database_url: str | None = None) -> Any:
    """An alembic Config that needs no alembic.ini: the script location is found from the package and the
    database URL comes from ``DATABASE_URL`` (via server.settings) unless given."""
    from alembic.config import Config

    ini = PROJECT_ROOT / "alembic.ini"
    config = Config(str(ini)) if ini.is_file() else Config()
    config.set_main_option("script_location", str(migrations_dir()))
    if database_url:
        # ConfigParser interpolation: a literal % in a password must be doubled.
        config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def describe_database(database_url: str) -> str:
    """The URL without its password, and for SQLite the file path."""
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        return f"SQLite file {Path(url.database or ':memory:').resolve()}"
    return f"{url.get_backend_name()} {url.render_as_string(hide_password=True)}"


def sqlite_file(database_url: str) -> Path | None:
    """The file of a SQLite URL (None for PostgreSQL and for an in-memory database)."""
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database).resolve()


def announce_database(settings: Settings) -> None:
    """Every command that uses the database says which one, before it does anything with it."""
    print(f"database: {describe_database(settings.database_url)}", flush=True)


def require_database(settings: Settings, command: str) -> None:
    """Refuse to run ``command`` on an embedded database that does not exist yet: connecting would create an
    empty SQLite file (and its directory), which is never what a read-only or serving command means."""
    path = sqlite_file(settings.database_url)
    if path is not None and not path.is_file():
        raise SystemExit(
            f"provisio {command}: no database at {path} (data dir {settings.data_dir}); "
            "`provisio db upgrade` creates it, `make run` does it for you; "
            "set PROVISIO_DATA_DIR or DATABASE_URL to use another one"
        )


def db_upgrade(settings: Settings, revision: str = "head") -> None:
    from alembic import command

    command.upgrade(alembic_config(settings.database_url), revision)


def db_create(database_url: str, *, recreate: bool) -> str:
    """Create the PostgreSQL database named in the URL (and the PostGIS extension). SQLite needs nothing."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        return "SQLite: the file is created on first use; nothing to do"
    name = url.database
    if not name:
        raise SystemExit("provisio db create: DATABASE_URL names no database")
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            exists = connection.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).scalar()
            quoted = connection.dialect.identifier_preparer.quote(name)
            if exists and recreate:
                connection.execute(text(f"DROP DATABASE {quoted} WITH (FORCE)"))
                exists = None
            if not exists:
                connection.execute(text(f"CREATE DATABASE {quoted}"))
    finally:
        admin.dispose()
    target = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with target.connect() as connection:
            connection.execute(text("CREATE EXTENSION IF NOT EXISTS postgis"))
    finally:
        target.dispose()
    return f"database {name} ready (PostGIS enabled)"


# ---------------------------------------------------------------------------------------------- commands


def cmd_serve(args: argparse.Namespace) -> int:
    settings = _settings(args)
    check_api_processes(settings, args.workers)
    require_database(settings, "serve")
    ensure_port_free(settings.host, settings.port)
    announce_database(settings)
    print_banner(settings)
    serve_api(settings, args.workers)
    return 0


def cmd_db(args: argparse.Namespace) -> int:
    from alembic import command

    settings = Settings.from_env()
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    if args.db_command == "create":
        print(db_create(settings.database_url, recreate=args.recreate))
        return 0
    announce_database(settings)
    if args.db_command in ("current", "downgrade"):  # they read what is there; creating it would be a lie
        require_database(settings, f"db {args.db_command}")
    config = alembic_config(settings.database_url)
    if args.db_command == "upgrade":
        command.upgrade(config, args.revision)
    elif args.db_command == "downgrade":
        command.downgrade(config, args.revision)
    elif args.db_command == "current":
        command.current(config, verbose=args.verbose)
    elif args.db_command == "history":
        command.history(config, verbose=args.verbose)
    elif args.db_command == "revision":
        command.revision(config, message=args.message, autogenerate=args.autogenerate, rev_id=args.rev_id)
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    """Run the background workers (the event dispatcher's standalone loop) without the HTTP API, until
    SIGINT/SIGTERM. Any number of workers may run beside the API on PostgreSQL (rows are claimed with
    ``FOR UPDATE SKIP LOCKED``); on SQLite run one."""
    from server import deps, workers
    from server.db import make_engine, make_session_factory
    from server.logs import configure_logging

    settings = Settings.from_env()
    require_database(settings, "worker")
    announce_database(settings)
    configure_logging(settings.log_level)
    engine = make_engine(settings.database_url)
    session_factory = make_session_factory(engine)
    container = deps.Container(settings=settings, engine=engine, session_factory=session_factory)
    deps.configure(container)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    logger.info("worker started on %s", describe_database(settings.database_url))
    try:
        workers.run_standalone(container, stop)
    finally:
        engine.dispose()
    logger.info("worker stopped")
    return 0


def simulator_command(sim_args: Sequence[str]) -> list[str]:
    return [sys.executable, "-m", "simulators", *sim_args]


def cmd_sim(args: argparse.Namespace) -> int:
    """Forward to ``python -m simulators`` in a child process (never imported: they meet over sockets)."""
    sim_args = list(args.sim_args)
    if sim_args[:1] == ["--"]:
        sim_args = sim_args[1:]
    env = {**os.environ, SIMULATORS_PROG: "provisio sim"}  # its --help and errors name our command
    with subprocess.Popen(simulator_command(sim_args), env=env) as child:
        # The child shares our terminal and gets Ctrl-C itself; forward SIGTERM so `kill` stops both.
        signal.signal(signal.SIGTERM, lambda *_: child.send_signal(signal.SIGTERM))
        while True:
            try:
                return child.wait()
            except KeyboardInterrupt:
                continue  # the child got the same SIGINT; wait for it to shut down cleanly


def cmd_run(args: argparse.Namespace) -> int:
    """Migrate, start the simulated network under supervision, serve; Ctrl-C stops everything.

    Before it touches anything it takes the data dir's lock and checks that the port is free, so a second
    ``run`` (same data dir or same port) says who is in the way and leaves the first one's state alone."""
    settings = _settings(args)
    check_api_processes(settings, args.workers)
    lock = DataDirLock(settings.data_dir)
    lock.acquire(command="provisio run", url=f"http://{_display_host(settings.host)}:{settings.port}/")
    ensure_port_free(settings.host, settings.port)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    announce_database(settings)
    db_upgrade(settings)
    admin_key, admin_file = (None, None)
    if settings.auth.enabled:
        from server.auth.cli import ensure_admin_token

        admin_key, admin_file = ensure_admin_token(settings)
    from server.catalog_cli import SHIPPED_CATALOG, load_catalog

    print(load_catalog(settings, SHIPPED_CATALOG), flush=True)  # idempotent: a re-run changes nothing

    supervisor: SimulatorSupervisor | None = None
    if args.sim_devices > 0:
        sim_dir = settings.data_dir / "sim"
        supervisor = SimulatorSupervisor(
            simulator_command([
                "--devices", str(args.sim_devices), "--profile", "mixed",
                "--state-dir", str(sim_dir), "--manifest", str(sim_dir / "manifest.json"),
            ]),
            sim_dir,
            pass_fds=lock.inherited_fds(),  # the simulators hold the lock until they have cleaned up
        )  # fmt: skip
        supervisor.start()
        manifest = supervisor.wait_ready(timeout=60)
        if manifest:
            print(f"simulated network: {args.sim_devices} devices, manifest {manifest}", flush=True)
            from server.devices_cli import register_simulated_network

            print(register_simulated_network(settings, Path(manifest)), flush=True)
        else:
            print(f"simulated network: not ready (see {supervisor.log_path}); the API runs without it", flush=True)
    print_banner(settings, admin_key=admin_key, admin_file=admin_file)
    try:
        serve_api(settings, args.workers)
    finally:
        if supervisor is not None:
            supervisor.stop()
        lock.release()
    return 0


# ------------------------------------------------------------------------------------- serving processes


def check_api_processes(settings: Settings, workers: int) -> None:
    """Several API processes need PostgreSQL. On SQLite every write, in every process, takes the one file
    lock, so a second process adds no write throughput and turns lock waits into "database is locked"
    failures under load; refuse rather than pretend (README, "Several processes")."""
    if workers < 1:
        raise SystemExit(f"provisio: --workers must be at least 1, not {workers}")
    if workers > 1 and settings.is_sqlite:
        print(
            f"provisio: --workers {workers} needs PostgreSQL (DATABASE_URL=postgresql+psycopg://...); "
            f"this is the embedded SQLite database ({describe_database(settings.database_url)}), "
            "which serves from one API process: run without --workers",
            file=sys.stderr,
        )
        raise SystemExit(EXIT_USAGE)


def serve_api(settings: Settings, workers: int = 1) -> None:
    """uvicorn serving ``server.app:create_app``; with ``workers`` > 1 uvicorn's own process manager
    (``uvicorn.supervisors.Multiprocess``: one listening socket, N worker processes, a dead one replaced,
    SIGINT/SIGTERM stop them all), each process with its own app, pool and in-process dispatcher."""
    import uvicorn

    uvicorn.run(
        "server.app:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=workers,
        log_level=settings.log_level.lower(),
        # server.logs configures the root logger; keep uvicorn's access log off it unless debugging.
        access_log=settings.log_level == "DEBUG",
    )


def ensure_port_free(host: str, port: int) -> None:
    """Fail before anything starts if HOST:PORT cannot be bound (uvicorn would find out only after the
    simulators started), naming the process that listens there when this user may see it."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds: TIME_WAIT is no obstacle
        try:
            probe.bind((host, port))
        except OSError as error:
            holder = listening_process(port)
            who = f" by {holder}" if holder else ""
            raise SystemExit(
                f"provisio: cannot listen on {host}:{port}: {error.strerror or error}; the port is in use{who}. "
                "Stop it or pick another port (PORT=...)"
            ) from None


def listening_process(port: int) -> str | None:
    """'pid 1234 (cmdline)' of the process listening on TCP ``port`` (Linux /proc; None if unknown)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                local, state, inode = fields[1], fields[3], fields[9]
                if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:  # 0A = LISTEN
                    inodes.add(f"socket:[{inode}]")
    if not inodes:
        return None
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            for fd in (proc / "fd").iterdir():
                if os.readlink(fd) in inodes:
                    return f"pid {proc.name} ({_cmdline(int(proc.name))})"
    return None


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return "?"


class DataDirBusy(SystemExit):
    """Another process holds the data dir's lock."""


class DataDirLock:
    """An exclusive ``flock`` on ``<data dir>/provisio.lock``: one ``provisio run`` per data dir, since it
    migrates the database and owns the simulator fleet in ``<data dir>/sim``. The kernel drops the lock when
    the last process holding it exits (however it exits), so a crash leaves no stale lock to clean up; the
    file's content only says who holds it, for the message a second instance prints. The file is never
    deleted: unlinking a lock file another process is about to open would let two holders in."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / LOCK_FILE
        self._fd: int | None = None

    def acquire(self, *, command: str, url: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 4096).decode(errors="replace")
            os.close(fd)
            raise DataDirBusy(self._busy_message(holder)) from None
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps({"pid": os.getpid(), "command": command, "url": url}).encode() + b"\n")
        self._fd = fd

    def inherited_fds(self) -> tuple[int, ...]:
        """The lock's descriptor, for children that must keep the data dir locked until they exit."""
        return (self._fd,) if self._fd is not None else ()

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def _busy_message(self, holder: str) -> str:
        try:
            owner = json.loads(holder)
            who = f"{owner['command']} (pid {owner['pid']}, serving {owner['url']})"
        except (ValueError, KeyError, TypeError):
            who = "another provisio process"
        return (
            f"provisio run: {who} is already using the data dir {self.path.parent} (lock {self.path}); "
            "nothing was started or changed. Stop it first, or give this one its own PROVISIO_DATA_DIR"
        )


RED, RESET = "\033[1;31m", "\033[0m"


def print_banner(settings: Settings, *, admin_key: str | None = None, admin_file: Path | None = None) -> None:
    """Where everything is; with ``provisio run``'s admin token (its key only on the start that created
    it) and curl examples that use it. ``PROVISIO_AUTH=off`` is said in red."""
    from server.apis import APIS

    base = f"http://{_display_host(settings.host)}:{settings.port}"
    lines = [
        "",
        f"Provisio on {base}  (Ctrl-C stops it)",
        f"  landing page   {base}/",
        f"  health         {base}/health",
    ]
    for api in APIS:
        lines += [
            f"  {api.title}",
            f"    explorer     {base}{api.base_path}/ui/",
            f"    spec         {base}{api.base_path}/openapi.json",
        ]
    if not settings.auth.enabled:
        lines += [
            "",
            f"{RED}WARNING: PROVISIO_AUTH=off: anyone who can reach {base} can read and change everything.{RESET}",
        ]
        lines += [f"{RED}         For local experiments only; unset PROVISIO_AUTH to require credentials.{RESET}"]
    elif admin_file is not None:
        lines += [""]
        if admin_key is not None:
            lines += [
                f"admin API token (shown once; kept in {admin_file}, mode 0600):",
                f"  {admin_key}",
                "  explorer: Authorize -> apiToken -> 'Token <key>'",
            ]
        else:
            lines += [f"admin API token: in {admin_file} (mode 0600); `provisio token create` makes others"]
        ri = f"{base}/tmf-api/resourceInventoryManagement/v4"
        lines += [
            "try:",
            f"  TOKEN=$(cat {admin_file})",
            f"  curl -s -H \"Authorization: Token $TOKEN\" '{ri}/resource?fields=name'",
            f'  curl -s -X POST {ri}/resource -H "Authorization: Token $TOKEN" \\',
            '       -H \'Content-Type: application/json\' -d \'{"name": "lo0 192.0.2.1", "category": "ipAddress"}\'',
        ]
    print("\n".join(lines) + "\n", flush=True)


def _display_host(host: str) -> str:
    return "127.0.0.1" if host in ("0.0.0.0", "") else (f"[{host}]" if ":" in host else host)


def _settings(args: argparse.Namespace) -> Settings:
    settings = Settings.from_env()
    changes: dict[str, Any] = {}
    if getattr(args, "host", None):
        changes["host"] = args.host
    if getattr(args, "port", None):
        changes["port"] = args.port
    if changes:
        import dataclasses

        settings = dataclasses.replace(settings, **changes)
        # create_app reads the environment again in the uvicorn factory: keep both in step.
        os.environ["HOST"], os.environ["PORT"] = settings.host, str(settings.port)
    return settings


# ------------------------------------------------------------------------------------ simulator supervision


class SimulatorSupervisor:
    """Keeps ``python -m simulators`` running beside the API: restarted with backoff if it dies,
    stopped (SIGTERM, then SIGKILL) with the server. It runs in its own session so that Ctrl-C in the
    terminal reaches only us and we decide the order of shutdown; PR_SET_PDEATHSIG makes the kernel stop
    it if we are killed outright."""

    def __init__(
        self, command: Sequence[str], state_dir: Path, *, max_backoff: float = 30.0, pass_fds: Sequence[int] = ()
    ) -> None:
        self.command = list(command)
        self.pass_fds = tuple(pass_fds)
        self.state_dir = state_dir
        self.log_path = state_dir / "simulators.log"
        self.max_backoff = max_backoff
        self.restarts = 0
        self.manifest: str | None = None
        self._ready = threading.Event()
        self._settled = threading.Event()  # ready, or the first attempt ended: stop waiting either way
        self._stopping = threading.Event()
        self._child: subprocess.Popen[bytes] | None = None
        self._thread = threading.Thread(target=self._supervise, name="simulator-supervisor", daemon=True)

    def start(self) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self._thread.start()

    def wait_ready(self, timeout: float) -> str | None:
        """The manifest path once every device listens; None if the first attempt died or timed out."""
        self._settled.wait(timeout)
        return self.manifest if self._ready.is_set() else None

    @property
    def pid(self) -> int | None:
        return self._child.pid if self._child is not None else None

    def stop(self, timeout: float = 10.0) -> None:
        self._stopping.set()
        child = self._child
        if child is not None and child.poll() is None:
            child.terminate()
            try:
                child.wait(timeout)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        self._thread.join(timeout)

    def _supervise(self) -> None:
        backoff = 1.0
        while not self._stopping.is_set():
            started = time.monotonic()
            returncode = self._run_once()
            if self._stopping.is_set():
                return
            # A child that lived a while gets restarted quickly; one that keeps dying backs off.
            backoff = 1.0 if time.monotonic() - started > 60 else min(backoff * 2, self.max_backoff)
            self.restarts += 1
            logger.warning(
                "simulators exited with %s; restarting in %.0f s (log: %s)", returncode, backoff, self.log_path
            )
            self._stopping.wait(backoff)

    def _run_once(self) -> int:
        with open(self.log_path, "ab") as log:
            child = subprocess.Popen(
                self.command,
                stdout=subprocess.PIPE,
                stderr=log,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                pass_fds=self.pass_fds,
                preexec_fn=_die_with_parent,
            )
            self._child = child
            assert child.stdout is not None
            for raw in child.stdout:
                log.write(raw)
                log.flush()
                line = raw.decode(errors="replace").strip()
                if line.startswith("manifest:"):
                    self.manifest = line.partition(":")[2].strip()
                    self._ready.set()
                    self._settled.set()
            returncode = child.wait()
            self._settled.set()
            return returncode


def _die_with_parent() -> None:
    """Runs in the child before exec: ask Linux to SIGTERM it when its parent dies (prctl PR_SET_PDEATHSIG)."""
    with contextlib.suppress(Exception):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)


# ------------------------------------------------------------------------------------------------ parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="provisio", description="Provisio: open telecom fulfilment server")
    parser.add_argument("--version", action="version", version=f"%(prog)s {package_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="serve the API with uvicorn (HOST/PORT from the environment)")
    serve.add_argument("--host", help="override HOST")
    serve.add_argument("--port", type=int, help="override PORT")
    _add_workers_argument(serve)
    serve.set_defaults(handler=cmd_serve)

    db = commands.add_parser("db", help="database migrations (alembic) and creation")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="DB_COMMAND")
    upgrade = db_commands.add_parser("upgrade", help="migrate up to REVISION (default head)")
    upgrade.add_argument("revision", nargs="?", default="head")
    downgrade = db_commands.add_parser("downgrade", help="migrate down to REVISION (base = empty)")
    downgrade.add_argument("revision")
    for name, text in (("current", "show the current revision"), ("history", "list the revisions")):
        sub = db_commands.add_parser(name, help=text)
        sub.add_argument("-v", "--verbose", action="store_true")
    revision = db_commands.add_parser("revision", help="create a new revision file")
    revision.add_argument("-m", "--message", required=True)
    revision.add_argument("--autogenerate", action="store_true", help="diff the models against the database")
    revision.add_argument("--rev-id", help="revision id (default: random)")
    create = db_commands.add_parser("create", help="PostgreSQL: create the database in DATABASE_URL with PostGIS")
    create.add_argument("--recreate", action="store_true", help="drop it first if it exists")
    db.set_defaults(handler=cmd_db)

    worker = commands.add_parser("worker", help="run the background workers (event dispatcher) without HTTP")
    worker.set_defaults(handler=cmd_worker)

    sim = commands.add_parser(
        "sim",
        help="start the simulated network (python -m simulators; see simulators/README.md)",
        add_help=False,
        prefix_chars="\0",  # hand every argument, --help included, to the simulators' own parser
    )
    sim.add_argument("sim_args", nargs=argparse.REMAINDER)
    sim.set_defaults(handler=cmd_sim)

    run = commands.add_parser("run", help="migrate, start a small simulated network and serve (make run)")
    run.add_argument("--host", help="override HOST")
    run.add_argument("--port", type=int, help="override PORT")
    run.add_argument(
        "--sim-devices",
        type=int,
        default=int(os.environ.get("PROVISIO_SIM_DEVICES", DEFAULT_SIM_DEVICES)),
        help=f"simulated devices to start beside the server, 0 for none (default {DEFAULT_SIM_DEVICES})",
    )
    _add_workers_argument(run)
    run.set_defaults(handler=cmd_run)

    from server.auth.cli import add_parser as add_token_parser

    add_token_parser(commands)
    from server.numbers_cli import add_parser as add_numbers_parser

    add_numbers_parser(commands)
    from server.cpe_cli import add_parser as add_cpe_parser

    add_cpe_parser(commands)

    from server.devices_cli import add_parser as add_devices_parser

    add_devices_parser(commands)

    from server.ip_cli import add_parser as add_ip_parser

    add_ip_parser(commands)

    from server.catalog_cli import add_parser as add_catalog_parser

    add_catalog_parser(commands)
    return parser


def _add_workers_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="API processes (uvicorn workers) sharing the port; more than 1 needs PostgreSQL (default 1)",
    )


def package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("provisio")
    except PackageNotFoundError:  # run from a tree that was never installed
        return "unknown"


def main(argv: Sequence[str] | None = None) -> int:
    # connexion imports starlette.testclient at start-up, which warns about httpx on every server start.
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient` is deprecated")
    args = build_parser().parse_args(argv)
    handler: Callable[[argparse.Namespace], int] = args.handler
    return handler(args)


if __name__ == "__main__":
    sys.exit(main())
