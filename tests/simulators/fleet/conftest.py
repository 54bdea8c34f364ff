"""A fleet of simulated devices as a real subprocess (``python -m simulators``) for the fleet tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from simulators.manifest import Manifest, read_manifest

ROOT = Path(__file__).resolve().parents[3]
START_DEADLINE_S = 60.0
STOP_DEADLINE_S = 20.0


@dataclass
class FleetProcess:
    """A running ``python -m simulators`` and its manifest."""

    process: subprocess.Popen[str]
    manifest_path: Path
    manifest: Manifest = field(init=False)
    log_path: Path | None = None

    def wait_for_manifest(self, deadline_s: float = START_DEADLINE_S) -> Manifest:
        deadline = time.monotonic() + deadline_s
        while not self.manifest_path.exists():
            if self.process.poll() is not None:
                raise AssertionError(f"simulators exited with {self.process.returncode}:\n{self.log()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"no manifest after {deadline_s} s:\n{self.log()}")
            time.sleep(0.02)
        self.manifest = read_manifest(self.manifest_path)
        return self.manifest

    def log(self) -> str:
        return self.log_path.read_text() if self.log_path and self.log_path.exists() else ""

    def stop(self, deadline_s: float = STOP_DEADLINE_S, signum: int = signal.SIGTERM) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signum)
        try:
            return self.process.wait(timeout=deadline_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(f"simulators did not stop within {deadline_s} s:\n{self.log()}") from None


def spawn_fleet(tmp_path: Path, *args: str, manifest_name: str = "manifest.json") -> FleetProcess:
    manifest_path = tmp_path / manifest_name
    log_path = tmp_path / f"{manifest_name}.log"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "simulators", "--manifest", str(manifest_path), *args],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
    return FleetProcess(process, manifest_path, log_path=log_path)


@pytest.fixture
def start_fleet(tmp_path: Path) -> Iterator[object]:
    """``start_fleet(*args)`` -> a FleetProcess whose manifest has appeared; stopped at teardown."""
    started: list[FleetProcess] = []

    def start(*args: str, name: str = "manifest.json") -> FleetProcess:
        fleet = spawn_fleet(tmp_path, *args, manifest_name=name)
        started.append(fleet)
        fleet.wait_for_manifest()
        return fleet

    yield start
    for fleet in started:
        if fleet.process.poll() is None:
            fleet.stop()
