"""The benchmarks' CPU meter counts the time of threads that have ended (``bench.common.process_cpu_seconds``)."""

from __future__ import annotations

import os
import threading
import time

from bench.common import process_cpu_seconds


def _spin(seconds: float) -> None:
    deadline = time.process_time() + seconds
    while time.process_time() < deadline:
        pass


def test_cpu_of_a_thread_that_has_ended_still_counts() -> None:
    before = process_cpu_seconds(os.getpid())
    assert before is not None
    worker = threading.Thread(target=_spin, args=(0.3,))
    worker.start()
    worker.join()  # a thread pool retires idle workers the same way
    after = process_cpu_seconds(os.getpid())
    assert after is not None
    assert after - before >= 0.25
