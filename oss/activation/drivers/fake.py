"""In-memory driver with the semantics of the real ones, for unit tests and dry runs.

A :class:`FakeDevice` is the device (datastores, locks, pending confirmed commit, MIB); any number of
:class:`FakeDriver` sessions talk to it, so lock contention and confirm-from-another-session work as on
a NETCONF server (RFC 6241 §7.5, §8.4). Profiles mirror the simulator's: ``pe-router`` (candidate +
confirmed-commit:1.1 + validate), ``cpe`` (writable-running + rollback-on-error), ``legacy-switch``
(SNMP only). Time comes from an injectable clock; a pending confirmed commit whose timeout passed is
reverted at the next operation on the device.
"""

from __future__ import annotations

import itertools
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from lxml import etree

from oss.activation.drivers import xmlconfig
from oss.activation.drivers.base import (
    BASE_10,
    BASE_11,
    CANDIDATE,
    CONFIRMED_COMMIT,
    CONFIRMED_COMMIT_11,
    ROLLBACK_ON_ERROR,
    SNMP_GET,
    SNMP_SET,
    SNMP_V2C,
    SNMP_V3,
    STARTUP,
    VALIDATE,
    VALIDATE_11,
    WRITABLE_RUNNING,
    CommitHandle,
    Datastore,
    Driver,
    EditOperation,
    ReadBack,
    RpcError,
    SetOutcome,
    Varbind,
)
from oss.activation.drivers.credentials import DeviceEndpoint
from oss.activation.drivers.errors import (
    AuthenticationFailed,
    DeviceTimeout,
    DeviceUnreachable,
    LockDenied,
    RpcFailed,
    SessionClosed,
    SnmpError,
)

PROFILES: dict[str, frozenset[str]] = {
    "pe-router": frozenset(
        {BASE_10, BASE_11, CANDIDATE, CONFIRMED_COMMIT, CONFIRMED_COMMIT_11, VALIDATE, VALIDATE_11}
        | {ROLLBACK_ON_ERROR, STARTUP, SNMP_V2C, SNMP_V3, SNMP_GET, SNMP_SET}
    ),
    "cpe": frozenset({BASE_10, BASE_11, WRITABLE_RUNNING, ROLLBACK_ON_ERROR}),
    "legacy-switch": frozenset({SNMP_V2C, SNMP_V3, SNMP_GET, SNMP_SET}),
}
NETCONF_CAPABILITIES = frozenset({BASE_10, BASE_11, CANDIDATE, WRITABLE_RUNNING})
SNMP_CAPABILITIES = frozenset({SNMP_V2C, SNMP_V3, SNMP_GET, SNMP_SET})
IANA_IF_TYPE = "urn:ietf:params:xml:ns:yang:iana-if-type"
IF_TYPES = {"ethernetCsmacd", "softwareLoopback", "l2vlan", "ieee8023adLag", "other", "propVirtual"}

SYS_DESCR = "1.3.6.1.2.1.1.1.0"
SYS_NAME = "1.3.6.1.2.1.1.5.0"
IF_ALIAS = "1.3.6.1.2.1.31.1.1.1.18"
IF_DESCR = "1.3.6.1.2.1.2.2.1.2"
IF_ADMIN_STATUS = "1.3.6.1.2.1.2.2.1.7"


def _empty() -> etree._Element:
    return etree.Element(f"{{{xmlconfig.NC_NS}}}data")


def _copy(root: etree._Element) -> etree._Element:
    return xmlconfig.parse(xmlconfig.to_text(root))


def _oid_key(oid: str) -> tuple[int, ...]:
    return tuple(int(part) for part in oid.strip(".").split("."))


@dataclass
class _Pending:
    persist_id: str | None
    deadline: float
    before: etree._Element
    session: int


