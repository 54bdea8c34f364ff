"""The ``provisio`` command, run as a user runs it: a real process, a real database file, a real socket."""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from server.cli import SimulatorSupervisor, build_parser, describe_database
from tests.support.ports import free_port

PROVISIO = [sys.executable, "-m", "server.cli"]
HEAD_REVISION = "0001"


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "PORT", "HOST")}
    env.update({"PROVISIO_DATA_DIR": str(tmp_path / "data"), "LOG_LEVEL": "WARNING", "PYTHONUNBUFFERED": "1"})
    env.update(extra)
    return env


def _get(port: int, path: str, timeout: float = 20.0) -> tuple[int, bytes]:
    """GET once the server answers, polling until ``timeout`` (the server is starting up)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", path)
            response = connection.getresponse()
            return response.status, response.read()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _stop(process: subprocess.Popen[str], sig: int = signal.SIGINT) -> tuple[int, str]:
    process.send_signal(sig)
    output, _ = process.communicate(timeout=30)
    return process.returncode, output


def test_help_lists_every_command_when_asked() -> None:
    result = subprocess.run([*PROVISIO, "--help"], capture_output=True, text=True, timeout=60, check=True)
    for command in ("serve", "db", "worker", "sim", "run"):
        assert command in result.stdout


def test_db_upgrade_creates_the_sqlite_file_at_head_when_run_on_an_empty_data_dir(tmp_path: Path) -> None:
    env = _env(tmp_path)
    upgrade = subprocess.run([*PROVISIO, "db", "upgrade"], env=env, capture_output=True, text=True, timeout=120)
    assert upgrade.returncode == 0, upgrade.stderr
    database = tmp_path / "data" / "provisio.db"
    assert database.is_file()
    assert str(database) in upgrade.stdout  # the path is printed
    current = subprocess.run([*PROVISIO, "db", "current"], env=env, capture_output=True, text=True, timeout=120)
    assert current.returncode == 0, current.stderr
    assert f"{HEAD_REVISION} (head)" in current.stdout + current.stderr


def test_db_current_names_the_database_and_creates_nothing_when_there_is_none(tmp_path: Path) -> None:
    result = subprocess.run(
        [*PROVISIO, "db", "current"], env=_env(tmp_path), capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 1, result.stdout + result.stderr
    database = tmp_path / "data" / "provisio.db"
    assert f"database: SQLite file {database}" in result.stdout
    assert f"no database at {database}" in result.stderr and "provisio db upgrade" in result.stderr
    assert not (tmp_path / "data").exists()  # neither the file nor its directory


def test_commands_outside_make_use_the_checkouts_data_dir_not_the_home_directory(tmp_path: Path) -> None:
    """Run from elsewhere, without PROVISIO_DATA_DIR: the checkout's .data/ (what `make run` uses)."""
    env = _env(tmp_path, HOME=str(tmp_path / "home"), XDG_DATA_HOME=str(tmp_path / "home" / "share"))
    del env["PROVISIO_DATA_DIR"]
    result = subprocess.run(
        [*PROVISIO, "db", "current"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    checkout = Path(__file__).resolve().parents[2]
    assert f"database: SQLite file {checkout / '.data' / 'provisio.db'}" in result.stdout, result.stderr
    assert not (tmp_path / "home").exists()


def test_default_data_dir_is_the_user_data_dir_when_the_code_is_not_a_checkout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from server import settings

    monkeypatch.delenv("PROVISIO_DATA_DIR", raising=False)
    assert settings.default_data_dir() == settings.SOURCE_ROOT / ".data"
    assert settings.checkout_data_dir(tmp_path) is None  # e.g. site-packages: no pyproject.toml, no Makefile
    monkeypatch.setattr(settings, "SOURCE_ROOT", tmp_path)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert settings.default_data_dir() == tmp_path / "xdg" / "provisio"
    monkeypatch.setenv("PROVISIO_DATA_DIR", str(tmp_path / "mine"))
    assert settings.default_data_dir() == tmp_path / "mine"


def test_serve_refuses_to_start_without_a_database_and_creates_none(tmp_path: Path) -> None:
    port = free_port()
    result = subprocess.run(
        [*PROVISIO, "serve"], env=_env(tmp_path, PORT=str(port)), capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "no database at" in result.stderr
    assert "Provisio on" not in result.stdout
    assert not (tmp_path / "data").exists()


def test_serve_refuses_several_api_processes_on_sqlite_before_serving(tmp_path: Path) -> None:
    env = _env(tmp_path, PORT=str(free_port()))
    subprocess.run([*PROVISIO, "db", "upgrade"], env=env, capture_output=True, timeout=120, check=True)
    result = subprocess.run(
        [*PROVISIO, "serve", "--workers", "2"], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert "--workers 2 needs PostgreSQL" in result.stderr
    assert "Provisio on" not in result.stdout


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(child) for child in (task / "children").read_text().split()]
    return found


@pytest.mark.pg
def test_serve_with_workers_runs_that_many_api_processes_on_postgresql(tmp_path: Path) -> None:
    port = free_port()
    env = _env(tmp_path, PORT=str(port), DATABASE_URL=os.environ["DATABASE_URL"])
    process = subprocess.Popen(
        [*PROVISIO, "serve", "--workers", "2"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        status, _ = _get(port, "/health", timeout=60)
        assert status == 200
        deadline = time.monotonic() + 30
        while True:  # uvicorn starts its worker processes one after the other
            workers = [
                pid for pid in _children(process.pid) if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()
            ]
            if len(workers) == 2 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert len(workers) == 2
    finally:
        returncode, output = _stop(process)
    assert returncode == 0, output
    for pid in workers:  # SIGINT to the manager stops every API process
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_serve_answers_health_on_the_port_given_by_the_environment(tmp_path: Path) -> None:
    port = free_port()
    env = _env(tmp_path, PORT=str(port))
    subprocess.run([*PROVISIO, "db", "upgrade"], env=env, capture_output=True, timeout=120, check=True)
    process = subprocess.Popen(
        [*PROVISIO, "serve"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        status, body = _get(port, "/health")
        assert status == 200
        assert json.loads(body)["status"] == "ok"
    finally:
        returncode, output = _stop(process)
    assert returncode == 0, output
    assert f"http://127.0.0.1:{port}/" in output


def test_run_migrates_prints_the_urls_and_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    port = free_port()
    env = _env(tmp_path, PORT=str(port), PROVISIO_SIM_DEVICES="0")
    process = subprocess.Popen([*PROVISIO, "run"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        status, body = _get(port, "/", timeout=60)
        assert status == 200
        assert b"Provisio" in body
    finally:
        returncode, output = _stop(process)
    assert returncode == 0, output
    assert str(tmp_path / "data" / "provisio.db") in output
    assert f"http://127.0.0.1:{port}/tmf-api/resourceInventoryManagement/v4/ui/" in output
    assert "catalog catalog.yaml: " in output  # make run loads the shipped catalog (issue 20)


def test_sim_forwards_its_arguments_to_the_simulators_parser_when_asked_for_help() -> None:
    result = subprocess.run([*PROVISIO, "sim", "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: provisio sim ")  # the command the user typed, not python -m
    assert "--devices" in result.stdout


def test_version_prints_the_installed_package_version_when_asked() -> None:
    from importlib.metadata import version

    result = subprocess.run([*PROVISIO, "--version"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"provisio {version('provisio')}"


def test_sim_parser_keeps_every_argument_for_the_simulators() -> None:
    args = build_parser().parse_args(["sim", "--devices", "3", "--profile", "cpe", "-h"])
    assert args.sim_args == ["--devices", "3", "--profile", "cpe", "-h"]


def test_describe_database_hides_the_password_when_given_a_postgresql_url() -> None:
    described = describe_database("postgresql+psycopg://app:s3cret@db.example/provisio")
    assert "s3cret" not in described
    assert "db.example/provisio" in described


def _script(tmp_path: Path, body: str) -> list[str]:
    script = tmp_path / "child.py"
    script.write_text(body)
    return [sys.executable, str(script)]


def test_supervisor_restarts_the_simulators_when_they_die(tmp_path: Path) -> None:
    """A child that prints its manifest line and dies at once is started again, and again."""
    runs = tmp_path / "runs"
    command = _script(
        tmp_path,
        f"import pathlib\npathlib.Path({str(runs)!r}).open('a').write('x')\nprint('manifest: /m.json', flush=True)\n",
    )
    supervisor = SimulatorSupervisor(command, tmp_path / "state", max_backoff=0.05)
    supervisor.start()
    try:
        assert supervisor.wait_ready(timeout=30) == "/m.json"
        deadline = time.monotonic() + 30
        while len(runs.read_text()) < 3 and time.monotonic() < deadline:  # started three times
            time.sleep(0.02)
    finally:
        supervisor.stop()
    assert len(runs.read_text()) >= 3
    assert supervisor.restarts >= 2
    assert "manifest: /m.json" in (tmp_path / "state" / "simulators.log").read_text()


def test_supervisor_stops_a_running_child_with_sigterm(tmp_path: Path) -> None:
    command = _script(tmp_path, "import time\nprint('manifest: /x.json', flush=True)\ntime.sleep(120)\n")
    supervisor = SimulatorSupervisor(command, tmp_path / "state")
    supervisor.start()
    assert supervisor.wait_ready(timeout=30) == "/x.json"
    pid = supervisor.pid
    assert pid is not None
    supervisor.stop(timeout=10)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert supervisor.restarts == 0


def test_supervisor_reports_not_ready_when_the_first_attempt_fails(tmp_path: Path) -> None:
    supervisor = SimulatorSupervisor(_script(tmp_path, "raise SystemExit(3)\n"), tmp_path / "state", max_backoff=5)
    supervisor.start()
    try:
        started = time.monotonic()
        assert supervisor.wait_ready(timeout=30) is None
        assert time.monotonic() - started < 20  # it did not sit out the whole timeout
    finally:
        supervisor.stop()


def test_worker_runs_until_sigterm_and_exits_cleanly(tmp_path: Path) -> None:
    env = _env(tmp_path, LOG_LEVEL="INFO")
    subprocess.run([*PROVISIO, "db", "upgrade"], env=env, capture_output=True, timeout=120, check=True)
    process = subprocess.Popen(
        [*PROVISIO, "worker"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert process.stdout is not None
    assert process.stdout.readline().startswith("database: SQLite file ")
    started_line = process.stdout.readline()  # logged once the loop is about to run
    assert "worker started" in started_line, started_line
    assert process.poll() is None
    returncode, output = _stop(process, signal.SIGTERM)
    assert returncode == 0, output
    assert "worker stopped" in output


@pytest.mark.e2e
def test_run_starts_a_supervised_simulated_network_and_stops_it_with_the_server(tmp_path: Path) -> None:
    port = free_port()
    env = _env(tmp_path, PORT=str(port), PROVISIO_SIM_DEVICES="3")
    process = subprocess.Popen([*PROVISIO, "run"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    manifest_path = tmp_path / "data" / "sim" / "manifest.json"
    try:
        status, _ = _get(port, "/health", timeout=90)
        assert status == 200
        manifest = json.loads(manifest_path.read_text())
        simulator_pid = int(manifest["pid"])
        assert len(manifest["devices"]) == 3
        os.kill(simulator_pid, 0)  # alive while the server runs
    finally:
        returncode, output = _stop(process)
    assert returncode == 0, output
    assert f"manifest {manifest_path}" in output
    # The simulated network is in the physical inventory from the first start (issue 18 "Discovery").
    assert "inventory: 3 devices registered" in output, output
    assert "Task was destroyed" not in output, output  # the SNMP driver's private loop is closed cleanly
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            os.kill(simulator_pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    else:
        pytest.fail("the simulators outlived the server")


@pytest.mark.e2e
def test_second_run_on_the_same_data_dir_refuses_and_leaves_the_first_ones_simulators_alone(tmp_path: Path) -> None:
    port = free_port()
    first = subprocess.Popen(
        [*PROVISIO, "run"],
        env=_env(tmp_path, PORT=str(port), PROVISIO_SIM_DEVICES="1"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    manifest_path = tmp_path / "data" / "sim" / "manifest.json"
    try:
        assert _get(port, "/health", timeout=90)[0] == 200
        manifest = manifest_path.read_text()
        second = subprocess.run(
            [*PROVISIO, "run"],
            env=_env(tmp_path, PORT=str(free_port()), PROVISIO_SIM_DEVICES="1"),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert second.returncode == 1, second.stdout + second.stderr
        assert f"provisio run (pid {first.pid}, serving http://127.0.0.1:{port}/)" in second.stderr
        assert str(tmp_path / "data") in second.stderr
        assert "Provisio on" not in second.stdout and "database:" not in second.stdout  # refused before anything
        assert manifest_path.read_text() == manifest  # the first instance's fleet is untouched
        os.kill(int(json.loads(manifest)["pid"]), 0)
        assert _get(port, "/health")[0] == 200
    finally:
        returncode, output = _stop(first)
    assert returncode == 0, output


def test_run_refuses_before_migrating_or_starting_simulators_when_the_port_is_taken(tmp_path: Path) -> None:
    import socket

    with socket.socket() as occupant:
        occupant.bind(("127.0.0.1", 0))
        occupant.listen()
        port = occupant.getsockname()[1]
        result = subprocess.run(
            [*PROVISIO, "run"],
            env=_env(tmp_path, PORT=str(port), PROVISIO_SIM_DEVICES="1"),
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert f"by pid {os.getpid()} " in result.stderr  # the process that listens there
    assert not (tmp_path / "data" / "sim").exists()
    assert not (tmp_path / "data" / "provisio.db").exists()


@pytest.mark.e2e
def test_sim_runs_the_simulators_and_sigterm_stops_both_processes(tmp_path: Path) -> None:
    manifest_path = tmp_path / "sim" / "manifest.json"
    process = subprocess.Popen(
        [*PROVISIO, "sim", "--devices", "1", "--profile", "cpe", "--state-dir", str(tmp_path / "sim"),
         "--manifest", str(manifest_path), "--log-level", "WARNING"],
        env=_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    assert process.stdout is not None
    try:
        line = process.stdout.readline()
        assert line.strip() == f"manifest: {manifest_path}", line
        simulator_pid = int(json.loads(manifest_path.read_text())["pid"])
        assert simulator_pid != process.pid  # a child process, not imported
    finally:
        returncode, output = _stop(process, signal.SIGTERM)
    assert returncode == 0, output
    with pytest.raises(ProcessLookupError):
        os.kill(simulator_pid, 0)


@pytest.mark.pg
def test_db_create_recreate_gives_an_empty_database_with_postgis(tmp_path: Path) -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    base = make_url(os.environ["DATABASE_URL"])
    url = base.set(database=f"{base.database}_cli_create").render_as_string(hide_password=False)
    env = _env(tmp_path, DATABASE_URL=url)
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        for _ in range(2):  # the second run finds the table left by the first and drops it with the database
            result = subprocess.run(
                [*PROVISIO, "db", "create", "--recreate"], env=env, capture_output=True, text=True, timeout=120
            )
            assert result.returncode == 0, result.stderr
            engine = create_engine(url)
            with engine.begin() as connection:
                assert connection.execute(text("SELECT to_regclass('leftover')")).scalar() is None
                assert connection.execute(text("SELECT extname FROM pg_extension WHERE extname = 'postgis'")).scalar()
                connection.execute(text("CREATE TABLE leftover (id int)"))
            engine.dispose()
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
        admin.dispose()


def test_catalog_load_loads_the_shipped_file_once_and_a_rerun_changes_nothing(tmp_path: Path) -> None:
    env = _env(tmp_path)
    subprocess.run([*PROVISIO, "db", "upgrade"], env=env, check=True, capture_output=True, timeout=120)
    first = subprocess.run([*PROVISIO, "catalog", "load"], env=env, capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stderr
    assert "21 created, 0 new versions, 0 unchanged" in first.stdout
    again = subprocess.run([*PROVISIO, "catalog", "load"], env=env, capture_output=True, text=True, timeout=120)
    assert "0 created, 0 new versions, 21 unchanged" in again.stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text("productOfferings: [{name: X, productSpecification: Nowhere}]\n")
    refused = subprocess.run([*PROVISIO, "catalog", "load", str(bad)], env=env, capture_output=True, text=True,
                             timeout=120)  # fmt: skip
    assert refused.returncode == 2 and "Nowhere" in refused.stderr
