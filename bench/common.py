"""Shared pieces of the benchmark runner and the benchmark modules.

Every figure is one record in the format of ARCHITECTURE.md §7::

    {"metric": "resource.create", "value": 812.4, "unit": "ops/s",
     "baseline_metric": "baseline.starlette.json", "baseline": 2650.0, "ratio": 0.31,
     "backend": "sqlite", "machine": "2 cores, 24 GiB", "when": "2026-11-22T10:00:00Z"}

``ratio`` is value/baseline for throughputs and baseline/value for latencies, so higher is always better.
Traffic goes to 127.0.0.1 only, and every loop is bounded in count and in time.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import math
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from tests.support.ports import free_port

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"


class Record(Protocol):
    def __call__(
        self,
        metric: str,
        value: float,
        unit: str,
        baseline_metric: str | None = None,
        baseline: float | None = None,
        higher_is_better: bool = True,
    ) -> None: ...


# ------------------------------------------------------------------------------------------- the machine


def machine_description() -> str:
    """'2 cores, 24 GiB', read from the OS (no psutil): usable CPUs and /proc/meminfo's MemTotal."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    mem_gib: float | None = None
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_gib = int(line.split()[1]) / (1024 * 1024)  # kB -> GiB
                break
    memory = f", {round(mem_gib)} GiB" if mem_gib else ""
    return f"{cores} core{'s' if cores != 1 else ''}{memory}"


def backend_name() -> str:
    """postgresql when DATABASE_URL points at PostgreSQL, else sqlite (the embedded default)."""
    return "postgresql" if os.environ.get("DATABASE_URL", "").startswith("postgresql") else "sqlite"


def utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --------------------------------------------------------------------------------------------- recording


@dataclass
class Recorder:
    """Collects records; ``record`` is the callable handed to each module's ``run``."""

    backend: str = field(default_factory=backend_name)
    machine: str = field(default_factory=machine_description)
    records: list[dict[str, Any]] = field(default_factory=list)

    def record(
        self,
        metric: str,
        value: float,
        unit: str,
        baseline_metric: str | None = None,
        baseline: float | None = None,
        higher_is_better: bool = True,
    ) -> None:
        ratio: float | None = None
        if baseline is not None and value and baseline:
            ratio = value / baseline if higher_is_better else baseline / value
        self.records.append(
            {
                "metric": metric,
                "value": _round(value),
                "unit": unit,
                "baseline_metric": baseline_metric,
                "baseline": _round(baseline) if baseline is not None else None,
                "ratio": round(ratio, 3) if ratio is not None else None,
                "backend": self.backend,
                "machine": self.machine,
                "when": utc_now(),
            }
        )


def _round(value: float) -> float:
    """Three significant decimals is plenty for a benchmark figure."""
    if value == 0 or not math.isfinite(value):
        return value
    digits = max(0, 3 - math.floor(math.log10(abs(value))))
    return round(value, digits)


# -------------------------------------------------------------------------------------------- statistics


def percentile(samples: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) by linear interpolation, as numpy's default does."""
    if not samples:
        raise ValueError("no samples")
    ordered = sorted(samples)
    position = (len(ordered) - 1) * q / 100
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def summary_ms(samples_s: Sequence[float]) -> dict[str, float]:
    ms = [s * 1000 for s in samples_s]
    return {"p50": percentile(ms, 50), "p95": percentile(ms, 95), "mean": statistics.fmean(ms), "n": len(ms)}


# ------------------------------------------------------------------------------------------ HTTP helpers

# The credential every benchmark request carries: figures are taken with authentication on (issue 15).
# ``authorize`` fills it for the database a benchmark serves; the baseline apps ignore it.
CREDENTIAL: dict[str, str] = {}
# The HMAC secret of the run's tokens, handed to the servers it starts (``secret_env``); os.environ is left
# alone, so nothing leaks into other processes of the caller (the tooling tests run benchmarks in-process).
SECRET_KEY = os.environ.get("PROVISIO_SECRET_KEY") or secrets.token_hex(32)


def secret_env() -> dict[str, str]:
    """What a served child needs to verify the run's tokens."""
    return {"PROVISIO_SECRET_KEY": SECRET_KEY}


def authorize(database_url: str, scopes: Sequence[str] | None = None) -> dict[str, str]:
    """Create an API token in ``database_url`` (every scope unless told) and make it the credential of every
    ``HttpClient``. Its HMAC secret is ``SECRET_KEY``, which ``uvicorn_process`` hands to the servers."""
    from common.uow import UnitOfWork
    from server.auth import tokens
    from server.auth.settings import DEFAULT_ROLES, SCOPES
    from server.db import make_engine, make_session_factory

    engine = make_engine(database_url)
    try:
        with UnitOfWork(make_session_factory(engine)) as tx:
            _token, key = tokens.create_token(
                tx.session,
                tokens.server_secret(Path("."), SECRET_KEY),
                subject="bench",
                scopes=list(scopes or SCOPES),
                roles=DEFAULT_ROLES,
            )
            tx.commit()
    finally:
        engine.dispose()
    CREDENTIAL.clear()
    CREDENTIAL["Authorization"] = f"Token {key}"
    return dict(CREDENTIAL)


