"""The agent against net-snmp's independent tools (snmpget/snmpset/snmpwalk/snmpbulkwalk), and its
refusals side by side with Debian's snmpd answering the same requests (tests/support/snmpd.py)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator

import pytest

from simulators.device import Device
from simulators.snmp import SnmpEndpoint
from tests.simulators.snmp.conftest import CREDENTIALS, LoopThread
from tests.support.snmpd import SnmpdServer, snmpd_fixture

pytestmark = [
    pytest.mark.independent,
    pytest.mark.skipif(shutil.which("snmpget") is None, reason="net-snmp tools missing (apt-get install snmp)"),
]

snmpd = snmpd_fixture(
    community_ro=CREDENTIALS.community_ro,
    community_rw=CREDENTIALS.community_rw,
    v3_user=CREDENTIALS.v3.user,
    auth_key=CREDENTIALS.v3.auth_key,
    priv_key=CREDENTIALS.v3.priv_key,
)


@pytest.fixture(scope="module")
def tool_env() -> Iterator[dict[str, str]]:
    # Numeric OIDs only, and a private persistent directory (the tools cache engine boots there).
    with tempfile.TemporaryDirectory() as persistent:
        yield dict(os.environ, MIBS="", MIBDIRS="", SNMP_PERSISTENT_DIR=persistent, SNMPCONFPATH=persistent)


def tool(env: dict[str, str], command: str, port: int, auth: list[str], *args: str) -> subprocess.CompletedProcess[str]:
    argv = [command, *auth, "-On", "-t", "0.5", "-r", "0", f"127.0.0.1:{port}", *args]
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=20)


RO = ["-v2c", "-c", CREDENTIALS.community_ro]
RW = ["-v2c", "-c", CREDENTIALS.community_rw]
V3 = [
    "-v3", "-l", "authPriv", "-u", CREDENTIALS.v3.user, "-a", "SHA", "-A", CREDENTIALS.v3.auth_key,
    "-x", "AES", "-X", CREDENTIALS.v3.priv_key,
]  # fmt: skip
IF_ALIAS = ".1.3.6.1.2.1.31.1.1.1.18"


def test_snmpwalk_if_mib_lists_every_interface(tool_env: dict[str, str], agent: SnmpEndpoint, device: Device) -> None:
    result = tool(tool_env, "snmpwalk", agent.port, RO, ".1.3.6.1.2.1.2.2.1.2")

    assert result.returncode == 0, result.stderr
    names = re.findall(r'STRING: "([^"]*)"', result.stdout)
    assert names == sorted(device.interface_names(), key=device.if_index)


def test_snmpbulkwalk_of_the_whole_tree_ends_cleanly(tool_env: dict[str, str], agent: SnmpEndpoint) -> None:
    result = tool(tool_env, "snmpbulkwalk", agent.port, RO, "-Cc", ".1")

    assert result.returncode == 0 and "Error" not in result.stderr, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith(".1.3.6.1.2.1.1.1.0 = ")
    assert any(line.startswith(".1.3.6.1.2.1.4.34.1.3.1.4.192.0.2.1 = INTEGER") for line in lines)
    assert any(line.startswith(".1.3.6.1.2.1.17.7.1.4.3.1.1.10 = STRING") for line in lines)


def test_snmpset_ifalias_lands_in_running(
    tool_env: dict[str, str], agent: SnmpEndpoint, device: Device, loop_thread: LoopThread
) -> None:
    result = tool(tool_env, "snmpset", agent.port, RW, f"{IF_ALIAS}.3", "s", "set by net-snmp")

    assert result.returncode == 0, result.stderr
    running = loop_thread.call(lambda: device.get("running"))
    by_name = {i["name"]: i for i in running["ietf-interfaces:interfaces"]["interface"]}
    assert by_name["ge-0/0/2"]["description"] == "set by net-snmp"


def test_snmpset_creates_and_destroys_a_vlan_with_rowstatus(
    tool_env: dict[str, str], agent: SnmpEndpoint, device: Device, loop_thread: LoopThread
) -> None:
    status, name = ".1.3.6.1.2.1.17.7.1.4.3.1.5.555", ".1.3.6.1.2.1.17.7.1.4.3.1.1.555"

    created = tool(tool_env, "snmpset", agent.port, RW, status, "i", "4", name, "s", "from-snmpset")
    vlans_after_create = loop_thread.call(lambda: device.get("running"))["provisio-vlan:vlans"]["vlan"]
    destroyed = tool(tool_env, "snmpset", agent.port, RW, status, "i", "6")
    vlans_after_destroy = loop_thread.call(lambda: device.get("running"))["provisio-vlan:vlans"]["vlan"]

    assert created.returncode == 0 and destroyed.returncode == 0, created.stderr + destroyed.stderr
    assert {"id": 555, "name": "from-snmpset"} in vlans_after_create
    assert all(v["id"] != 555 for v in vlans_after_destroy)


def test_snmpget_v3_authpriv_reads_sysname(tool_env: dict[str, str], agent: SnmpEndpoint) -> None:
    result = tool(tool_env, "snmpget", agent.port, V3, ".1.3.6.1.2.1.1.5.0")

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == '.1.3.6.1.2.1.1.5.0 = STRING: "pe1"'


def test_snmpset_v3_authpriv_writes_ifadminstatus(
    tool_env: dict[str, str], agent: SnmpEndpoint, device: Device, loop_thread: LoopThread
) -> None:
    result = tool(tool_env, "snmpset", agent.port, V3, ".1.3.6.1.2.1.2.2.1.7.4", "i", "2")

    assert result.returncode == 0, result.stderr
    running = loop_thread.call(lambda: device.get("running"))
    assert running["ietf-interfaces:interfaces"]["interface"][3]["enabled"] is False


def test_snmpget_with_unknown_community_times_out(tool_env: dict[str, str], agent: SnmpEndpoint) -> None:
    result = tool(tool_env, "snmpget", agent.port, ["-v2c", "-c", "guess"], ".1.3.6.1.2.1.1.5.0")

    assert result.returncode != 0 and "Timeout" in result.stdout + result.stderr


# --- the same refusals from our agent and from snmpd ---------------------------------------------

REFUSALS = {
    # name: (auth, snmpset/snmpget arguments); objects that both agents implement the same way.
    "read-only community": (RO, ["snmpset", f"{IF_ALIAS}.1", "s", "x"]),
    "wrong type": (RW, ["snmpset", f"{IF_ALIAS}.1", "i", "5"]),
    "read-only object": (RW, ["snmpset", ".1.3.6.1.2.1.1.1.0", "s", "x"]),
    "unknown object": (RW, ["snmpset", ".1.3.6.1.4.1.99999.7.0", "s", "x"]),
    "row that cannot be created": (RW, ["snmpset", f"{IF_ALIAS}.999", "s", "x"]),
    "second varbind bad": (RW, ["snmpset", f"{IF_ALIAS}.1", "s", "ok", ".1.3.6.1.2.1.1.1.0", "s", "x"]),
    "v3 without privacy": (
        ["-v3", "-l", "authNoPriv", "-u", CREDENTIALS.v3.user, "-a", "SHA", "-A", CREDENTIALS.v3.auth_key],
        ["snmpget", ".1.3.6.1.2.1.1.5.0"],
    ),
    "unknown community": (["-v2c", "-c", "guess"], ["snmpget", ".1.3.6.1.2.1.1.5.0"]),
}


def refusal(result: subprocess.CompletedProcess[str]) -> tuple[str, str]:
    """(reason, failed object) as net-snmp prints them; ("timeout", "") when nothing came back."""
    text = result.stdout + result.stderr
    if "Timeout" in text:
        return "timeout", ""
    reason = re.search(r"Reason: (\w+)", text)
    failed = re.search(r"Failed object: (\S+)", text)
    return (reason.group(1) if reason else text.strip()), (failed.group(1) if failed else "")


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_refusal_matches_snmpd(case: str, tool_env: dict[str, str], agent: SnmpEndpoint, snmpd: SnmpdServer) -> None:
    auth, (command, *args) = REFUSALS[case]

    ours = refusal(tool(tool_env, command, agent.port, auth, *args))
    reference = refusal(tool(tool_env, command, snmpd.port, auth, *args))

    assert ours == reference
    assert ours[0] in {"noAccess", "wrongType", "notWritable", "noCreation", "authorizationError", "timeout"}