@dataclass
class FakeDevice:
    """The simulated device's state. ``unresponsive`` makes SNMP requests time out (the SET having
    been applied or not, as ``apply_when_unresponsive`` says), like the simulator's snmp-timeout fault."""

    name: str
    profile: str = "pe-router"
    username: str = "admin"
    password: str = "admin"
    community_ro: str = "public"
    community_rw: str = "private"
    clock: Callable[[], float] = time.monotonic
    running: etree._Element = field(default_factory=_empty)
    candidate: etree._Element = field(default_factory=_empty)
    startup: etree._Element = field(default_factory=_empty)
    locks: dict[str, int] = field(default_factory=dict)
    pending: _Pending | None = None
    unresponsive: bool = False
    apply_when_unresponsive: bool = False
    mib: dict[str, Varbind] = field(default_factory=dict)
    writable: dict[str, str] = field(default_factory=dict)  # OID prefix -> required SNMP type
    _sessions: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def __post_init__(self) -> None:
        self.capabilities = PROFILES[self.profile]
        if not self.mib:
            self.mib = {
                SYS_DESCR: Varbind.octets(SYS_DESCR, f"Provisio fake {self.profile}"),
                SYS_NAME: Varbind.octets(SYS_NAME, self.name),
            }
            for index in (1, 2):
                self.mib[f"{IF_DESCR}.{index}"] = Varbind.octets(f"{IF_DESCR}.{index}", f"ge-0/0/{index}")
                self.mib[f"{IF_ADMIN_STATUS}.{index}"] = Varbind.integer(f"{IF_ADMIN_STATUS}.{index}", 1)
                self.mib[f"{IF_ALIAS}.{index}"] = Varbind.octets(f"{IF_ALIAS}.{index}", "")
            self.writable = {IF_ALIAS: "OctetString", IF_ADMIN_STATUS: "Integer32", SYS_NAME: "OctetString"}

    def __repr__(self) -> str:
        return f"FakeDevice(name={self.name!r}, profile={self.profile!r})"

    def new_session(self) -> int:
        return next(self._sessions)

    def tick(self) -> None:
        """Revert a confirmed commit whose confirm-timeout passed (RFC 6241 §8.4.1)."""
        if self.pending is not None and self.clock() >= self.pending.deadline:
            self.running = self.pending.before
            self.pending = None

    def session_ended(self, session: int) -> None:
        for target, holder in list(self.locks.items()):
            if holder == session:
                del self.locks[target]
                if target == "candidate":  # RFC 6241 §7.5: a lost lock discards candidate changes
                    self.candidate = _copy(self.running)
        # A confirmed commit without persist is reverted when its session ends (RFC 6241 §8.4.1).
        if self.pending is not None and self.pending.persist_id is None and self.pending.session == session:
            self.running = self.pending.before
            self.pending = None


class FakeNetwork:
    """Fake devices by name, for the registry."""

    def __init__(self, devices: Sequence[FakeDevice] = ()) -> None:
        self.devices = {device.name: device for device in devices}

    def add(self, device: FakeDevice) -> FakeDevice:
        self.devices[device.name] = device
        return device


def _rpc_error(tag: str, message: str, path: str | None = None, error_type: str = "application") -> RpcError:
    return RpcError(error_type=error_type, error_tag=tag, error_path=path, error_message=message)


def _reveal(secret: object, default: str) -> str:
    reveal = getattr(secret, "reveal", None)
    return str(reveal()) if reveal is not None else default


