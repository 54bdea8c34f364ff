"""TMF639 creates at 16 clients with one and two API processes (issue 13 §4: both cores, and more machines).

How it runs (``make bench BENCH=resource``, with ``DATABASE_URL`` pointing at PostgreSQL):

1. A fresh migrated database of its own (``bench.resource.fresh_database``: ``<name>_bench`` on PostgreSQL,
   a temporary file on SQLite), empty: this figure is about how creates scale with processes, not about a
   large store (``resource.create`` in bench/resource.py is measured on 100,000 rows).
2. For N = 1, then 2: the API served by **``provisio serve --workers N``**, the command operators run
   (uvicorn's process manager, N processes on one port, each with its own pool and in-process event
   dispatcher), on 127.0.0.1:<ephemeral>. The run starts once every one of the N processes has answered a
   request (``serving_processes``: the children holding an accepted connection), then 100 warm-up creates.
3. POST /resource (201, bench.resource's body) from 16 keep-alive clients in threads, ``CREATE_REQUESTS``
   or ``CREATE_MAX_SECONDS``, ops/s.

Records (ARCHITECTURE.md §7):

- ``resource.create.c16.w1``: one API process; baseline ``baseline.starlette.json.c16``, the bare Starlette
  endpoint of bench/baseline_app.py served by one uvicorn process, same body, same 16 clients, same run.
- ``resource.create.c16``: the same one-process figure under the id the issue names.
- ``resource.create.c16.w2``: two API processes; its baseline is ``resource.create.c16.w1``, so the
  ratio is the speed-up the second process brings (2.0 would be perfect scaling).
- ``resource.create.c16.wN.cpu`` (ms): CPU time of all N API processes per create (user + system, from
  /proc), and ``resource.create.c16.wN.busy`` (%): how busy the machine's cores were during the run. With
  the cores near 100 % busy a second process cannot add throughput; the CPU per create says what it costs.

On SQLite only the one-process figures are recorded: ``provisio serve --workers 2`` refuses SQLite on
purpose (README, "Several processes"). The clients, the API processes and PostgreSQL share the machine's
cores (two here), so the speed-up is bounded by what the clients and the database leave free.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from bench.common import (
    PROJECT_ROOT,
    HttpClient,
    Record,
    _wait_until_serving,
    secret_env,
    throughput,
    uvicorn_process,
)
from bench.resource import BASE, CATEGORIES, STATUSES, fresh_database, resource_body
from tests.support.ports import free_port

logger = logging.getLogger(__name__)

CONCURRENCY = 16
PROCESS_COUNTS = (1, 2)
CREATE_REQUESTS, CREATE_MAX_SECONDS = 2_000, 20.0
WARMUP_REQUESTS = 100
READY_TIMEOUT = 90.0


def run(record: Record) -> None:
    on_postgres = os.environ.get("DATABASE_URL", "").startswith("postgresql")
    baseline = measure_baseline()
    record("baseline.starlette.json.c16", baseline, "req/s")
    rates: dict[int, float] = {}
    with tempfile.TemporaryDirectory(prefix="provisio-bench-data-") as data_dir, fresh_database() as url:
        env = {"DATABASE_URL": url, "PROVISIO_DATA_DIR": data_dir, "LOG_LEVEL": "WARNING"}
        for processes in PROCESS_COUNTS if on_postgres else (1,):
            with provisio_serve(processes, env) as (port, pid):
                api_cpu, busy, postgres = CpuMeter(process_tree(pid)), MachineMeter(), CpuMeter(postgres_pids)
                client_started = time.process_time()
                rates[processes] = measure_creates(port, first_index=processes * 1_000_000)
                per_create = 1000 / max(1, CREATE_REQUESTS)  # ms per create from seconds in total
                cpu_per_create_ms = api_cpu.seconds() * per_create
                client_ms = (time.process_time() - client_started) * per_create
                postgres_ms = postgres.seconds() * per_create
                busy_share = busy.busy_percent()
            # Where the cores went (PostgreSQL's share includes any other database on the server): logged only.
            logger.info(
                "%d API process(es): %.0f creates/s at %d clients; CPU per create: API %.2f ms, clients %.2f ms, "
                "PostgreSQL %.2f ms; cores %.0f%% busy",
                processes, rates[processes], CONCURRENCY, cpu_per_create_ms, client_ms, postgres_ms, busy_share,
            )  # fmt: skip
            record(f"resource.create.c16.w{processes}.cpu", cpu_per_create_ms, "ms")
            record(f"resource.create.c16.w{processes}.busy", busy_share, "%")
    record("resource.create.c16.w1", rates[1], "ops/s", "baseline.starlette.json.c16", baseline)
    record("resource.create.c16", rates[1], "ops/s", "baseline.starlette.json.c16", baseline)
    if 2 in rates:
        record("resource.create.c16.w2", rates[2], "ops/s", "resource.create.c16.w1", rates[1])
    else:
        logger.info("resource.create.c16.w2 needs PostgreSQL (set DATABASE_URL); not measured on SQLite")


def measure_baseline() -> float:
    body = resource_body("baseline", "router", "available", 0)
    with uvicorn_process("bench.baseline_app:app", ready_path="/json") as port:
        _creates(port, "/json", body, WARMUP_REQUESTS)
        return _creates(port, "/json", body, CREATE_REQUESTS)


def warm_up(port: int, first_index: int) -> None:
    throughput(
        port,
        lambda i: _create_request(first_index - WARMUP_REQUESTS + i),
        total=WARMUP_REQUESTS,
        concurrency=CONCURRENCY,
        max_seconds=CREATE_MAX_SECONDS,
        expect=201,
    )


def _create_request(index: int) -> tuple[str, str, object]:
    return "POST", BASE, resource_body(f"scale-{index}", CATEGORIES[index % 5], STATUSES[index % 6], index)


def measure_creates(port: int, first_index: int) -> float:
    """ops/s of CREATE_REQUESTS creates (the warm-up ran in ``provisio_serve``)."""
    rate, _ = throughput(
        port,
        lambda i: _create_request(first_index + i),
        total=CREATE_REQUESTS,
        concurrency=CONCURRENCY,
        max_seconds=CREATE_MAX_SECONDS,
        expect=201,
    )
    return rate


def _creates(port: int, path: str, body: dict[str, object], total: int) -> float:
    rate, _ = throughput(
        port,
        lambda i: ("POST", path, {**body, "name": f"baseline-{i}"}),
        total=total,
        concurrency=CONCURRENCY,
        max_seconds=CREATE_MAX_SECONDS,
        expect=201,
    )
    return rate


# ------------------------------------------------------------------------------------- served processes


@contextlib.contextmanager
def provisio_serve(processes: int, env: dict[str, str]) -> Iterator[tuple[int, int]]:
    """``provisio serve --workers N`` in a child process on 127.0.0.1:<ephemeral>; yields (port, pid) once
    every API process serves and the warm-up ran, stops them all with SIGINT (as Ctrl-C does) afterwards.
    Output goes to a log file, shown (its tail) only if the benchmark fails."""
    port = free_port()
    command = [sys.executable, "-m", "server.cli", "serve", "--workers", str(processes)]
    with tempfile.NamedTemporaryFile(prefix="bench-provisio-", suffix=".log") as log:
        child = subprocess.Popen(
            command,
            cwd=PROJECT_ROOT,
            env={**os.environ, **secret_env(), **env, "HOST": "127.0.0.1", "PORT": str(port)},
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_until_serving(child, port, "/health", READY_TIMEOUT)
            wait_until_every_process_serves(child.pid, port, processes)
            warm_up(port, first_index=-processes * 1_000_000)
            yield port, child.pid
        except BaseException:
            log.flush()
            print(
                f"--- provisio serve log (tail) ---\n{Path(log.name).read_text(errors='replace')[-3000:]}\n---",
                file=sys.stderr,
            )
            raise
        finally:
            child.send_signal(signal.SIGINT)
            try:
                child.wait(30)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()


def wait_until_every_process_serves(parent_pid: int, port: int, processes: int) -> None:
    """A process that is still importing the app does not accept connections, so the one that started first
    would take every request of the measurement. Open ``CONCURRENCY`` connections, make a request on each,
    and look at which processes hold them; repeat until ``processes`` of them do."""
    deadline = time.monotonic() + READY_TIMEOUT
    while True:
        clients = [HttpClient(port) for _ in range(CONCURRENCY)]
        try:
            for client in clients:
                client.request("GET", "/health")
            serving = serving_processes(parent_pid, port)
        finally:
            for client in clients:
                client.close()
        if len(serving) >= processes:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {len(serving)} of {processes} API processes served within {READY_TIMEOUT} s")
        time.sleep(0.1)  # the next process is still starting: nothing to await from outside it


def serving_processes(parent_pid: int, port: int) -> set[int]:
    """Descendants of ``parent_pid`` holding an accepted (established) TCP connection on local ``port``
    (Linux /proc), the parent itself included when it serves alone."""
    accepted = _established_socket_inodes(port)
    return {pid for pid in {parent_pid, *_descendants(parent_pid)} if _socket_inodes(pid) & accepted}


def _descendants(pid: int) -> list[int]:
    found: list[int] = []
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            for child in (task / "children").read_text().split():
                found += [int(child), *_descendants(int(child))]
    return found


def _socket_inodes(pid: int) -> set[str]:
    inodes: set[str] = set()
    with contextlib.suppress(OSError):
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with contextlib.suppress(OSError):
                target = os.readlink(fd)
                if target.startswith("socket:["):
                    inodes.add(target[len("socket:[") : -1])
    return inodes


def _established_socket_inodes(port: int) -> set[str]:
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if fields[3] == "01" and int(fields[1].rsplit(":", 1)[1], 16) == port:  # 01 = ESTABLISHED
                    inodes.add(fields[9])
    return inodes


# ---------------------------------------------------------------------------------------------- CPU time


class CpuMeter:
    """User + system CPU seconds that a set of processes spent since the meter was made (Linux /proc).
    ``find_pids`` is asked again at the end, so processes started meanwhile (PostgreSQL backends of new
    pool connections) count in full; one that exited meanwhile is lost."""

    def __init__(self, find_pids: Callable[[], list[int]]) -> None:
        self.find_pids = find_pids
        self.start = {pid: _cpu_ticks(pid) for pid in find_pids()}

    def seconds(self) -> float:
        ticks = sum(max(0, _cpu_ticks(pid) - self.start.get(pid, 0)) for pid in self.find_pids())
        return ticks / os.sysconf("SC_CLK_TCK")


def _cpu_ticks(pid: int) -> int:
    with contextlib.suppress(OSError, IndexError, ValueError):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return 0


def process_tree(root_pid: int) -> Callable[[], list[int]]:
    return lambda: [root_pid, *_descendants(root_pid)]


def postgres_pids() -> list[int]:
    """Processes named ``postgres`` that this user can see (a local server; none for a remote one)."""
    pids = []
    for proc in Path("/proc").iterdir():
        with contextlib.suppress(OSError):
            if proc.name.isdigit() and (proc / "comm").read_text().strip() == "postgres":
                pids.append(int(proc.name))
    return pids


class MachineMeter:
    """Share of the machine's CPU time that was not idle since the meter was made (/proc/stat), in %."""

    def __init__(self) -> None:
        self.start = self._read()

    def busy_percent(self) -> float:
        (busy0, total0), (busy1, total1) = self.start, self._read()
        return 100.0 * (busy1 - busy0) / max(1, total1 - total0)

    @staticmethod
    def _read() -> tuple[int, int]:
        values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:8]]
        idle = values[3] + values[4]  # idle + iowait
        return sum(values) - idle, sum(values)
