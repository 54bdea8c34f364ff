"""Targets of the one driver contract suite: every test runs unchanged against each of them.

NETCONF targets: ``fake-pe-router``, ``fake-cpe`` (in memory), ``netconfd`` (Debian's yuma123 behind a
private sshd; marked ``independent``), ``sim-pe-router``, ``sim-cpe`` (``python -m simulators``; ``e2e``).
SNMP targets: ``fake-switch``, ``snmpd`` (Debian's net-snmp agent; ``independent``), ``sim-legacy-switch``,
``sim-pe-router`` (``e2e``).

Servers are session-scoped and started only when a selected test needs them. Where a server behaves
differently from the RFC or from ours, the :class:`NetconfTarget`/:class:`SnmpTarget` says so in a
named field, and the README of the drivers lists the quirk.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import signal
import subprocess
import sys
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pytest

from oss.activation.drivers.base import CANDIDATE, Driver
from oss.activation.drivers.credentials import (
    CredentialStore,
    DeviceEndpoint,
    Secret,
    SnmpCredentials,
    SnmpV3User,
)
from oss.activation.drivers.fake import FakeDevice, FakeDriver
from oss.activation.drivers.netconf import NetconfDriver
from oss.activation.drivers.snmp import SnmpDriver

IF_NS = "urn:ietf:params:xml:ns:yang:ietf-interfaces"
NC_NS = "urn:ietf:params:xml:ns:netconf:base:1.0"
IANA_NS = "urn:ietf:params:xml:ns:yang:iana-if-type"
SYS_DESCR = "1.3.6.1.2.1.1.1.0"
SYS_NAME = "1.3.6.1.2.1.1.5.0"
IF_DESCR = "1.3.6.1.2.1.2.2.1.2"
IF_ALIAS = "1.3.6.1.2.1.31.1.1.1.18"
RPC_TIMEOUT_S = 10.0
CLEANUP_TIMEOUT_S = 60.0


# ------------------------------------------------------------------------------------------------
# Targets
# ------------------------------------------------------------------------------------------------


@dataclass
class NetconfTarget:
    name: str
    endpoint: DeviceEndpoint
    make: Callable[[DeviceEndpoint], Driver]
    # Documented per-target expectations (see oss/activation/drivers/README.md):
    confirm_poll_interval_s: float = 0.05  # netconfd fires confirm-timeout only after ~1 s without traffic
    # yuma123: nc:operation="remove" of a list entry whose parent container is absent fails with
    # data-missing (instance-required) instead of doing nothing (RFC 6241 §7.2).
    remove_needs_existing_parent: bool = False
    # ``inject_fault(kind, **params)``: a context manager that arms a simulator fault on the device
    # (control API) and clears it after; None where the server has no fault injection.
    inject_fault: Callable[..., Any] | None = None

    def connect(self, endpoint: DeviceEndpoint | None = None, timeout_s: float = RPC_TIMEOUT_S) -> Driver:
        driver = self.make(endpoint or self.endpoint)
        driver.timeout_s = timeout_s  # read by open(): every RPC of the session is bounded by it
        driver.open()
        return driver


@dataclass
class SnmpTarget:
    name: str
    endpoint: DeviceEndpoint
    make: Callable[[DeviceEndpoint, Any, float], Driver]
    writable_oid: str  # an OctetString the rw community may set (ifAlias.N or sysLocation.0)
    readonly_oid: str = SYS_DESCR
    has_v3: bool = True
    read_only_refusals: frozenset[str] = frozenset({"noAccess", "notWritable", "authorizationError"})
    make_silent: Callable[[], Any] | None = None  # context manager: agent drops requests (fault)
    notes: dict[str, str] = field(default_factory=dict)

    def connect(
        self, version: Literal["v2c", "v3"] = "v2c", timeout_s: float = 2.0, endpoint: DeviceEndpoint | None = None
    ) -> Driver:
        driver = self.make(endpoint or self.endpoint, version, timeout_s)
        driver.open()
        return driver


# ---- fake --------------------------------------------------------------------------------------


def _fake_endpoint(device: FakeDevice) -> DeviceEndpoint:
    return DeviceEndpoint(
        name=device.name,
        host="memory",
        profile=device.profile,
        username=device.username,
        password=Secret(device.password),
        ssh_host_key="ssh-ed25519 AAAA-fake",
        snmp=SnmpCredentials(
            Secret(device.community_ro),
            Secret(device.community_rw),
            SnmpV3User("provisio", "SHA", Secret("authkey-fake1"), "AES", Secret("privkey-fake1")),
        ),
    )


@pytest.fixture(scope="session")
def fake_devices() -> dict[str, FakeDevice]:
    return {
        profile: FakeDevice(f"fake-{profile}", profile=profile) for profile in ("pe-router", "cpe", "legacy-switch")
    }


def _fake_netconf_target(device: FakeDevice) -> NetconfTarget:
    return NetconfTarget(
        name=device.name,
        endpoint=_fake_endpoint(device),
        make=lambda endpoint: FakeDriver(device, endpoint, timeout_s=RPC_TIMEOUT_S),
    )


class _Silence:
    def __init__(self, device: FakeDevice) -> None:
        self.device = device

    def __enter__(self) -> None:
        self.device.unresponsive = True

    def __exit__(self, *exc: object) -> None:
        self.device.unresponsive = False


def _fake_snmp_target(device: FakeDevice) -> SnmpTarget:
    return SnmpTarget(
        name="fake-switch",
        endpoint=_fake_endpoint(device),
        make=lambda endpoint, version, timeout: FakeDriver(device, endpoint, timeout_s=timeout, snmp_version=version),
        writable_oid=f"{IF_ALIAS}.1",
        read_only_refusals=frozenset({"noAccess"}),
        make_silent=lambda: _Silence(device),
    )


# ---- netconfd ------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def netconfd() -> Iterator[Any]:
    from tests.support import netconfd as launcher

    reason = launcher.available()
    if reason:
        pytest.skip(f"netconfd target unavailable: {reason}")
    with launcher.netconfd_server() as server:
        yield server


def _netconfd_target(server: Any) -> NetconfTarget:
    return NetconfTarget(
        name="netconfd",
        endpoint=server.endpoint(),
        make=lambda endpoint: NetconfDriver(endpoint, timeout_s=RPC_TIMEOUT_S),
        confirm_poll_interval_s=1.5,
        remove_needs_existing_parent=True,
    )


# ---- snmpd ---------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def snmpd() -> Iterator[Any]:
    from tests.support import snmpd as launcher

    reason = launcher.available()
    if reason:
        pytest.skip(f"snmpd target unavailable: {reason}")  # a failure in CI (tests/conftest.py)
    with launcher.snmpd_server() as server:
        yield server


def _snmpd_target(server: Any) -> SnmpTarget:
    endpoint = server.endpoint() if hasattr(server, "endpoint") else _endpoint_from_snmpd(server)
    return SnmpTarget(
        name="snmpd",
        endpoint=endpoint,
        make=lambda endpoint, version, timeout: SnmpDriver(endpoint, version=version, timeout_s=timeout),
        writable_oid=getattr(server, "writable_oid", f"{IF_ALIAS}.1"),
        read_only_refusals=frozenset({"noAccess", "notWritable", "authorizationError"}),
    )


def _endpoint_from_snmpd(server: Any) -> DeviceEndpoint:
    v3 = getattr(server, "v3", None)
    return DeviceEndpoint(
        name="snmpd",
        host=server.host,
        profile="snmpd",
        snmp_port=server.port,
        snmp=SnmpCredentials(
            Secret(server.community_ro),
            Secret(server.community_rw),
            SnmpV3User(v3.user, v3.auth_protocol, Secret(v3.auth_key), v3.priv_protocol, Secret(v3.priv_key))
            if v3
            else None,
        ),
    )


# ---- simulators ----------------------------------------------------------------------------------


@dataclass
class SimulatorFleet:
    manifest_path: Path
    store: CredentialStore
    control_url: str

    def first(self, profile: str) -> DeviceEndpoint:
        return next(device for device in self.store if device.profile == profile)

    def fault(self, device: str, kind: str, **params: Any) -> Any:
        import httpx

        class _Fault:
            def __enter__(inner) -> None:
                httpx.post(
                    f"{self.control_url}/devices/{device}/faults", json={"kind": kind, "params": params}, timeout=5
                ).raise_for_status()

            def __exit__(inner, *exc: object) -> None:
                httpx.delete(f"{self.control_url}/devices/{device}/faults", timeout=5).raise_for_status()

        return _Fault()


@pytest.fixture(scope="session")
def simulators(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimulatorFleet]:
    workdir = tmp_path_factory.mktemp("sim")
    manifest = workdir / "manifest.json"
    log = open(workdir / "sim.log", "wb")  # noqa: SIM115
    process = subprocess.Popen(
        [sys.executable, "-m", "simulators", "--devices", "6", "--profile", "mixed", "--seed", "7",
         "--manifest", str(manifest), "--state-dir", str(workdir / "state"), "--log-level", "WARNING"],
        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while not manifest.exists():
            if process.poll() is not None:
                raise RuntimeError(
                    f"simulators exited {process.returncode}: {(workdir / 'sim.log').read_text()[-2000:]}"
                )
            if time.monotonic() > deadline:
                raise TimeoutError("simulators did not write the manifest in 30 s")
            time.sleep(0.05)
        document = json.loads(manifest.read_text())
        yield SimulatorFleet(manifest, CredentialStore.from_file(manifest), document["control_url"])
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _sim_netconf_target(fleet: SimulatorFleet, profile: str) -> NetconfTarget:
    endpoint = fleet.first(profile)
    return NetconfTarget(
        name=f"sim-{profile}",
        endpoint=endpoint,
        make=lambda endpoint: NetconfDriver(endpoint, timeout_s=RPC_TIMEOUT_S),
        inject_fault=lambda kind, **params: fleet.fault(endpoint.name, kind, **params),
    )


def _sim_snmp_target(fleet: SimulatorFleet, profile: str) -> SnmpTarget:
    endpoint = fleet.first(profile)
    return SnmpTarget(
        name=f"sim-{profile}",
        endpoint=endpoint,
        make=lambda endpoint, version, timeout: SnmpDriver(endpoint, version=version, timeout_s=timeout),
        writable_oid=f"{IF_ALIAS}.1",
        read_only_refusals=frozenset({"noAccess"}),
        make_silent=lambda: fleet.fault(endpoint.name, "snmp-timeout"),
    )


# ------------------------------------------------------------------------------------------------
# Parametrized fixtures
# ------------------------------------------------------------------------------------------------

NETCONF_TARGETS = [
    pytest.param("fake-pe-router", id="fake-pe-router"),
    pytest.param("fake-cpe", id="fake-cpe"),
    pytest.param("netconfd", id="netconfd", marks=pytest.mark.independent),
    pytest.param("sim-pe-router", id="sim-pe-router", marks=pytest.mark.e2e),
    pytest.param("sim-cpe", id="sim-cpe", marks=pytest.mark.e2e),
]
SNMP_TARGETS = [
    pytest.param("fake-switch", id="fake-switch"),
    pytest.param("snmpd", id="snmpd", marks=pytest.mark.independent),
    pytest.param("sim-legacy-switch", id="sim-legacy-switch", marks=pytest.mark.e2e),
    pytest.param("sim-pe-router", id="sim-pe-router-snmp", marks=pytest.mark.e2e),
]


@pytest.fixture(params=NETCONF_TARGETS)
def nc_target(request: pytest.FixtureRequest, fake_devices: dict[str, FakeDevice]) -> NetconfTarget:
    name: str = request.param
    if name.startswith("fake-"):
        return _fake_netconf_target(fake_devices[name.removeprefix("fake-")])
    if name == "netconfd":
        return _netconfd_target(request.getfixturevalue("netconfd"))
    return _sim_netconf_target(request.getfixturevalue("simulators"), name.removeprefix("sim-"))


@pytest.fixture(params=SNMP_TARGETS)
def snmp_target(request: pytest.FixtureRequest, fake_devices: dict[str, FakeDevice]) -> SnmpTarget:
    name: str = request.param
    if name == "fake-switch":
        return _fake_snmp_target(fake_devices["legacy-switch"])
    if name == "snmpd":
        return _snmpd_target(request.getfixturevalue("snmpd"))
    return _sim_snmp_target(request.getfixturevalue("simulators"), name.removeprefix("sim-"))


# ------------------------------------------------------------------------------------------------
# Per-test session, names and clean-up
# ------------------------------------------------------------------------------------------------

_counter = itertools.count()


@pytest.fixture
def ifname(request: pytest.FixtureRequest) -> str:
    """An interface name no other test uses (a server is shared by the whole run)."""
    return f"ct{zlib.crc32(request.node.nodeid.encode()):08x}{next(_counter)}"


def interface_xml(name: str, description: str | None = None, operation: str | None = None,
                  if_type: str | None = "ethernetCsmacd", enabled: bool | None = None) -> str:  # fmt: skip
    """One ietf-interfaces entry; ``if_type=None`` leaves out the mandatory ``type``."""
    attrs = f' xmlns:nc="{NC_NS}" nc:operation="{operation}"' if operation else ""
    parts = [f"<name>{name}</name>"]
    if operation not in ("delete", "remove") and if_type is not None:
        parts.append(f'<type xmlns:ianaift="{IANA_NS}">ianaift:{if_type}</type>')
    if description is not None:
        parts.append(f"<description>{description}</description>")
    if enabled is not None:
        parts.append(f"<enabled>{str(enabled).lower()}</enabled>")
    return f'<interfaces xmlns="{IF_NS}"><interface{attrs}>{"".join(parts)}</interface></interfaces>'


def interface_filter(name: str) -> str:
    return f'<interfaces xmlns="{IF_NS}"><interface><name>{name}</name></interface></interfaces>'


def apply(driver: Driver, config_xml: str) -> None:
    """Make ``config_xml`` running by the device's own path (candidate+commit or writable-running)."""
    driver.load_candidate(config_xml)
    if driver.has(CANDIDATE):
        driver.commit()