@dataclass
class Response:
    status: int
    body: bytes
    headers: dict[str, str]

    def json(self) -> Any:
        return json.loads(self.body)


class HttpClient:
    """A keep-alive HTTP/1.1 client on one connection (one per thread). http.client, not httpx: on two
    shared cores the client's own CPU cost comes out of the server's, and http.client costs a third."""

    def __init__(
        self, port: int, host: str = "127.0.0.1", timeout: float = 30.0, headers: dict[str, str] | None = None
    ) -> None:
        self._connection = http.client.HTTPConnection(host, port, timeout=timeout)
        self._headers = CREDENTIAL if headers is None else headers

    def request(self, method: str, path: str, body: Any = None) -> Response:
        payload = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json", "Accept": "application/json"} if payload else {}
        headers.update(self._headers)
        for attempt in (1, 2):
            try:
                self._connection.request(method, path, body=payload, headers=headers)
                raw = self._connection.getresponse()
                return Response(raw.status, raw.read(), {k.lower(): v for k, v in raw.getheaders()})
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self._connection.close()  # the server closed an idle keep-alive connection: reconnect once
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        self._connection.close()


def latencies(
    port: int,
    method: str,
    paths: Sequence[str],
    body: Any = None,
    expect: int = 200,
    headers: dict[str, str] | None = None,
) -> list[float]:
    """Sequential round trips from one client: the latency a single caller sees (seconds each); ``headers``
    replace the run's credential (``CREDENTIAL``) when given."""
    client = HttpClient(port, headers=headers)
    samples: list[float] = []
    try:
        for path in paths:
            started = time.perf_counter()
            response = client.request(method, path, body)
            samples.append(time.perf_counter() - started)
            if response.status != expect:
                raise RuntimeError(f"{method} {path} -> {response.status}: {response.body[:300]!r}")
    finally:
        client.close()
    return samples


def throughput(
    port: int,
    make_request: Callable[[int], tuple[str, str, Any]],
    *,
    total: int,
    concurrency: int,
    max_seconds: float,
    expect: int,
) -> tuple[float, int]:
    """Requests per second from ``concurrency`` keep-alive clients sending at most ``total`` requests
    (stopping early after ``max_seconds``). ``make_request(i)`` gives (method, path, body) for request i.
    Returns (req/s, requests completed). Any unexpected status fails the benchmark."""
    counter = iter(range(total))
    lock = threading.Lock()
    deadline = time.perf_counter() + max_seconds
    done = [0] * concurrency

    def worker(slot: int) -> None:
        client = HttpClient(port)
        try:
            while time.perf_counter() < deadline:
                with lock:
                    index = next(counter, None)
                if index is None:
                    return
                method, path, body = make_request(index)
                response = client.request(method, path, body)
                if response.status != expect:
                    raise RuntimeError(f"{method} {path} -> {response.status}: {response.body[:300]!r}")
                done[slot] += 1
        finally:
            client.close()

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        for future in [pool.submit(worker, slot) for slot in range(concurrency)]:
            future.result()
    elapsed = time.perf_counter() - started
    completed = sum(done)
    return completed / elapsed, completed


# ------------------------------------------------------------------------------------- served processes


# port -> pid of the child serving it, while ``uvicorn_process`` serves it.
_SERVED_PIDS: dict[int, int] = {}


def served_pid(port: int) -> int | None:
    """The pid of the ``uvicorn_process`` child serving ``port`` (None once it is stopped)."""
    return _SERVED_PIDS.get(port)


