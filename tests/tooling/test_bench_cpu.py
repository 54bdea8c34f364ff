"""The benchmarks' CPU meter counts the time of threads that have ended (``bench.common.CpuMeter``)."""

from __future__ import annotations

import os
import threading
import time

from bench.common import CpuMeter, threads_cpu_delta


def _spin(seconds: float) -> None:
    deadline = time.thread_time() + seconds
    while time.thread_time() < deadline:
        pass


def test_cpu_of_a_thread_that_ended_during_the_phase_still_counts() -> None:
    with CpuMeter(os.getpid()) as meter:
        worker = threading.Thread(target=_spin, args=(0.3,))
        worker.start()
        worker.join()  # a thread pool retires idle workers the same way
    assert meter.spent is not None
    assert meter.spent >= 0.25


def test_a_short_phase_is_measured_to_the_nanosecond_counters() -> None:
    with CpuMeter(os.getpid()) as meter:
        _spin(0.002)  # well under one 10 ms tick
    assert meter.spent is not None
    assert meter.spent > 0


def test_a_thread_that_ended_is_left_out_not_subtracted() -> None:
    # The pytest process's own helper threads come and go; one ending mid-phase once made spent <= 0.
    started = {1: 5.0, 2: 9.0}
    ended = {1: 5.25, 3: 0.5}  # 2 ended, 3 was born
    assert threads_cpu_delta(started, ended) == 0.75


def test_a_reused_thread_id_counts_the_new_thread_from_zero() -> None:
    assert threads_cpu_delta({7: 3.0}, {7: 0.125}) == 0.125
