"""The fleet as users run it: ``python -m simulators`` in a subprocess, real sockets on 127.0.0.1.

One shared four-device mixed fleet (pe1, cpe1, cpe2, sw1) serves the read-mostly tests; tests that
restart, signal or change many things start their own process.
"""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import stat
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import asyncssh
import httpx
import ncclient.transport.session
import pytest
from ncclient import manager
from ncclient.operations.rpc import RPCError

from simulators.manifest import DeviceEntry
from simulators.profiles import PROFILES
from tests.simulators.fleet.conftest import FleetProcess, spawn_fleet

pytestmark = pytest.mark.e2e

# ncclient polls every 0.1 s by default; one RPC would cost 100 ms (../shared/NOTES.md).
ncclient.transport.session.TICK = 0.002

IETF_INTERFACES = "urn:ietf:params:xml:ns:yang:ietf-interfaces"
IF_DESCR_1 = "1.3.6.1.2.1.2.2.1.2.1"
SYS_DESCR = "1.3.6.1.2.1.1.1.0"
IF_ALIAS_1 = "1.3.6.1.2.1.31.1.1.1.18.1"
DEADLINE_S = 10.0

FAULTS_FILE = """
faults:
  "sw*":
    - {kind: snmp-timeout, probability: 0.25}
  cpe2:
    - {kind: slow-reply, delay_ms: 1}
    - {kind: commit-rpc-error, count: 3}
"""


@pytest.fixture(scope="module")
def shared_fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FleetProcess]:
    tmp_path = tmp_path_factory.mktemp("fleet")
    faults = tmp_path / "faults.yaml"
    faults.write_text(FAULTS_FILE)
    fleet = spawn_fleet(tmp_path, "--devices", "4", "--profile", "mixed", "--seed", "1", "--faults", str(faults))
    fleet.wait_for_manifest()
    yield fleet
    fleet.stop()


@pytest.fixture
def control(shared_fleet: FleetProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=shared_fleet.manifest.control_url, timeout=DEADLINE_S) as client:
        yield client


def device_of(fleet: FleetProcess, profile: str) -> DeviceEntry:
    return next(d for d in fleet.manifest.devices if d.profile == profile)


def netconf(device: DeviceEntry) -> manager.Manager:
    return manager.connect(
        host=device.host,
        port=device.netconf_port,
        username=device.username,
        password=device.password,
        hostkey_verify=False,
        look_for_keys=False,
        allow_agent=False,
        timeout=DEADLINE_S,
    )


def interface_descriptions(session: manager.Manager, source: str = "running") -> dict[str, str]:
    reply = session.get_config(source=source, filter=("subtree", f'<interfaces xmlns="{IETF_INTERFACES}"/>'))
    root = reply.data_ele
    ns = {"if": IETF_INTERFACES}
    return {
        i.findtext("if:name", namespaces=ns): i.findtext("if:description", default="", namespaces=ns)
        for i in root.iterfind(".//if:interface", ns)
    }


def with_description(running: dict[str, Any], interface: str, description: str) -> dict[str, Any]:
    for entry in running["ietf-interfaces:interfaces"]["interface"]:
        if entry["name"] == interface:
            entry["description"] = description
    return running


def snmp_get_many(
    requests: list[tuple[DeviceEntry, str]], *, version: str = "v2c", timeout_s: float = 1.0
) -> list[str | None]:
    """GETs with pysnmp (v2c community or v3 authPriv SHA/AES), one engine for the whole batch (an
    engine costs about a second to build); None where no answer came."""
    from pysnmp.hlapi.v3arch.asyncio import (
        CommunityData,
        ContextData,
        ObjectIdentity,
        ObjectType,
        SnmpEngine,
        UdpTransportTarget,
        UsmUserData,
        get_cmd,
        usmAesCfb128Protocol,
        usmHMACSHAAuthProtocol,
    )

    async def query(engine: SnmpEngine, device: DeviceEntry, oid: str) -> str | None:
        if version == "v3":
            auth: Any = UsmUserData(
                device.snmp.v3.user,
                device.snmp.v3.auth_key,
                device.snmp.v3.priv_key,
                authProtocol=usmHMACSHAAuthProtocol,
                privProtocol=usmAesCfb128Protocol,
            )
        else:
            auth = CommunityData(device.snmp.community_ro, mpModel=1)
        target = await UdpTransportTarget.create((device.host, device.snmp_port), timeout=timeout_s, retries=0)
        error_indication, error_status, _, var_binds = await get_cmd(
            engine, auth, target, ContextData(), ObjectType(ObjectIdentity(oid))
        )
        if error_indication:
            return None
        assert not error_status, error_status.prettyPrint()
        return str(var_binds[0][1])

    async def all_queries() -> list[str | None]:
        engine = SnmpEngine()
        try:
            return [await query(engine, device, oid) for device, oid in requests]
        finally:
            engine.close_dispatcher()

    return asyncio.run(all_queries())


