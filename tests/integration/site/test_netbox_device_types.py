"""NetBox device-type library YAML into device types (issue 18 "Import"): interfaces, front and rear ports;
a re-run changes nothing; a broken document is its file's error."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, func, select

from common.uow import UnitOfWork
from oss.site import importer
from oss.site.models import DeviceTypeRow
from server.db import make_session_factory

SWITCH = """
manufacturer: Cisco
model: C9300-48P
slug: cisco-c9300-48p
u_height: 1.0
interfaces:
  - name: GigabitEthernet1/0/1
    type: 1000base-t
  - name: GigabitEthernet1/0/2
    type: 1000base-t
"""
PANEL = """
manufacturer: Generic
model: 24-port LC panel
u_height: 1
rear-ports:
  - {name: R1, type: lc, positions: 1}
front-ports:
  - {name: F1, type: lc, rear_port: R1}
---
manufacturer: Generic
model: broken
front-ports:
  - {name: F1, type: lc, rear_port: R9}
"""


def test_netbox_yaml_becomes_device_types_and_a_rerun_changes_nothing(clean_db: Engine, tmp_path: Path) -> None:
    (tmp_path / "switch.yaml").write_text(SWITCH)
    (tmp_path / "panel.yaml").write_text(PANEL)
    factory = make_session_factory(clean_db)
    paths = [tmp_path / "switch.yaml", tmp_path / "panel.yaml", tmp_path / "missing.yaml"]
    summary = importer.import_device_types(lambda: UnitOfWork(factory), paths)
    assert (summary.created, summary.unchanged) == (2, 0)
    assert [error.device for error in summary.errors] == [str(paths[1]), str(paths[2])]
    with factory() as session, session.begin():
        switch = session.execute(select(DeviceTypeRow).where(DeviceTypeRow.model == "C9300-48P")).scalar_one()
        assert switch.height == 1 and [t["name"] for t in switch.port_templates] == [
            "GigabitEthernet1/0/1", "GigabitEthernet1/0/2"]  # fmt: skip
        panel = session.execute(select(DeviceTypeRow).where(DeviceTypeRow.manufacturer == "Generic")).scalar_one()
        assert {t["name"]: t["portClass"] for t in panel.port_templates} == {"R1": "rear", "F1": "front"}
    again = importer.import_device_types(lambda: UnitOfWork(factory), paths[:2])
    assert (again.created, again.unchanged) == (0, 2)
    with clean_db.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(DeviceTypeRow)) == 2