class FakeDriver(Driver):
    """A session to a :class:`FakeDevice`; same interface, errors and semantics as the real drivers."""

    def __init__(
        self,
        device: FakeDevice,
        endpoint: DeviceEndpoint | None = None,
        timeout_s: float = 30.0,
        snmp_version: str = "v2c",
    ) -> None:
        self.fake = device
        self.device = device.name
        self.endpoint = endpoint
        self.timeout_s = timeout_s
        self.snmp_version = snmp_version
        snmp = endpoint.snmp if endpoint is not None else None
        self._read_community = _reveal(snmp.community_ro if snmp else None, device.community_ro)
        self._write_community = _reveal(snmp.community_rw if snmp else None, device.community_rw)
        self._session: int | None = None
        self._snapshot: etree._Element | None = None
        self._pending_persist_id: str | None = None

    def __repr__(self) -> str:
        return f"FakeDriver(device={self.device!r}, session={self._session!r})"

    @property
    def capabilities(self) -> frozenset[str]:
        return self.fake.capabilities if self._session is not None else frozenset()

    @property
    def session_id(self) -> str | None:
        return str(self._session) if self._session is not None else None

    def open(self) -> None:
        password = self.endpoint.password if self.endpoint is not None else None
        if password is not None and password.reveal() != self.fake.password:
            raise AuthenticationFailed(self.device, "connect", "authentication refused")
        self._session = self.fake.new_session()

    def close(self) -> None:
        if self._session is not None:
            self.fake.session_ended(self._session)
            self._session = None

    drop = close  # no close-session to send in memory: a drop and a close end the session alike

    def _enter(self, operation: str, capability: str | None = None) -> int:
        if self._session is None:
            raise SessionClosed(self.device, operation, "session is not open")
        if capability is not None:
            self.require(capability, operation)
        self.fake.tick()
        return self._session

    def _check_lock(self, target: str, operation: str) -> None:
        holder = self.fake.locks.get(target)
        if holder is not None and holder != self._session:
            error = _rpc_error("in-use", f"{target} is locked by session {holder}", error_type="protocol")
            raise RpcFailed(self.device, operation, "in-use", rpc_errors=[error])

    # -- configuration -----------------------------------------------------------------------
    def get_config(self, source: Datastore = "running", filter: str | None = None) -> str:
        self._enter("get-config", BASE_10)
        if source == "candidate":
            self.require(CANDIDATE, "get-config")
        root = {"running": self.fake.running, "candidate": self.fake.candidate, "startup": self.fake.startup}[source]
        data = _empty()
        for node in xmlconfig.subtree_filter(list(root), filter):
            data.append(node)
        return xmlconfig.to_text(data)

    def lock(self, target: Datastore = "candidate", wait_s: float = 10.0) -> None:
        session = self._enter("lock", BASE_10)
        deadline = time.monotonic() + wait_s
        while True:
            holder = self.fake.locks.get(target)
            if holder is None:
                if target == "candidate" and self._candidate_dirty():
                    raise RpcFailed(  # RFC 6241 §7.5: cannot lock a modified candidate
                        self.device, "lock", "candidate modified", rpc_errors=[_rpc_error("lock-denied", "dirty")]
                    )
                self.fake.locks[target] = session
                return
            if holder == session:
                error = _rpc_error("lock-denied", "already locked by this session", error_type="protocol")
                raise LockDenied(self.device, "lock", "lock held", rpc_errors=[error], holder=str(holder))
            if time.monotonic() >= deadline:
                error = RpcError(
                    error_type="protocol",
                    error_tag="lock-denied",
                    error_message="lock held by another session",
                    error_info={"session-id": str(holder)},
                )
                raise LockDenied(self.device, "lock", "lock held", rpc_errors=[error], holder=str(holder))
            time.sleep(0.01)  # another thread's session may unlock

    def unlock(self, target: Datastore = "candidate") -> None:
        session = self._enter("unlock", BASE_10)
        if self.fake.locks.get(target) != session:
            raise RpcFailed(
                self.device, "unlock", "not locked by this session",
                rpc_errors=[_rpc_error("operation-failed", "not locked by this session", error_type="protocol")],
            )  # fmt: skip
        del self.fake.locks[target]

    def _candidate_dirty(self) -> bool:
        return xmlconfig.to_text(self.fake.candidate) != xmlconfig.to_text(self.fake.running)

    @property
    def mode(self) -> str:
        return "candidate" if self.has(CANDIDATE) else "writable-running"

    def load_candidate(self, config_xml: str, operation: EditOperation = "merge") -> None:
        self._enter("edit-config", BASE_10)
        if not (self.has(CANDIDATE) or self.has(WRITABLE_RUNNING)):
            self.require(CANDIDATE, "edit-config")
        target = self.mode if self.mode == "candidate" else "running"
        self._check_lock(target, "edit-config")
        root = self.fake.candidate if target == "candidate" else self.fake.running
        if target == "running" and self._snapshot is None:
            self._snapshot = _copy(self.fake.running)
        work = _copy(root)
        config = xmlconfig.config_element(config_xml)
        try:
            if operation == "replace":
                work = _empty()
                operation = "merge"
            xmlconfig.apply_edit(work, config, operation)
            self._check_types(work)
        except xmlconfig.EditError as exc:  # rollback-on-error: the target is left as it was
            error = _rpc_error(exc.tag, exc.message, exc.path)
            raise RpcFailed(self.device, "edit-config", f"{exc.tag}: {exc.message}", rpc_errors=[error]) from None
        if target == "candidate":
            self.fake.candidate = work
        else:
            self.fake.running = work

    def _check_types(self, root: etree._Element) -> None:
        """The one YANG rule the fake knows: ietf-interfaces ``type`` is mandatory, an iana-if-type."""
        for interface in root.iter("{urn:ietf:params:xml:ns:yang:ietf-interfaces}interface"):
            kind = interface.find("{urn:ietf:params:xml:ns:yang:ietf-interfaces}type")
            path = xmlconfig.describe(interface)
            if kind is None:
                raise xmlconfig.EditError("data-missing", path + "/type", "missing mandatory type")
            prefix, _, name = (kind.text or "").strip().partition(":")
            if kind.nsmap.get(prefix) != IANA_IF_TYPE or name not in IF_TYPES:
                raise xmlconfig.EditError("invalid-value", path + "/type", "invalid identity value")

    def compare(self) -> str:
        self._enter("compare", BASE_10)
        running = xmlconfig.canonical(list(self.fake.running))
        if self.mode == "candidate":
            return xmlconfig.unified_diff(running, xmlconfig.canonical(list(self.fake.candidate)))
        before = xmlconfig.canonical(list(self._snapshot if self._snapshot is not None else self.fake.running))
        return xmlconfig.unified_diff(before, running, "running@before", "running")

    def validate(self) -> None:
        self._enter("validate", VALIDATE)
        try:
            self._check_types(self.fake.candidate)
        except xmlconfig.EditError as exc:
            error = _rpc_error(exc.tag, exc.message, exc.path)
            raise RpcFailed(self.device, "validate", exc.tag, rpc_errors=[error]) from None

    def commit(self, confirm_timeout_s: int | None = None, persist_id: str | None = None) -> CommitHandle:
        session = self._enter("commit", BASE_10)
        if self.mode == "writable-running":
            snapshot = xmlconfig.to_text(self._snapshot) if self._snapshot is not None else None
            return CommitHandle(self.device, "writable-running", confirmed=False, rollback_config=snapshot)
        self._check_lock("running", "commit")
        self._check_lock("candidate", "commit")
        pending = self.fake.pending
        if confirm_timeout_s is None:
            if pending is not None and pending.persist_id is None and pending.session == session:
                self.fake.pending = None  # a plain commit from the same session confirms (§8.4.5.1)
            self.fake.running = _copy(self.fake.candidate)
            return CommitHandle(self.device, "candidate", confirmed=False)
        self.require(CONFIRMED_COMMIT, "confirmed-commit")
        if persist_id is None:
            persist_id = uuid.uuid4().hex
        before = pending.before if pending is not None else _copy(self.fake.running)
        self.fake.running = _copy(self.fake.candidate)
        self.fake.pending = _Pending(persist_id, self.fake.clock() + confirm_timeout_s, before, session)
        self._pending_persist_id = persist_id
        return CommitHandle(
            self.device, "candidate", confirmed=True, persist_id=persist_id,
            confirm_timeout_s=confirm_timeout_s, deadline=time.time() + confirm_timeout_s,
        )  # fmt: skip

    def _match_pending(self, operation: str, persist_id: str | None) -> None:
        pending = self.fake.pending
        persist_id = persist_id or self._pending_persist_id
        if pending is None:
            error = _rpc_error("operation-failed", "no confirmed commit is pending", error_type="protocol")
            raise RpcFailed(self.device, operation, "no pending confirmed commit", rpc_errors=[error])
        if pending.persist_id is not None and pending.persist_id != persist_id:
            error = _rpc_error("invalid-value", "persist-id does not match", error_type="protocol")
            raise RpcFailed(self.device, operation, "invalid-value", rpc_errors=[error])

    def confirm(self, persist_id: str | None = None) -> None:
        self._enter("confirm", BASE_10)
        if self.mode == "writable-running":
            self._snapshot = None
            return
        self._match_pending("commit", persist_id)
        self.fake.pending = None
        self._pending_persist_id = None

    def cancel_commit(self, persist_id: str | None = None) -> None:
        self._enter("cancel-commit", BASE_10)
        if self.mode == "writable-running":
            self._restore(self._snapshot)
            return
        self.require(CONFIRMED_COMMIT_11, "cancel-commit")
        self._match_pending("cancel-commit", persist_id)
        assert self.fake.pending is not None
        self.fake.running = self.fake.pending.before
        self.fake.candidate = _copy(self.fake.running)
        self.fake.pending = None
        self._pending_persist_id = None

    def discard(self) -> None:
        self._enter("discard-changes", BASE_10)
        if self.mode == "writable-running":
            self._restore(self._snapshot)
            return
        self.fake.candidate = _copy(self.fake.running)

    def rollback(self, handle: CommitHandle | None = None) -> None:
        self._enter("rollback", BASE_10)
        if handle is not None and handle.mode == "writable-running" and handle.rollback_config:
            self._restore(xmlconfig.parse(handle.rollback_config))
        elif self.mode == "writable-running":
            self._restore(self._snapshot)
        elif (handle is not None and handle.confirmed) or self.fake.pending is not None:
            self.cancel_commit(handle.persist_id if handle else None)
        else:
            self.discard()

    def _restore(self, snapshot: etree._Element | None) -> None:
        if snapshot is not None:
            self.fake.running = _copy(snapshot)
        self._snapshot = None

    def verify(self, expected_xml: str) -> ReadBack:
        running = self.get_config("running")
        result = xmlconfig.containment(expected_xml, running)
        return ReadBack(not result.missing and not result.unexpected, result.missing, result.unexpected, running)

    # -- SNMP --------------------------------------------------------------------------------
    def _snmp(self, operation: str) -> None:
        self._enter(operation, SNMP_GET)
        known = {self.fake.community_ro, self.fake.community_rw}
        if self.fake.unresponsive or (self.snmp_version == "v2c" and self._read_community not in known):
            # An agent drops requests with an unknown community silently (RFC 3584 §5.2.1).
            raise DeviceTimeout(self.device, operation, f"no response within {self.timeout_s}s")

    def get(self, oids: Sequence[str]) -> list[Varbind]:
        self._snmp("snmp-get")
        return [self.fake.mib.get(oid.strip("."), Varbind(oid.strip("."), None, "noSuchInstance")) for oid in oids]

    def walk(self, oid: str, bulk: bool = True) -> list[Varbind]:
        self._snmp("snmp-walk")
        prefix = _oid_key(oid)
        found = [vb for key, vb in self.fake.mib.items() if _oid_key(key)[: len(prefix)] == prefix]
        return sorted(found, key=lambda vb: _oid_key(vb.oid))

    def set(self, varbinds: Sequence[Varbind]) -> SetOutcome:
        self._enter("snmp-set", SNMP_SET)
        pdu = tuple(varbinds)
        if self.fake.unresponsive or (
            self.snmp_version == "v2c" and self._write_community not in {self.fake.community_ro, self.fake.community_rw}
        ):
            if self.fake.unresponsive and self.fake.apply_when_unresponsive:
                self._apply(pdu)
            return SetOutcome("unknown", pdu, reason=f"no response within {self.timeout_s}s")
        for index, varbind in enumerate(pdu, start=1):
            status = self._refusal(varbind)
            if status is not None:  # RFC 3416 §4.2.5: one bad varbind and nothing is applied
                return SetOutcome("failed", pdu, error_status=status, error_index=index)
        self._apply(pdu)
        return SetOutcome("applied", pdu, error_status="noError", error_index=0)

    def _refusal(self, varbind: Varbind) -> str | None:
        if self.snmp_version == "v2c" and self._write_community != self.fake.community_rw:
            return "noAccess"
        oid = varbind.oid.strip(".")
        rule = next(
            (t for prefix, t in self.fake.writable.items() if oid == prefix or oid.startswith(prefix + ".")), None
        )
        if rule is None:
            return "notWritable" if oid in self.fake.mib else "noCreation"
        if rule != varbind.type:
            return "wrongType"
        if oid not in self.fake.mib:
            return "noCreation"
        return None

    def _apply(self, pdu: Sequence[Varbind]) -> None:
        for varbind in pdu:
            self.fake.mib[varbind.oid.strip(".")] = Varbind(varbind.oid.strip("."), varbind.value, varbind.type)


__all__ = ["PROFILES", "DeviceUnreachable", "FakeDevice", "FakeDriver", "FakeNetwork", "SnmpError"]