def snmp_get(device: DeviceEntry, oid: str, *, version: str = "v2c", timeout_s: float = 1.0) -> str | None:
    return snmp_get_many([(device, oid)], version=version, timeout_s=timeout_s)[0]


def wait_until(condition: Callable[[], bool], deadline_s: float = DEADLINE_S) -> None:
    deadline = time.monotonic() + deadline_s
    while not condition():
        assert time.monotonic() < deadline, "condition not met before the deadline"
        time.sleep(0.02)


# --- manifest ---------------------------------------------------------------------------------------


def test_manifest_describes_each_device_when_fleet_is_up(shared_fleet: FleetProcess) -> None:
    manifest = shared_fleet.manifest
    assert manifest.pid == shared_fleet.process.pid
    assert stat.S_IMODE(shared_fleet.manifest_path.stat().st_mode) == 0o600
    assert sorted(d.name for d in manifest.devices) == ["cpe1", "cpe2", "pe1", "sw1"]
    sw1 = manifest.device("sw1")
    assert sw1.netconf_port is None and sw1.ssh_host_key is None and sw1.snmp_port
    for name in ("pe1", "cpe1"):
        device = manifest.device(name)
        assert device.host == "127.0.0.1" and device.netconf_port and device.snmp_port
        assert device.ssh_host_key_fingerprint and device.ssh_host_key_fingerprint.startswith("SHA256:")
    assert len({d.password for d in manifest.devices}) == 4
    assert shared_fleet.process.stdout is not None
    assert shared_fleet.process.stdout.readline().strip() == f"manifest: {shared_fleet.manifest_path}"


def test_host_key_fingerprint_in_manifest_is_the_key_the_ssh_server_presents(shared_fleet: FleetProcess) -> None:
    device = shared_fleet.manifest.device("pe1")

    async def presented() -> str:
        async with asyncssh.connect(
            device.host,
            device.netconf_port,
            username=device.username,
            password=device.password,
            known_hosts=None,
            client_keys=None,
        ) as connection:
            key = connection.get_server_host_key()
            assert key is not None
            return str(key.get_fingerprint("sha256"))

    assert asyncio.run(presented()) == device.ssh_host_key_fingerprint


# --- protocols per profile --------------------------------------------------------------------------


@pytest.mark.parametrize("profile", ["pe-router", "cpe"])
def test_netconf_get_config_answers_on_each_netconf_profile(shared_fleet: FleetProcess, profile: str) -> None:
    device = device_of(shared_fleet, profile)
    with netconf(device) as session:
        descriptions = interface_descriptions(session)
        candidate = ":candidate" in " ".join(session.server_capabilities)
    assert len(descriptions) >= 1
    assert candidate is (profile == "pe-router")


@pytest.mark.parametrize("profile", ["pe-router", "cpe", "legacy-switch"])
def test_snmp_get_answers_v2c_and_v3_on_each_profile(shared_fleet: FleetProcess, profile: str) -> None:
    device = device_of(shared_fleet, profile)
    if profile == "legacy-switch":
        # sw1 starts with a 25 % snmp-timeout from the faults file; a few tries always get through.
        answers = snmp_get_many([(device, IF_DESCR_1)] * 12, timeout_s=0.2)
        assert any(answers) and not all(answers), answers
        return
    # ifIndex 1 is the profile's first interface: the device numbers them in order (RFC 2863 §3.1.5).
    assert snmp_get(device, IF_DESCR_1) == PROFILES[profile].interfaces[0]
    assert snmp_get(device, IF_DESCR_1, version="v3") == PROFILES[profile].interfaces[0]


# --- control API ------------------------------------------------------------------------------------


def test_control_api_lists_devices_without_credentials(control: httpx.Client) -> None:
    devices = control.get("/devices").json()
    assert sorted(d["name"] for d in devices) == ["cpe1", "cpe2", "pe1", "sw1"]
    assert "password" not in json.dumps(devices)
    pe1 = control.get("/devices/pe1").json()
    assert pe1["profile"] == "pe-router" and pe1["datastores"] == ["running", "candidate", "startup"]
    assert control.get("/devices/nope").status_code == 404