@pytest.fixture
def nc(nc_target: NetconfTarget, ifname: str) -> Iterator[Driver]:
    """An open session; afterwards the test's interfaces are removed and candidate discarded."""
    driver = nc_target.connect()
    yield driver
    driver.close()  # first: its locks would block the clean-up session
    # The clean-up is not under test: give a loaded machine's netconfd more time than a test's RPCs get
    # (a 10 s discard-changes timeout at teardown once failed a CI run at load 10).
    cleanup = nc_target.connect(timeout_s=CLEANUP_TIMEOUT_S)
    try:
        if cleanup.has(CANDIDATE):
            cleanup.discard()
        for suffix in ("", "b"):
            if ifname + suffix in cleanup.get_config("running", interface_filter(ifname + suffix)):
                apply(cleanup, interface_xml(ifname + suffix, operation="delete"))
    finally:
        cleanup.close()


def without_credentials(endpoint: DeviceEndpoint, **changes: Any) -> DeviceEndpoint:
    return dataclasses.replace(endpoint, **changes)


def running_has(driver: Driver, name: str) -> bool:
    return f"<name>{name}</name>" in driver.get_config("running", interface_filter(name)).replace(" ", "")


def wait_for(predicate: Callable[[], bool], timeout_s: float, interval_s: float) -> bool:
    """Poll with a deadline (the condition is on a remote device; no event to await)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval_s)
    return predicate()