def process_cpu_seconds(pid: int) -> float | None:
    """CPU seconds a process has run (user + system, all its threads, those that have ended included), from
    /proc/<pid>/stat in clock ticks (10 ms); None off Linux."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    # After "pid (comm)": state is field 3, utime and stime fields 14 and 15 (proc(5)).
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def live_threads_cpu_seconds(pid: int) -> dict[int, float] | None:
    """CPU seconds each *live* thread of a process has run, by thread id, from /proc (nanoseconds); None
    off Linux. A thread that ends (the thread pool retires idle workers) drops out of this map."""
    seconds: dict[int, float] = {}
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(OSError, ValueError, IndexError):  # a thread that just ended
                seconds[int(task.name)] = int((task / "schedstat").read_text().split()[0]) / 1e9
    except OSError:
        return None
    return seconds


def threads_cpu_delta(started: dict[int, float], ended: dict[int, float]) -> float:
    """CPU seconds the threads alive at the end ran since ``started`` (a thread born in between counts from
    zero). A thread that ended in between is left out rather than subtracted, so the sum never goes below
    what the survivors did: the process tick counters cover the ended ones. A thread id the kernel reused
    for a new thread reads less than before: that thread counts from zero too."""
    total = 0.0
    for tid, now in ended.items():
        before = started.get(tid, 0.0)
        total += now - before if now >= before else now
    return total


@dataclass
class CpuMeter:
    """CPU milliseconds per request a served child spent on one phase: ``meter.per_request_ms(n)``.

    The larger of two readings: the live threads' nanosecond counters (precise, but a thread that ended
    during the phase drops out of them: resource.retrieve.cpu once came out negative) and the process's
    tick counters (10 ms, but they keep ended threads' time). On a machine shared with other work, CPU
    per request is the figure load moves least."""

    pid: int | None
    started: tuple[dict[int, float], float] | None = None
    spent: float | None = None

    def _read(self) -> tuple[dict[int, float], float] | None:
        if not self.pid:
            return None
        threads, process = live_threads_cpu_seconds(self.pid), process_cpu_seconds(self.pid)
        return None if threads is None or process is None else (threads, process)

    def __enter__(self) -> CpuMeter:
        self.started = self._read()
        return self

    def __exit__(self, *_exc: object) -> None:
        ended = self._read()
        if self.started is not None and ended is not None:
            self.spent = max(threads_cpu_delta(self.started[0], ended[0]), ended[1] - self.started[1])

    def per_request_ms(self, requests: int) -> float | None:
        if self.spent is None or requests <= 0:
            return None
        return 1000 * self.spent / requests


@contextlib.contextmanager
def uvicorn_process(
    app: str, *, factory: bool = False, env: dict[str, str] | None = None, ready_path: str = "/", timeout: float = 60
) -> Iterator[int]:
    """Serve ``module:attr`` with uvicorn in a child process on 127.0.0.1:<ephemeral>, one worker, access log
    off (as `provisio serve` does); yields the port once ``ready_path`` answers (``served_pid`` gives the
    child's pid), stops it afterwards.
    The server's own output goes to a log file, shown (its tail) only if the benchmark fails."""
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port)]
    command += ["--log-level", "warning", "--no-access-log"] + (["--factory"] if factory else [])
    with tempfile.NamedTemporaryFile(prefix="bench-server-", suffix=".log") as log:
        child = subprocess.Popen(
            command,
            cwd=PROJECT_ROOT,
            env={**os.environ, **secret_env(), **(env or {})},
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_until_serving(child, port, ready_path, timeout)
            _SERVED_PIDS[port] = child.pid
            yield port
        except BaseException:
            log.flush()
            tail = Path(log.name).read_text(errors="replace")[-3000:]
            print(f"--- {app} server log (tail) ---\n{tail}\n---", file=sys.stderr)
            raise
        finally:
            _SERVED_PIDS.pop(port, None)
            child.terminate()
            try:
                child.wait(15)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()


def _wait_until_serving(child: subprocess.Popen[bytes], port: int, path: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if child.poll() is not None:
            raise RuntimeError(f"server exited with {child.returncode} before it served {path}")
        with contextlib.suppress(OSError, http.client.HTTPException):
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", path)
            if connection.getresponse().status < 500:
                connection.close()
                return
        time.sleep(0.05)
    raise RuntimeError(f"server on port {port} did not answer {path} within {timeout} s")


# -------------------------------------------------------------------------------------------- the table


def format_table(records: Sequence[dict[str, Any]]) -> str:
    header = ("metric", "value", "unit", "baseline", "baseline value", "ratio", "backend")
    rows = [header] + [
        (
            r["metric"],
            f"{r['value']:g}",
            r["unit"],
            r.get("baseline_metric") or "",
            f"{r['baseline']:g}" if r.get("baseline") is not None else "",
            f"{r['ratio']:.2g}" if r.get("ratio") is not None else "",
            r.get("backend", ""),
        )
        for r in records
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    numeric = {1, 4, 5}
    lines = []
    for index, row in enumerate(rows):
        cells = [cell.rjust(widths[i]) if i in numeric else cell.ljust(widths[i]) for i, cell in enumerate(row)]
        lines.append("  ".join(cells).rstrip())
        if index == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def format_markdown(records: Sequence[dict[str, Any]]) -> str:
    units = {r["metric"]: r["unit"] for r in records}
    lines = [
        "| metric | value | baseline | ratio | backend |",
        "| --- | ---: | --- | ---: | --- |",
    ]
    for r in sorted(records, key=lambda r: (r["metric"].split(".")[0] == "baseline", r["metric"], r["backend"])):
        baseline = ""
        if r.get("baseline_metric"):
            unit = units.get(r["baseline_metric"], r["unit"])
            baseline = f"{r['baseline_metric']} {r['baseline']:g} {unit}"
        ratio = f"{r['ratio']:.2g}" if r.get("ratio") is not None else ""
        lines.append(f"| `{r['metric']}` | {r['value']:g} {r['unit']} | {baseline} | {ratio} | {r['backend']} |")
    return "\n".join(lines)