def test_faults_file_is_applied_at_start(control: httpx.Client) -> None:
    # cpe2 is touched by no other test, so its faults are still those of the file.
    assert control.get("/devices/cpe2/faults").json() == [
        {"kind": "slow-reply", "params": {"delay_ms": 1}},
        {"kind": "commit-rpc-error", "params": {"count": 3}},
    ]
    assert control.get("/devices/sw1/faults").json() == [{"kind": "snmp-timeout", "params": {"probability": 0.25}}]
    assert control.get("/devices/pe1/faults").json() == []


@pytest.mark.parametrize(("name", "datastore"), [("pe1", "running"), ("pe1", "candidate"), ("pe1", "startup")])
def test_control_api_reads_each_datastore_as_rfc7951_json(control: httpx.Client, name: str, datastore: str) -> None:
    response = control.get(f"/devices/{name}/datastores/{datastore}")
    assert response.status_code == 200
    interfaces = response.json()["ietf-interfaces:interfaces"]["interface"]
    assert [i["name"] for i in interfaces][:1] == [PROFILES["pe-router"].interfaces[0]]


def test_control_api_refuses_datastore_the_profile_lacks(control: httpx.Client) -> None:
    response = control.get("/devices/cpe1/datastores/candidate")
    assert response.status_code == 404
    assert response.json()["error"] == "DATASTORE_NOT_FOUND"


def test_out_of_band_change_is_visible_over_netconf_get_config(
    shared_fleet: FleetProcess, control: httpx.Client
) -> None:
    interface = PROFILES["cpe"].interfaces[0]
    running = control.get("/devices/cpe1/datastores/running").json()
    response = control.put("/devices/cpe1/datastores/running", json=with_description(running, interface, "drift"))
    assert response.status_code == 200, response.text
    with netconf(shared_fleet.manifest.device("cpe1")) as session:
        assert interface_descriptions(session)[interface] == "drift"
    # The same state behind SNMP: ifAlias is the interface description (RFC 8343 §5, RFC 2863).
    assert snmp_get(shared_fleet.manifest.device("cpe1"), IF_ALIAS_1) == "drift"


def test_out_of_band_change_failing_yang_validation_answers_422(control: httpx.Client) -> None:
    before = control.get("/devices/pe1/datastores/running").json()
    bad = json.loads(json.dumps(before))
    bad["ietf-interfaces:interfaces"]["interface"][0]["ietf-ip:ipv4"] = {
        "address": [{"ip": "192.0.2.1", "prefix-length": 40}]
    }
    response = control.put("/devices/pe1/datastores/running", json=bad)
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "VALIDATION_FAILED" and body["error_tag"] == "invalid-value"
    assert "prefix-length" in (body["error_path"] or "")
    assert control.get("/devices/pe1/datastores/running").json() == before


def test_out_of_band_change_with_malformed_json_answers_400(control: httpx.Client) -> None:
    response = control.put("/devices/pe1/datastores/running", content=b"{not json")
    assert response.status_code == 400
    assert control.put("/devices/pe1/datastores/startup", json={}).status_code == 405


def test_refuse_connection_fault_refuses_sessions_until_cleared(
    shared_fleet: FleetProcess, control: httpx.Client
) -> None:
    device = shared_fleet.manifest.device("cpe1")
    response = control.post("/devices/cpe1/faults", json={"kind": "refuse-connection"})
    assert response.status_code == 201
    try:
        with pytest.raises(Exception), netconf(device):  # noqa: B017 - ncclient raises several types
            pass
    finally:
        assert control.delete("/devices/cpe1/faults/refuse-connection").status_code == 204
    with netconf(device) as session:
        assert interface_descriptions(session)


def test_control_api_sets_fault_with_inline_params_and_clears_all(control: httpx.Client) -> None:
    response = control.post("/devices/cpe1/faults", json={"kind": "slow-reply", "delay_ms": 5, "count": 2})
    assert response.status_code == 201
    assert control.get("/devices/cpe1").json()["faults"] == [
        {"kind": "slow-reply", "params": {"delay_ms": 5, "count": 2}}
    ]
    assert control.delete("/devices/cpe1/faults").status_code == 204
    assert control.get("/devices/cpe1/faults").json() == []


def test_control_api_rejects_unknown_fault_kind_and_bad_params(control: httpx.Client) -> None:
    assert control.post("/devices/cpe1/faults", json={"kind": "meltdown"}).status_code == 422
    response = control.post("/devices/cpe1/faults", json={"kind": "slow-reply", "params": {"probability": 2}})
    assert response.status_code == 422
    assert control.delete("/devices/cpe1/faults/meltdown").status_code == 404
    assert control.get("/devices/cpe1/faults").json() == []


