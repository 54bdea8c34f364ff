"""Event delivery latency (issue 13 §6): from the commit of a TMF639 create to the hub listener's receipt.

How it runs (``make bench BENCH=events``):

1. A fresh migrated database (as ``bench.resource`` makes it: a temporary SQLite file, or ``<name>_bench``
   next to the PostgreSQL database of ``DATABASE_URL``, dropped afterwards).
2. **PostgreSQL**: the API served as ``provisio serve`` serves it, with ``PROVISIO_API_DISPATCH=0`` so that it
   does not deliver, and one ``provisio worker`` in another process (default ``PROVISIO_DISPATCH_INTERVAL``,
   0.5 s): what reaches the listener within a few ms went API commit -> NOTIFY -> the worker's LISTEN ->
   claim -> POST. **SQLite**: one process, the API's in-process dispatcher woken by its own commit (the
   single-process path SQLite runs; there is no worker process to wake).
3. A listener (a threaded ``http.server`` on 127.0.0.1 in this process) is registered with ``POST /hub``.
4. ``events.delivery.p50`` / ``.p95``: ``DELIVERIES`` creates from one client, one at a time, each awaited at
   the listener before the next after a seeded pause of 0-20 ms (so the worker is idle each time: the wake-up
   path, not a busy loop). Latency = the listener's wall clock at receipt minus the event's ``eventTime``,
   which the use case takes just before its commit (same machine, same clock, millisecond resolution): an
   upper bound of commit -> receipt by the commit's own duration and up to 1 ms of rounding.
5. ``events.delivery.load.p50`` / ``.p95``: the same latency while ``LOAD_CONCURRENCY`` clients create as fast
   as they can (``LOAD_REQUESTS`` creates): queueing and coalescing under load.
6. Baselines, same run, same machine: ``baseline.pg_notify_post.p50/.p95`` (PostgreSQL): a bare NOTIFY from one
   connection, a thread LISTENing on another that POSTs (httpx) to the same listener: the floor of the
   cross-process path. ``baseline.thread_post.p50/.p95`` (SQLite): a ``threading.Event`` wakes a thread that
   POSTs: the floor of the single-process path. Ratio = baseline / value (higher is better).

Every wait is bounded; traffic goes to 127.0.0.1 only.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from bench.common import PROJECT_ROOT, HttpClient, Record, backend_name, summary_ms, throughput, uvicorn_process
from bench.resource import BASE, CATEGORIES, STATUSES, fresh_database, resource_body
from tests.support.ports import free_port

logger = logging.getLogger(__name__)

DELIVERIES = 200
WARM_UP = 20
LOAD_REQUESTS, LOAD_CONCURRENCY, LOAD_MAX_SECONDS = 400, 4, 30.0
BASELINE_SAMPLES = 200
WAIT_SECONDS = 10.0  # per awaited delivery
SEED = 688

HUB = "/tmf-api/resourceInventoryManagement/v4/hub"


class TimingListener:
    """Records the wall-clock receipt time of every event POSTed to it, by ``eventId`` (or body ``id``)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.received: dict[str, float] = {}
        self.bodies: dict[str, dict[str, Any]] = {}
        self._condition = threading.Condition()
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                now = time.time()
                key = str(body.get("eventId") or body.get("id"))
                with listener._condition:
                    listener.received.setdefault(key, now)
                    listener.bodies.setdefault(key, body)
                    listener._condition.notify_all()
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/listener"

    def __enter__(self) -> TimingListener:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def wait_for(self, predicate: Callable[[], bool], timeout: float = WAIT_SECONDS) -> None:
        deadline = time.monotonic() + timeout
        with self._condition:
            while not predicate():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise RuntimeError(f"the listener did not get the expected events within {timeout} s")
                self._condition.wait(remaining)

    def count(self) -> int:
        with self._condition:
            return len(self.received)


