"""E2E (issue 18): discover the simulated network of ``provisio sim --devices 6`` into the physical
inventory (ports read over SNMP), re-import without duplicates, cable two discovered ports through a patch
panel and trace the path end to end."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from starlette.testclient import TestClient

from common.uow import UnitOfWork
from oss.site import importer
from oss.site.models import DeviceRow, PortRow
from server.cli import main as cli_main
from server.db import make_session_factory
from tests.api.site.helpers_site import DCIM, RI, cable, new_device, panel_type, ports_of

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def manifest(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    workdir = tmp_path_factory.mktemp("sim")
    path = workdir / "manifest.json"
    log = open(workdir / "sim.log", "wb")  # noqa: SIM115
    process = subprocess.Popen(
        [sys.executable, "-m", "simulators", "--devices", "6", "--profile", "mixed", "--seed", "18",
         "--manifest", str(path), "--log-level", "WARNING"],
        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not path.exists():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"simulators did not start: {(workdir / 'sim.log').read_text()[-2000:]}")
            time.sleep(0.05)
        yield path
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def _count(engine: Engine, model: type) -> int:
    with engine.connect() as connection:
        return int(connection.scalar(select(func.count()).select_from(model)) or 0)


def test_discovery_registers_every_device_with_its_ports_and_a_reimport_changes_nothing(
    manifest: Path, client: TestClient, clean_db: Engine
) -> None:
    factory = make_session_factory(clean_db)
    summary = importer.import_manifest(lambda: UnitOfWork(factory), manifest)
    assert summary.errors == [] and summary.created == 6, summary
    entries = json.loads(manifest.read_text())["devices"]
    devices = {device["name"]: device for device in client.get(f"{DCIM}/device").json()}
    assert sorted(devices) == sorted(entry["name"] for entry in entries)
    for entry in entries:
        device = devices[entry["name"]]
        assert device["platform"] == entry["profile"] and device["managementAddress"] == entry["host"]
        assert device["managementPort"] == (entry["netconf_port"] or entry["snmp_port"])
        assert ports_of(client, device["id"]), entry  # read from the device over SNMP
    ports = _count(clean_db, PortRow)
    assert ports == summary.ports_created and ports >= 6 * 5
    assert len(client.get(f"{RI}/resource?@type=Device").json()) == 6
    again = importer.import_manifest(lambda: UnitOfWork(factory), manifest)
    assert (again.created, again.updated, again.unchanged, again.errors) == (0, 0, 6, [])
    assert _count(clean_db, DeviceRow) == 6 and _count(clean_db, PortRow) == ports

    # Cable two discovered devices through a patch panel and trace it end to end.
    names = sorted(devices)
    first, second = ports_of(client, devices[names[0]]["id"]), ports_of(client, devices[names[1]]["id"])
    site = devices[names[0]]["siteId"]
    panel = ports_of(client, new_device(client, panel_type(client, positions=1)["id"], "panel", siteId=site)["id"])
    a, b = next(iter(first.values())), next(iter(second.values()))
    assert cable(client, a["id"], panel["front0"]["id"]).status_code == 201
    assert cable(client, panel["rear0"]["id"], b["id"]).status_code == 201
    traced: dict[str, Any] = client.get(f"{DCIM}/port/{a['id']}/trace").json()
    assert traced["end"]["id"] == b["id"] and traced["complete"] is True and len(traced["hop"]) == 2


def test_the_cli_imports_a_manifest(manifest: Path, clean_db: Engine, monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    monkeypatch.setenv("DATABASE_URL", str(clean_db.url.render_as_string(hide_password=False)))
    assert cli_main(["devices", "import", "--manifest", str(manifest)]) == 0
    assert "devices created:   6" in capsys.readouterr().out
    assert cli_main(["devices", "import", "--manifest", str(manifest)]) == 0
    assert "devices unchanged: 6" in capsys.readouterr().out
    assert cli_main(["devices", "import", "--manifest", str(manifest.parent / "missing.json")]) == 2
