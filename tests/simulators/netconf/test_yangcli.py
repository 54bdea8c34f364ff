"""An independent client: Debian's yangcli (yuma123) runs a scripted session against a simulated device.

yangcli's plain screen display prints ``data { }`` for our replies even when they hold data (it
parses them fine), so results are captured with ``@file = command`` and read from the files.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from common.yang.model import yang_search_path
from tests.simulators.netconf.conftest import PASSWORD, USER, Sim, vlans_of

pytestmark = [
    pytest.mark.independent,
    pytest.mark.skipif(shutil.which("yangcli") is None, reason="yangcli not installed"),
]


def _yangcli(sim: Sim, script: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            "yangcli",
            "--server=127.0.0.1",
            f"--ncport={sim.port}",
            f"--user={USER}",
            f"--password={PASSWORD}",
            "--batch-mode",
            f"--modpath={':'.join(yang_search_path())}",
            f"--run-script={script}",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ},
    )


def test_yangcli_scripted_session_get_edit_commit_and_bad_edit(pe: Sim, tmp_path: Path) -> None:
    interfaces, vlans = tmp_path / "interfaces.xml", tmp_path / "vlans.xml"
    script = tmp_path / "session.yc"
    script.write_text(
        f"@{interfaces} = sget-config source=running /interfaces\n"
        "merge /vlans/vlan -- id=300 name=yc\n"
        "commit\n"
        f"@{vlans} = sget-config source=running /vlans\n"
        "merge /vlans/vlan -- id=301 member=ge-9/9/9\n"
        "commit\n"
    )
    result = _yangcli(pe, script)
    output = result.stdout + result.stderr
    assert "ge-0/0/0" in interfaces.read_text()
    assert "<id>300</id>" in vlans.read_text() and "<name>yc</name>" in vlans.read_text()
    assert vlans_of(pe.datastore("running")) == {300: "yc"}  # the dangling leafref never reached running
    assert "data-missing" in output or "instance-required" in output, output[-2000:]