def event_latencies(listener: TimingListener, resource_names: set[str] | None = None) -> list[float]:
    """Receipt minus ``eventTime`` (seconds) of each create event received (of the given resources, if named)."""
    samples = []
    with listener._condition:
        items = [(listener.bodies[key], received) for key, received in listener.received.items()]
    for body, received in items:
        name = (body.get("event") or {}).get("resource", {}).get("name")
        if body.get("eventType") != "ResourceCreateEvent":
            continue
        if resource_names is not None and name not in resource_names:
            continue
        published = datetime.fromisoformat(str(body["eventTime"]).replace("Z", "+00:00")).timestamp()
        samples.append(received - published)
    return samples


# ------------------------------------------------------------------------------------------- processes


@contextlib.contextmanager
def worker_process(env: dict[str, str], timeout: float = 60.0) -> Iterator[None]:
    """``provisio worker`` in a child process, yielded once it LISTENs; its log is shown if the run fails."""
    with tempfile.NamedTemporaryFile(prefix="bench-worker-", suffix=".log") as log:
        child = subprocess.Popen(
            [sys.executable, "-m", "server.cli", "worker"],
            cwd=PROJECT_ROOT,
            env={**os.environ, **env, "LOG_LEVEL": "INFO"},
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + timeout
            while "listening for event notifications" not in Path(log.name).read_text(errors="replace"):
                if child.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the worker did not start listening")
                time.sleep(0.05)
            yield
        except BaseException:
            log.flush()
            print(f"--- worker log (tail) ---\n{Path(log.name).read_text(errors='replace')[-3000:]}", file=sys.stderr)
            raise
        finally:
            child.terminate()
            try:
                child.wait(15)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()


# ---------------------------------------------------------------------------------------------- phases


def measure_idle_deliveries(port: int, listener: TimingListener, count: int, prefix: str) -> list[float]:
    """``count`` creates one at a time, each awaited at the listener; returns their latencies (seconds)."""
    rng = random.Random(SEED)
    client = HttpClient(port)
    names: set[str] = set()
    try:
        for index in range(count):
            name = f"{prefix}-{index}"
            expected = listener.count() + 1
            body = resource_body(name, CATEGORIES[index % 5], STATUSES[index % 6], index)
            response = client.request("POST", BASE, body)
            if response.status != 201:
                raise RuntimeError(f"POST {BASE} -> {response.status}: {response.body[:300]!r}")
            names.add(name)
            listener.wait_for(lambda expected=expected: listener.count() >= expected)  # type: ignore[misc]
            time.sleep(rng.random() * 0.02)  # let the worker go idle: measure the wake-up, not a busy loop
    finally:
        client.close()
    return event_latencies(listener, names)


def measure_loaded_deliveries(port: int, listener: TimingListener) -> list[float]:
    before = listener.count()
    _, done = throughput(
        port,
        lambda i: ("POST", BASE, resource_body(f"load-{i}", CATEGORIES[i % 5], STATUSES[i % 6], i)),
        total=LOAD_REQUESTS,
        concurrency=LOAD_CONCURRENCY,
        max_seconds=LOAD_MAX_SECONDS,
        expect=201,
    )
    listener.wait_for(lambda: listener.count() >= before + done, timeout=max(WAIT_SECONDS, done * 0.1))
    return event_latencies(listener, {f"load-{i}" for i in range(done)})


def baseline_pg_notify_post(url: str, listener: TimingListener, samples: int) -> list[float]:
    """NOTIFY on one connection -> a LISTENing thread POSTs to the listener: the floor of the worker's path."""
    from server.db import make_engine
    from server.wakeup import connector

    engine = make_engine(url)
    connect = connector(engine)  # dedicated autocommit connections, as the worker's own
    sender, receiver = connect(), connect()
    receiver.execute("LISTEN bench_baseline")
    stop = threading.Event()

    def relay() -> None:
        with httpx.Client(timeout=5.0) as http:
            while not stop.is_set():
                for notification in receiver.notifies(timeout=0.2):
                    http.post(listener.url, json={"id": notification.payload})

    thread = threading.Thread(target=relay, daemon=True)
    thread.start()
    sent: dict[str, float] = {}
    try:
        for index in range(samples):
            key = f"notify-{index}"
            sent[key] = time.time()
            sender.execute("SELECT pg_notify('bench_baseline', %s)", (key,))
            listener.wait_for(lambda key=key: key in listener.received)  # type: ignore[misc]
    finally:
        stop.set()
        thread.join(5)
        sender.close()
        receiver.close()
        engine.dispose()
    return [listener.received[key] - moment for key, moment in sent.items()]


def baseline_thread_post(listener: TimingListener, samples: int) -> list[float]:
    """A threading.Event wakes a thread that POSTs to the listener: the floor of the single-process path."""
    wake, stop = threading.Event(), threading.Event()
    current: list[str] = []

    def relay() -> None:
        with httpx.Client(timeout=5.0) as http:
            while not stop.is_set():
                if wake.wait(0.2):
                    wake.clear()
                    http.post(listener.url, json={"id": current[-1]})

    thread = threading.Thread(target=relay, daemon=True)
    thread.start()
    sent: dict[str, float] = {}
    try:
        for index in range(samples):
            key = f"thread-{index}"
            current.append(key)
            sent[key] = time.time()
            wake.set()
            listener.wait_for(lambda key=key: key in listener.received)  # type: ignore[misc]
    finally:
        stop.set()
        thread.join(5)
    return [listener.received[key] - moment for key, moment in sent.items()]


def run(record: Record) -> None:
    postgres = backend_name() == "postgresql"
    with (
        tempfile.TemporaryDirectory(prefix="provisio-bench-data-") as data_dir,
        fresh_database() as url,
        TimingListener() as listener,
    ):
        env = {"DATABASE_URL": url, "PROVISIO_DATA_DIR": data_dir, "LOG_LEVEL": "WARNING"}
        if postgres:
            env["PROVISIO_API_DISPATCH"] = "0"  # the worker process delivers, woken by NOTIFY
        with contextlib.ExitStack() as stack:
            port = stack.enter_context(
                uvicorn_process("server.app:create_app", factory=True, env=env, ready_path="/health")
            )
            if postgres:
                stack.enter_context(worker_process(env))
            client = HttpClient(port)
            try:
                hub_body = {"callback": listener.url, "query": "eventType=ResourceCreateEvent"}
                response = client.request("POST", HUB, hub_body)
                if response.status != 201:
                    raise RuntimeError(f"POST {HUB} -> {response.status}: {response.body[:300]!r}")
            finally:
                client.close()
            measure_idle_deliveries(port, listener, WARM_UP, "warm")
            idle = summary_ms(measure_idle_deliveries(port, listener, DELIVERIES, "idle"))
            loaded = summary_ms(measure_loaded_deliveries(port, listener))
        if postgres:
            baseline_name = "baseline.pg_notify_post"
            baseline = summary_ms(baseline_pg_notify_post(url, listener, BASELINE_SAMPLES))
        else:
            baseline_name = "baseline.thread_post"
            baseline = summary_ms(baseline_thread_post(listener, BASELINE_SAMPLES))

    path = "API and worker processes, NOTIFY" if postgres else "one process (SQLite), in-process wake-up"
    logger.info("delivery (%s): idle p50 %.1f p95 %.1f ms; loaded p50 %.1f p95 %.1f ms; %s p50 %.2f p95 %.2f ms",
                path, idle["p50"], idle["p95"], loaded["p50"], loaded["p95"], baseline_name, baseline["p50"],
                baseline["p95"])  # fmt: skip
    for q in ("p50", "p95"):
        record(f"{baseline_name}.{q}", baseline[q], "ms", higher_is_better=False)
    for q in ("p50", "p95"):
        record(f"events.delivery.{q}", idle[q], "ms", f"{baseline_name}.{q}", baseline[q], higher_is_better=False)
    for q in ("p50", "p95"):
        record(
            f"events.delivery.load.{q}", loaded[q], "ms", f"{baseline_name}.{q}", baseline[q], higher_is_better=False
        )
