"""Project plumbing that breaks quietly: the Makefile's targets, the compose file, the import contracts."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent

REQUIRED_TARGETS = (
    "help", "venv", "install", "run", "test", "test-pg", "check",
    "lint", "format", "typecheck", "lint-imports", "bench", "migrate", "sim", "clean",
)  # fmt: skip


def test_make_help_documents_every_required_target() -> None:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    result = subprocess.run(["make", "-s", "help"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    documented = {line.split()[0] for line in result.stdout.splitlines() if line.startswith("  ")}
    assert set(REQUIRED_TARGETS) <= documented


def _compose_command() -> list[str] | None:
    """`docker compose` (the v2 plugin) where present, else Debian's `docker-compose`: both validate
    a compose file without a Docker engine."""
    docker = shutil.which("docker")
    if docker and subprocess.run([docker, "compose", "version"], capture_output=True, timeout=30).returncode == 0:
        return [docker, "compose"]
    legacy = shutil.which("docker-compose")
    return [legacy] if legacy else None


def test_docker_compose_file_is_valid_when_a_compose_client_is_present() -> None:
    command = _compose_command()
    if command is None:
        # Not a by-design skip: .ci/run installs docker-compose, so in CI a missing client fails the run.
        pytest.skip("neither `docker compose` nor `docker-compose` is installed")
    result = subprocess.run(
        [*command, "-f", str(ROOT / "docker-compose.yml"), "config", "-q"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_docker_compose_declares_database_api_worker_and_simulators() -> None:
    import yaml

    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert {"db", "api", "worker", "simulators"} <= set(compose["services"])
    assert compose["services"]["db"]["image"].startswith("postgis/postgis:15-3.4")


def test_docker_compose_scales_api_processes_and_workers_side_by_side_on_one_postgresql() -> None:
    import yaml

    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    api, worker = services["api"], services["worker"]
    assert api["command"][:3] == ["provisio", "serve", "--workers"]
    assert api["command"][3] == "${API_PROCESSES:-2}"  # more than one API process by default
    assert worker["command"] == ["provisio", "worker"]
    assert worker["deploy"]["replicas"] == "${WORKERS:-2}"
    database_urls = {api["environment"]["DATABASE_URL"], worker["environment"]["DATABASE_URL"]}
    assert len(database_urls) == 1 and database_urls.pop().startswith("postgresql+psycopg://")


def test_docker_compose_takes_the_process_counts_from_the_environment_when_a_client_is_present() -> None:
    import yaml

    command = _compose_command()
    if command is None:
        pytest.skip("neither `docker compose` nor `docker-compose` is installed")  # CI installs it
    result = subprocess.run(
        [*command, "-f", str(ROOT / "docker-compose.yml"), "config"],
        cwd=ROOT,
        env={"PATH": os.environ.get("PATH", ""), "API_PROCESSES": "4", "WORKERS": "3"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    services = yaml.safe_load(result.stdout)["services"]
    assert services["api"]["command"] == ["provisio", "serve", "--workers", "4"]
    assert services["worker"]["deploy"]["replicas"] == 3


def test_import_contracts_hold() -> None:
    result = subprocess.run([str(BIN / "lint-imports")], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "Contracts: " in result.stdout and " broken" in result.stdout


def test_ci_script_is_valid_bash() -> None:
    result = subprocess.run(["bash", "-n", str(ROOT / ".ci" / "run")], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr


def _tracked_files() -> list[Path]:
    listed = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    if listed.returncode != 0:  # an exported tree without .git: every file under the root
        return [path for path in ROOT.rglob("*") if path.is_file() and ".venv" not in path.parts]
    return [ROOT / line for line in listed.stdout.splitlines()]


# A path built from a "shared" segment (Path(...) / "shared") or a string starting with ../shared; a comment that
# cites ../shared/NOTES.md as a source is not a read.
_OUTSIDE_PATH = re.compile(r"""/ *["']shared["']|["']\.\./shared""")


def test_no_code_reads_outside_the_repository() -> None:
    """A user's clone has nothing beside it: no code, script or config may reach for ``../shared``."""
    code_suffixes = {".py", ".sh", ".toml", ".cfg", ".ini", ".yaml", ".yml", ""}
    offenders = []
    for path in _tracked_files():
        if path.suffix not in code_suffixes or not path.is_file() or "openapi/tmf" in path.as_posix():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        for match in _OUTSIDE_PATH.finditer(text):
            if path.name != "test_project_files.py":
                offenders.append(f"{path.relative_to(ROOT)}: {match.group(0)}")
    assert not offenders, offenders


def test_every_vendored_tmf_file_is_listed_with_its_source() -> None:
    vendored = ROOT / "openapi" / "tmf"
    readme = (vendored / "README.md").read_text(encoding="utf-8")
    files = sorted(path.name for path in vendored.iterdir() if path.suffix in (".json", ".yaml"))
    assert "TMF639-ResourceInventory-v4.0.0.swagger.json" in files
    assert "Apache License, Version 2.0" in readme
    assert [name for name in files if name not in readme] == []
