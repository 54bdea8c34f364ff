"""A fleet of simulated devices in one process, on one event loop.

The fleet plans the devices (names, profiles, ports: deterministic for a seed), gives each its
persistent identity (host key, credentials: simulators/hostkeys.py), starts every NETCONF and SNMP
endpoint concurrently, applies the ``--faults`` file, serves the control API and writes the
manifest. On stop it closes every listener and persists each device's datastores to the state dir,
so that a restart with the same ``--state-dir`` comes back with the same keys, passwords and config.

State directory layout::

    STATE_DIR/secret                 random secret the credentials are derived from (0600)
    STATE_DIR/hostkeys/<name>.key    ed25519 host key per device (0600)
    STATE_DIR/devices/<name>.json    Device.to_json() written at shutdown

Without a state directory nothing is written but the manifest.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import asyncssh

from simulators.faults import Fault, FaultKind, FaultSet
from simulators.faults_file import FaultPlan, load_faults_file
from simulators.hostkeys import (
    CredentialSource,
    DeviceCredentials,
    HostKeyStore,
    fingerprint,
    public_key_line,
)
from simulators.manifest import DeviceEntry, Manifest, SnmpCredentials, SnmpV3User, write_manifest
from simulators.profiles import PROFILES, Profile
from simulators.reboot import RebootScheduler

if TYPE_CHECKING:
    # The protocol stacks (yangson, asyncssh server, pysnmp) load only when a fleet starts, so that
    # planning, `--help` and argument errors stay instant.
    from simulators.device import Device
    from simulators.netconf.server import NetconfEndpoint
    from simulators.snmp import SnmpEndpoint

logger = logging.getLogger(__name__)

HOST = "127.0.0.1"
USERNAME = "admin"
SNMP_V3_USER = "provisio"
MIXED = "mixed"
PROFILE_CHOICES = ("pe-router", "cpe", "legacy-switch", MIXED)

#: Default name prefix per profile when --name-prefix is not given: pe1, cpe1, sw1.
NAME_PREFIX = {"pe-router": "pe", "cpe": "cpe", "legacy-switch": "sw"}

#: The mixed blend: an access network has few PE routers, many CPEs and some old switches.
MIXED_SHARES = (("pe-router", 0.10), ("legacy-switch", 0.20))


class FleetStartError(RuntimeError):
    """A device could not start (port in use, bad state file): the whole fleet is refused."""


@dataclass(frozen=True)
class FleetConfig:
    devices: int
    manifest: Path
    profile: str = MIXED
    base_port: int | None = None
    state_dir: Path | None = None
    seed: int = 0
    commit_latency_ms: int = 0
    faults_file: Path | None = None
    control_port: int = 0
    name_prefix: str | None = None
    authorized_keys: Path | None = None
    host: str = HOST


@dataclass(frozen=True)
class DeviceSpec:
    """Where device number ``index`` (0-based) lives, before anything is started."""

    index: int
    name: str
    profile: str
    netconf_port: int
    snmp_port: int


def mixed_profiles(count: int, seed: int) -> list[str]:
    """A seeded blend: ~10 % PE routers, ~20 % legacy switches, the rest CPEs.

    Every profile appears once the fleet has three devices, so a small mixed fleet still has a
    device for each driver path.
    """
    if count < 3:
        return ["pe-router", "cpe"][:count]
    profiles: list[str] = []
    for profile, share in MIXED_SHARES:
        profiles += [profile] * max(1, round(count * share))
    profiles += ["cpe"] * (count - len(profiles))
    random.Random(f"mixed:{seed}").shuffle(profiles)
    return profiles


def plan_devices(
    count: int, profile: str, *, seed: int = 0, base_port: int | None = None, name_prefix: str | None = None
) -> list[DeviceSpec]:
    """Names, profiles and ports of every device: the same inputs always give the same plan."""
    if profile != MIXED and profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; known: {', '.join(PROFILE_CHOICES)}")
    profiles = mixed_profiles(count, seed) if profile == MIXED else [profile] * count
    numbers: Counter[str] = Counter()
    specs = []
    for index, device_profile in enumerate(profiles):
        if name_prefix is not None:
            name = f"{name_prefix}{index + 1}"
        else:
            numbers[device_profile] += 1
            name = f"{NAME_PREFIX[device_profile]}{numbers[device_profile]}"
        # Two ports per device even when a profile lacks one interface: a device keeps its ports
        # when the blend changes, and 0 means "let the kernel choose".
        netconf_port = base_port + 2 * index if base_port else 0
        snmp_port = base_port + 2 * index + 1 if base_port else 0
        specs.append(DeviceSpec(index, name, device_profile, netconf_port, snmp_port))
    return specs


@dataclass
class RunningDevice:
    """One device and the endpoints serving it."""

    spec: DeviceSpec
    device: Device
    credentials: DeviceCredentials
    host_key: asyncssh.SSHKey | None
    netconf: NetconfEndpoint | None = None
    snmp: SnmpEndpoint | None = None

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def profile(self) -> Profile:
        return PROFILES[self.spec.profile]

    def manifest_entry(self, host: str) -> DeviceEntry:
        return DeviceEntry(
            name=self.name,
            profile=self.spec.profile,
            host=host,
            netconf_port=self.netconf.port if self.netconf else None,
            snmp_port=self.snmp.port if self.snmp else None,
            username=USERNAME,
            password=self.credentials.password,
            snmp=SnmpCredentials(
                v3=SnmpV3User(
                    user=SNMP_V3_USER,
                    auth_key=self.credentials.snmp_auth_key,
                    priv_key=self.credentials.snmp_priv_key,
                )
            ),
            ssh_host_key=public_key_line(self.host_key) if self.host_key else None,
            ssh_host_key_fingerprint=fingerprint(self.host_key) if self.host_key else None,
        )


@dataclass
class Fleet:
    """Starts, serves and stops the devices of one FleetConfig."""

    config: FleetConfig
    devices: dict[str, RunningDevice] = field(default_factory=dict)
    control_url: str = ""
    _state_dir: Path | None = None
    _control: Any = None
    _client_keys: list[asyncssh.SSHKey] = field(default_factory=list)
    _reboots: RebootScheduler | None = None
    _started: bool = False
    _stopped: bool = False

    async def start(self) -> None:
        started = time.monotonic()
        # A manifest left by an earlier run would tell a poller the fleet is up before it is.
        self.config.manifest.unlink(missing_ok=True)
        self._state_dir = self._prepare_state_dir()
        plan = plan_devices(
            self.config.devices,
            self.config.profile,
            seed=self.config.seed,
            base_port=self.config.base_port,
            name_prefix=self.config.name_prefix,
        )
        fault_plan = load_faults_file(self.config.faults_file) if self.config.faults_file else FaultPlan()
        for pattern in fault_plan.unmatched_patterns(spec.name for spec in plan):
            logger.warning("faults file: %r matches no device", pattern)
        self._client_keys = self._read_authorized_keys()
        keys = HostKeyStore(self._state_dir / "hostkeys" if self._state_dir else None)
        credentials = CredentialSource(self._state_dir)
        for spec in plan:
            self.devices[spec.name] = self._build_device(spec, keys, credentials, fault_plan)
        logger.info("planned %d devices in %.2f s", len(plan), time.monotonic() - started)
        results = await asyncio.gather(
            *(self._start_endpoints(running) for running in self.devices.values()), return_exceptions=True
        )
        failures = [(name, r) for name, r in zip(self.devices, results, strict=True) if isinstance(r, BaseException)]
        if failures:
            name, error = failures[0]
            raise FleetStartError(f"{len(failures)} device(s) failed to start, first {name}: {error}") from error
        from simulators.control import ControlServer  # starlette/uvicorn only once devices are up

        self._control = ControlServer(self)
        self.control_url = await self._control.start(self.config.host, self.config.control_port)
        # Reboot faults from the faults file count their after_ms from here: every device is up.
        self._reboots = RebootScheduler(self.reboot)
        for running in self.devices.values():
            self._reboots.arm(running.name, running.device.faults)
        write_manifest(self.config.manifest, self.manifest())
        self._started = True
        logger.info("manifest written to %s", self.config.manifest)

    def _read_authorized_keys(self) -> list[asyncssh.SSHKey]:
        """Client public keys for RFC 4252 §7 public-key auth, shared by every device."""
        if self.config.authorized_keys is None:
            return []
        try:
            return list(asyncssh.read_public_key_list(str(self.config.authorized_keys)))
        except (OSError, asyncssh.KeyImportError) as error:
            raise FleetStartError(f"--authorized-keys {self.config.authorized_keys}: {error}") from error

    def _prepare_state_dir(self) -> Path | None:
        """The state directory, created if needed; None without --state-dir.

        Without one nothing is written at all (keys and credentials live in memory for the run), so
        a fleet killed with SIGKILL leaves no private keys behind in /tmp.
        """
        if self.config.state_dir is None:
            return None
        state_dir = Path(self.config.state_dir)
        state_dir.mkdir(parents=True, exist_ok=True)
        return state_dir

    def _device_state_path(self, name: str) -> Path | None:
        return self._state_dir / "devices" / f"{name}.json" if self._state_dir else None

    def _build_device(
        self, spec: DeviceSpec, keys: HostKeyStore, credentials: CredentialSource, fault_plan: FaultPlan
    ) -> RunningDevice:
        profile = PROFILES[spec.profile]
        # One generator per device, seeded by name: a device's fault draws do not depend on how
        # many devices run or in which order their sessions arrive.
        faults = FaultSet(random.Random(f"{self.config.seed}:{spec.name}"))
        fault_plan.apply(spec.name, faults)
        device = self._load_or_create_device(spec, profile, faults)
        host_key = keys.load_or_create(spec.name) if profile.netconf else None
        return RunningDevice(spec, device, credentials.for_device(spec.name), host_key)

    def _load_or_create_device(self, spec: DeviceSpec, profile: Profile, faults: FaultSet) -> Device:
        from simulators.device import Device

        path = self._device_state_path(spec.name)
        if path is not None and path.exists():
            try:
                document = json.loads(path.read_text(encoding="utf-8"))
                if document.get("profile") == spec.profile:
                    device = Device.from_json(document, seed=self.config.seed)
                    # Faults are scripted per run (--faults, control API), not part of the saved
                    # state, and --commit-latency-ms applies to this run.
                    device.faults = faults
                    device.commit_latency_ms = self.config.commit_latency_ms
                    return device
                logger.warning("%s: saved state is for profile %s; starting fresh", spec.name, document["profile"])
            except Exception as error:
                # Broad on purpose: a truncated or hand-edited state file (bad JSON, missing keys,
                # data the YANG modules now refuse) must cost one device its config, not the fleet.
                logger.warning("%s: cannot restore %s (%s); starting fresh", spec.name, path, error)
        return Device(spec.name, profile, faults=faults, commit_latency_ms=self.config.commit_latency_ms)

    async def _start_endpoints(self, running: RunningDevice) -> None:
        from simulators.netconf.server import start_netconf_server
        from simulators.snmp import start_snmp_agent

        host = self.config.host
        profile = running.profile
        if profile.netconf:
            assert running.host_key is not None
            running.netconf = await start_netconf_server(
                running.device,
                host=host,
                port=running.spec.netconf_port,
                host_key=running.host_key,
                users={USERNAME: running.credentials.password},
                authorized_keys=self._client_keys,
            )
        if profile.snmp:
            running.snmp = await start_snmp_agent(
                running.device,
                host=host,
                port=running.spec.snmp_port,
                credentials=self.snmp_credentials(running),
            )

    def snmp_credentials(self, running: RunningDevice) -> SnmpCredentials:
        return running.manifest_entry(self.config.host).snmp

    def manifest(self) -> Manifest:
        return Manifest(
            control_url=self.control_url,
            pid=os.getpid(),
            devices=[running.manifest_entry(self.config.host) for running in self.devices.values()],
        )

    @property
    def reboot_scheduler(self) -> RebootScheduler | None:
        return self._reboots

    async def reboot(self, name: str, down_ms: float = 0) -> None:
        """Reboot one device: sessions drop and running reverts to startup, as on a real router.

        The one path for both the control API's reboot and the ``reboot`` fault. For ``down_ms``
        afterwards the device refuses NETCONF connections and drops SNMP requests.
        """
        running = self.devices[name]
        # Device.reboot aborts the NETCONF sessions it knows, releases locks and cancels a pending
        # confirmed commit; the endpoint then cuts every SSH connection, also those still in auth.
        running.device.reboot(down_ms=down_ms)
        if running.netconf is not None:
            await running.netconf.drop_sessions()

    def set_fault(self, name: str, fault: Fault) -> None:
        """Arm ``fault`` on one device (replacing that kind); a reboot fault's clock starts now."""
        running = self.devices[name]
        running.device.faults.set(fault)
        if fault.kind == FaultKind.REBOOT and self._reboots is not None:
            self._reboots.arm(name, running.device.faults)

    def clear_faults(self, name: str, kind: FaultKind | None = None) -> None:
        """Disarm one kind of fault or all; clearing ``reboot`` also ends a boot in progress."""
        running = self.devices[name]
        running.device.faults.clear(kind)
        if kind in (None, FaultKind.REBOOT):
            if self._reboots is not None:
                self._reboots.disarm(name)
            running.device.finish_boot()

    async def stop(self) -> None:
        """Close the control API and every listener, then persist device state. Idempotent."""
        if self._stopped:
            return
        self._stopped = True
        started = time.monotonic()
        if self._reboots is not None:
            await self._reboots.close()
        if self._control is not None:
            await self._control.stop()
        logger.debug("control API stopped after %.2f s", time.monotonic() - started)
        closers = []
        for running in self.devices.values():
            for endpoint in (running.netconf, running.snmp):
                if endpoint is not None:
                    closers.append(endpoint.close())
        results = await asyncio.gather(*closers, return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                logger.warning("closing an endpoint failed: %s", result)
        logger.debug("endpoints closed after %.2f s", time.monotonic() - started)
        self._persist()
        self.config.manifest.unlink(missing_ok=True)
        logger.info("stopped in %.2f s", time.monotonic() - started)

    def _persist(self) -> None:
        if self._state_dir is None:
            return
        if not self._started:
            return  # a fleet that never ran has nothing new to keep; do not overwrite saved state
        devices_dir = self._state_dir / "devices"
        devices_dir.mkdir(exist_ok=True)
        for running in self.devices.values():
            path = devices_dir / f"{running.name}.json"
            temp = path.with_suffix(".json.tmp")
            temp.write_text(json.dumps(running.device.to_json()), encoding="utf-8")
            os.replace(temp, path)
        logger.info("persisted %d devices to %s", len(self.devices), devices_dir)