def test_commit_rpc_error_fault_fails_one_commit_then_clears(shared_fleet: FleetProcess, control: httpx.Client) -> None:
    control.post("/devices/pe1/faults", json={"kind": "commit-rpc-error", "params": {"count": 1}})
    with netconf(shared_fleet.manifest.device("pe1")) as session:
        with pytest.raises(RPCError):
            session.commit()
        session.commit()  # the one firing is consumed
    assert control.get("/devices/pe1/faults").json() == []


def test_slow_reply_fault_set_at_run_time_delays_the_next_reply(
    shared_fleet: FleetProcess, control: httpx.Client
) -> None:
    with netconf(shared_fleet.manifest.device("cpe1")) as session:
        assert control.post("/devices/cpe1/faults", json={"kind": "slow-reply", "delay_ms": 400, "count": 1}).is_success
        started = time.monotonic()
        interface_descriptions(session)
        slow = time.monotonic() - started
        started = time.monotonic()
        interface_descriptions(session)
        fast = time.monotonic() - started
    assert slow >= 0.4 > fast
    assert control.get("/devices/cpe1/faults").json() == []  # its one firing was used


def _timed_running_edit(device: DeviceEntry, description: str) -> float:
    interface = PROFILES["cpe"].interfaces[0]
    config = (
        f'<config><interfaces xmlns="{IETF_INTERFACES}"><interface><name>{interface}</name>'
        f"<description>{description}</description></interface></interfaces></config>"
    )
    with netconf(device) as session:
        started = time.monotonic()
        session.edit_config(target="running", config=config)
        return time.monotonic() - started


def test_commit_latency_from_the_command_line_and_per_device_from_the_control_api(
    start_fleet: Callable[..., FleetProcess],
) -> None:
    fleet = start_fleet("--devices", "2", "--profile", "cpe", "--commit-latency-ms", "400")
    first, second = fleet.manifest.devices
    with httpx.Client(base_url=fleet.manifest.control_url, timeout=DEADLINE_S) as client:
        assert [d["commit_latency_ms"] for d in client.get("/devices").json()] == [400, 400]
        assert _timed_running_edit(first, "slow") >= 0.4
        changed = client.patch(f"/devices/{first.name}", json={"commit_latency_ms": 0})
        assert changed.status_code == 200 and changed.json()["commit_latency_ms"] == 0
        assert _timed_running_edit(first, "fast") < 0.4
        assert _timed_running_edit(second, "still slow") >= 0.4  # per device: the other one kept its latency
        assert client.patch(f"/devices/{first.name}", json={"commit_latency_ms": -1}).status_code == 422
        assert client.patch(f"/devices/{first.name}", json={"name": "x"}).status_code == 422


def test_reboot_reverts_running_to_startup_and_drops_sessions(
    shared_fleet: FleetProcess, control: httpx.Client
) -> None:
    interface = PROFILES["pe-router"].interfaces[1]
    startup = control.get("/devices/pe1/datastores/startup").json()
    running = control.get("/devices/pe1/datastores/running").json()
    assert control.put("/devices/pe1/datastores/running", json=with_description(running, interface, "x")).is_success
    session = netconf(shared_fleet.manifest.device("pe1"))
    assert interface_descriptions(session)[interface] == "x"
    response = control.post("/devices/pe1/reboot")
    assert response.status_code == 200
    assert control.get("/devices/pe1/datastores/running").json() == startup
    wait_until(lambda: not session.connected)
    with netconf(shared_fleet.manifest.device("pe1")) as fresh:
        assert interface_descriptions(fresh)[interface] == ""


# --- lifecycle ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_signal_exits_zero_and_removes_manifest(start_fleet: Callable[..., FleetProcess], signum: int) -> None:
    fleet = start_fleet("--devices", "2", "--profile", "cpe")
    started = time.monotonic()
    assert fleet.stop(deadline_s=DEADLINE_S, signum=signum) == 0
    assert time.monotonic() - started < DEADLINE_S
    assert not fleet.manifest_path.exists()
    assert "Traceback" not in fleet.log()
    # Without --state-dir nothing but the manifest was written (keys lived in memory).
    assert [p.name for p in fleet.manifest_path.parent.iterdir()] == [f"{fleet.manifest_path.name}.log"]


def test_restart_with_same_state_dir_keeps_host_keys_passwords_and_config(
    start_fleet: Callable[..., FleetProcess], tmp_path: Path
) -> None:
    state = tmp_path / "state"
    first = start_fleet("--devices", "2", "--profile", "pe-router", "--state-dir", str(state), name="one.json")
    interface = PROFILES["pe-router"].interfaces[0]
    with httpx.Client(base_url=first.manifest.control_url) as client:
        running = client.get("/devices/pe2/datastores/running").json()
        changed = with_description(running, interface, "kept")
        assert client.put("/devices/pe2/datastores/running", json=changed).is_success
    assert first.stop() == 0
    second = start_fleet("--devices", "2", "--profile", "pe-router", "--state-dir", str(state), name="two.json")
    for before, after in zip(first.manifest.devices, second.manifest.devices, strict=True):
        assert (after.name, after.ssh_host_key, after.password) == (before.name, before.ssh_host_key, before.password)
        assert after.snmp.v3 == before.snmp.v3
    with netconf(second.manifest.device("pe2")) as session:
        assert interface_descriptions(session)[interface] == "kept"
    assert sorted(p.name for p in (state / "hostkeys").iterdir()) == ["pe1.key", "pe2.key"]


def test_bad_faults_file_refuses_to_start_with_exit_code_1(tmp_path: Path) -> None:
    faults = tmp_path / "faults.yaml"
    faults.write_text("pe1: [{kind: meltdown}]")
    fleet = spawn_fleet(tmp_path, "--devices", "1", "--faults", str(faults))
    assert fleet.process.wait(timeout=DEADLINE_S * 3) == 1
    assert "unknown fault kind 'meltdown'" in fleet.log()
    assert not fleet.manifest_path.exists()


@pytest.mark.slow
def test_mixed_fleet_of_20_starts_and_every_device_answers(start_fleet: Callable[..., FleetProcess]) -> None:
    fleet = start_fleet("--devices", "20", "--profile", "mixed", "--seed", "5")
    devices = fleet.manifest.devices
    assert len(devices) == 20
    assert {d.profile for d in devices} == {"pe-router", "cpe", "legacy-switch"}
    for device in devices:
        if device.netconf_port is not None:
            with netconf(device) as session:
                assert interface_descriptions(session), device.name
    answers = snmp_get_many([(device, SYS_DESCR) for device in devices])
    assert all(answers), dict(zip([d.name for d in devices], answers, strict=True))


def _free_consecutive_ports(count: int) -> int:
    """A base port whose next ``count`` TCP and UDP ports are free right now."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base = int(probe.getsockname()[1])
        if base + count > 65535:
            continue
        sockets = []
        try:
            for port in range(base, base + count):
                for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
                    sock = socket.socket(socket.AF_INET, kind)
                    sockets.append(sock)
                    sock.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for sock in sockets:
                sock.close()
    raise AssertionError("no free port range")


def test_base_port_gives_device_i_ports_p_plus_2i(start_fleet: Callable[..., FleetProcess]) -> None:
    base = _free_consecutive_ports(4)
    fleet = start_fleet("--devices", "2", "--profile", "cpe", "--base-port", str(base))
    ports = [(d.netconf_port, d.snmp_port) for d in fleet.manifest.devices]
    assert ports == [(base, base + 1), (base + 2, base + 3)]
    with netconf(fleet.manifest.devices[1]) as session:
        assert interface_descriptions(session)


def test_taken_base_port_refuses_to_start_with_exit_code_1(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        fleet = spawn_fleet(tmp_path, "--devices", "1", "--profile", "cpe", "--base-port", str(port))
        assert fleet.process.wait(timeout=DEADLINE_S * 3) == 1
    assert "address already in use" in fleet.log().lower()
    assert "Traceback" not in fleet.log()
    assert not fleet.manifest_path.exists()


def test_authorized_keys_allow_public_key_auth_on_every_netconf_device(
    start_fleet: Callable[..., FleetProcess], tmp_path: Path
) -> None:
    client_key = asyncssh.generate_private_key("ssh-ed25519")
    private = tmp_path / "client_ed25519"
    private.write_bytes(client_key.export_private_key())
    private.chmod(0o600)
    authorized = tmp_path / "authorized_keys"
    authorized.write_bytes(client_key.export_public_key())
    fleet = start_fleet("--devices", "2", "--profile", "mixed", "--authorized-keys", str(authorized))
    for device in fleet.manifest.devices:
        assert device.netconf_port is not None
        with manager.connect(
            host=device.host,
            port=device.netconf_port,
            username=device.username,
            key_filename=str(private),
            hostkey_verify=False,
            look_for_keys=False,
            allow_agent=False,
            timeout=DEADLINE_S,
        ) as session:
            assert interface_descriptions(session)
