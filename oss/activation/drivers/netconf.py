"""NETCONF driver over ncclient 0.7.1 (RFC 6241 operations, RFC 6242 SSH transport).

The device's capabilities decide the path: ``:candidate`` (+ ``:confirmed-commit:1.1``) or
``:writable-running`` with ``:rollback-on-error`` (see :mod:`oss.activation.drivers.base`).
Host keys are checked against the known key of the endpoint; a device without a known key is refused.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

import ncclient.transport.session
import paramiko
from lxml import etree
from ncclient import manager
from ncclient.operations import RaiseMode, RPCError, TimeoutExpiredError
from ncclient.transport import AuthenticationError, SessionCloseError, SSHError, SSHUnknownHostError
from ncclient.transport.errors import TransportError

from oss.activation.drivers import xmlconfig
from oss.activation.drivers.base import (
    CANDIDATE,
    CONFIRMED_COMMIT,
    CONFIRMED_COMMIT_11,
    ROLLBACK_ON_ERROR,
    VALIDATE,
    WRITABLE_RUNNING,
    CommitHandle,
    Datastore,
    Driver,
    EditOperation,
    ReadBack,
    RpcError,
    short_capabilities,
)
from oss.activation.drivers.credentials import DeviceEndpoint
from oss.activation.drivers.errors import (
    AuthenticationFailed,
    CapabilityMissing,
    DeviceTimeout,
    DeviceUnreachable,
    DriverError,
    HostKeyMismatch,
    LockDenied,
    OutcomeUnknown,
    RpcFailed,
    SessionClosed,
)

# ncclient polls its transport every TICK seconds; 0.1 s default makes every RPC cost ~100 ms
# (NOTES.md: 10 -> 334 RPC/s at 0.002). Callers fanning out to hundreds of devices cap concurrency.
ncclient.transport.session.TICK = 0.002

logger = logging.getLogger(__name__)

T = TypeVar("T")

_LOCK_RETRY_FIRST_S = 0.05

# Server quirks found by the contract suite (README.md), detected from the hello.
YUMA123_VALIDATE_RESETS_CANDIDATE = "yuma123-validate-resets-candidate"
_YUMA_MODULE_NS = "http://netconfcentral.org/ns/yuma-ncx"


def detect_quirks(server_capabilities: frozenset[str]) -> frozenset[str]:
    """Server families whose known deviations the driver works around."""
    quirks = set()
    if any(uri.startswith(_YUMA_MODULE_NS) for uri in server_capabilities):
        quirks.add(YUMA123_VALIDATE_RESETS_CANDIDATE)
    return frozenset(quirks)


_LOCK_RETRY_MAX_S = 0.5


def parse_rpc_errors(error: RPCError) -> tuple[RpcError, ...]:
    """Every ``<rpc-error>`` of an ncclient RPCError as data (RFC 6241 §4.3)."""
    singles = getattr(error, "errors", None) or [error]
    parsed = []
    for single in singles:
        raw = getattr(single, "_raw", None)
        if raw is None or not hasattr(raw, "iter"):
            parsed.append(RpcError(error_type="rpc", error_tag=str(single.tag or "operation-failed")))
            continue
        fields: dict[str, str] = {}
        info: dict[str, str] = {}
        for child in raw:
            name = etree.QName(child).localname
            if name == "error-info":
                for item in child:
                    info[etree.QName(item).localname] = (item.text or "").strip()
            else:
                fields[name] = (child.text or "").strip()
        parsed.append(
            RpcError(
                error_type=fields.get("error-type", "rpc"),
                error_tag=fields.get("error-tag", "operation-failed"),
                error_severity=fields.get("error-severity", "error"),
                error_app_tag=fields.get("error-app-tag") or None,
                error_path=fields.get("error-path") or None,
                error_message=fields.get("error-message") or None,
                error_info=info,
            )
        )
    return tuple(parsed)


class NetconfDriver(Driver):
    """One NETCONF session to one device; every RPC bounded by ``timeout_s``."""

    def __init__(self, endpoint: DeviceEndpoint, timeout_s: float = 30.0, connect_timeout_s: float = 10.0):
        self.endpoint = endpoint
        self.device = endpoint.name
        self.timeout_s = timeout_s
        self.connect_timeout_s = connect_timeout_s
        self._manager: Any = None
        self._capabilities: frozenset[str] = frozenset()
        self.server_capabilities: frozenset[str] = frozenset()
        self._pending_persist_id: str | None = None
        self._pending_confirmed = False
        self._running_snapshot: str | None = None  # writable-running: running before our first edit
        self.session_id: str | None = None
        self.quirks: frozenset[str] = frozenset()

    def __repr__(self) -> str:  # no credentials, ever
        return (
            f"NetconfDriver(device={self.device!r}, host={self.endpoint.host!r}, "
            f"port={self.endpoint.netconf_port!r}, session_id={self.session_id!r})"
        )

    @property
    def capabilities(self) -> frozenset[str]:
        return self._capabilities

    # -- session ---------------------------------------------------------------------------
    def open(self) -> None:
        """SSH connect, check the host key, authenticate, exchange ``<hello>`` (RFC 6241 §8.1)."""
        endpoint = self.endpoint
        host_key = endpoint.ssh_host_key
        if not host_key:
            raise HostKeyMismatch(self.device, "connect", "no known SSH host key for this device")
        key_type, _, rest = host_key.strip().partition(" ")
        key_b64 = rest.split()[0] if rest else key_type
        deadline = _ConnectDeadline(self.connect_timeout_s)
        sock: socket.socket | None = None
        try:
            sock = socket.create_connection((endpoint.host, endpoint.netconf_port or 830), self.connect_timeout_s)
            deadline.guard(sock)
            self._manager = manager.connect(
                sock=sock,
                host=endpoint.host,
                port=endpoint.netconf_port or 830,
                username=endpoint.username,
                password=endpoint.password.reveal() if endpoint.password else None,
                key_filename=endpoint.private_key_file,
                hostkey_verify=True,
                hostkey_b64=key_b64,
                unknown_host_cb=lambda host, fingerprint: False,
                allow_agent=False,
                look_for_keys=False,
                timeout=deadline.remaining(),
                device_params={"name": "default"},
            )
        except Exception as exc:
            deadline.cancel()
            if sock is not None:
                sock.close()
            if deadline.expired or isinstance(exc, TimeoutError):
                raise self._connect_timeout() from None
            mapped = self._connect_error(exc)
            if mapped is None:
                raise
            raise mapped from None
        if not deadline.cancel():  # the deadline cut the socket just as the hello arrived
            self.drop()
            raise self._connect_timeout()
        self._manager.timeout = self.timeout_s
        self._manager.raise_mode = RaiseMode.ERRORS  # warnings are not failures (RFC 6241 §4.3)
        self.server_capabilities = frozenset(self._manager.server_capabilities)
        self._capabilities = short_capabilities(self.server_capabilities)
        self.quirks = detect_quirks(self.server_capabilities)
        self.session_id = str(self._manager.session_id)
        logger.debug("netconf session %s open to %s", self.session_id, self.device)

    def _connect_timeout(self) -> DeviceTimeout:
        message = f"no SSH session and hello within {self.connect_timeout_s}s"
        return DeviceTimeout(self.device, "connect", message)

    def _connect_error(self, exc: Exception) -> DriverError | None:
        """The driver error for a failed connect, or None for an exception that is a bug."""
        if isinstance(exc, SSHUnknownHostError):
            return HostKeyMismatch(self.device, "connect", "SSH host key does not match the known key")
        if isinstance(exc, AuthenticationError):
            return AuthenticationFailed(self.device, "connect", "authentication refused")
        if isinstance(exc, SSHError | TransportError | OSError | paramiko.SSHException | EOFError):
            return DeviceUnreachable(self.device, "connect", type(exc).__name__ + ": " + _safe(exc))
        return None

    def close(self) -> None:
        if self._manager is None:
            return
        manager_, self._manager = self._manager, None
        try:
            if manager_.connected:
                manager_.close_session()
        except Exception as exc:  # closing must never mask the caller's own error
            logger.debug("close-session to %s failed: %s", self.device, type(exc).__name__)
        finally:
            try:
                manager_._session.close()
            except Exception:
                logger.debug("transport close to %s failed", self.device)

    def drop(self) -> None:
        """Drop the transport without ``<close-session>``, as a crashed worker would (tests, chaos)."""
        if self._manager is not None:
            manager_, self._manager = self._manager, None
            manager_._session.close()

    def _call(self, operation: str, rpc: Callable[[Any], T], *, changes_running: bool = False) -> T:
        """Run one RPC. When ``changes_running`` and the reply is lost (timeout, session dropped), the
        device may have applied it: :class:`OutcomeUnknown`, so the caller reads back first."""
        if self._manager is None or not self._manager.connected:
            raise SessionClosed(self.device, operation, "session is not open")  # nothing was sent
        try:
            return rpc(self._manager)
        except RPCError as exc:
            errors = parse_rpc_errors(exc)
            if any(error.error_tag == "lock-denied" for error in errors):
                holder = next((e.error_info.get("session-id") for e in errors if e.error_info), None)
                raise LockDenied(
                    self.device, operation, "lock held by another session", rpc_errors=errors, holder=holder
                ) from None
            message = "; ".join(f"{e.error_tag}: {e.error_message or ''}".strip() for e in errors)
            raise RpcFailed(self.device, operation, message, rpc_errors=errors) from None
        except TimeoutExpiredError:
            message = f"no reply within {self.timeout_s}s"
            if changes_running:
                raise OutcomeUnknown(self.device, operation, message, cause="timeout") from None
            raise DeviceTimeout(self.device, operation, message) from None
        except (SessionCloseError, TransportError) as exc:
            if changes_running:
                message = f"session closed before the reply ({type(exc).__name__})"
                raise OutcomeUnknown(self.device, operation, message, cause="session-closed") from None
            raise SessionClosed(self.device, operation, type(exc).__name__) from None

    # -- configuration -----------------------------------------------------------------------
    def get_config(self, source: Datastore = "running", filter: str | None = None) -> str:
        subtree = ("subtree", filter) if filter else None
        reply = self._call("get-config", lambda m: m.get_config(source=source, filter=subtree))
        return str(reply.data_xml)

    def lock(self, target: Datastore = "candidate", wait_s: float = 10.0) -> None:
        deadline = time.monotonic() + wait_s
        pause = _LOCK_RETRY_FIRST_S
        while True:
            try:
                self._call("lock", lambda m: m.lock(target=target))
                return
            except LockDenied:
                if time.monotonic() + pause > deadline:
                    raise
            time.sleep(pause)  # the holder's unlock is not observable from this session
            pause = min(pause * 2, _LOCK_RETRY_MAX_S)

    def unlock(self, target: Datastore = "candidate") -> None:
        self._call("unlock", lambda m: m.unlock(target=target))

    @property
    def mode(self) -> str:
        if self.has(CANDIDATE):
            return "candidate"
        if self.has(WRITABLE_RUNNING):
            return "writable-running"
        raise CapabilityMissing(self.device, "edit-config", f"{CANDIDATE} or {WRITABLE_RUNNING}")

    def load_candidate(self, config_xml: str, operation: EditOperation = "merge") -> None:
        config = xmlconfig.config_element(config_xml)
        error_option = "rollback-on-error" if self.has(ROLLBACK_ON_ERROR) else None
        if self.mode == "candidate":
            target = "candidate"
        else:
            target = "running"
            if self._running_snapshot is None:
                self._running_snapshot = self.get_config("running")
        self._call(
            "edit-config",
            lambda m: m.edit_config(
                config=config, target=target, default_operation=operation, error_option=error_option
            ),
            changes_running=target == "running",
        )

    def compare(self) -> str:
        running = self.get_config("running")
        if self.mode == "candidate":
            after = self.get_config("candidate")
            return xmlconfig.unified_diff(_canonical(running), _canonical(after), "running", "candidate")
        before = self._running_snapshot if self._running_snapshot is not None else running
        return xmlconfig.unified_diff(_canonical(before), _canonical(running), "running@before", "running")

    def validate(self) -> None:
        self.require(VALIDATE, "validate")
        if YUMA123_VALIDATE_RESETS_CANDIDATE in self.quirks and self.mode == "candidate":
            # yuma123: after <validate source=candidate> the next <commit> silently drops the
            # candidate's changes. Validating the same content inline (RFC 6241 §8.6.1, source
            # <config>) gives the same verdict without touching candidate.
            inline = xmlconfig.config_element(self.get_config("candidate"))
            self._call("validate", lambda m: m.validate(source=inline))
            return
        # Without candidate the edit is already in running (writable-running): validate that.
        source = "candidate" if self.mode == "candidate" else "running"
        self._call("validate", lambda m: m.validate(source=source))

    def commit(self, confirm_timeout_s: int | None = None, persist_id: str | None = None) -> CommitHandle:
        if self.mode == "writable-running":
            # Already applied by edit-config; no device timer exists, the snapshot is the way back.
            handle = CommitHandle(
                self.device, "writable-running", confirmed=False, rollback_config=self._running_snapshot
            )
            return handle
        if confirm_timeout_s is None:
            self._call("commit", lambda m: m.commit(), changes_running=True)
            return CommitHandle(self.device, "candidate", confirmed=False)
        self.require(CONFIRMED_COMMIT, "confirmed-commit")
        if persist_id is None and self.has(CONFIRMED_COMMIT_11):
            persist_id = uuid.uuid4().hex
        if persist_id is not None:
            self.require(CONFIRMED_COMMIT_11, "confirmed-commit persist")
        self._call(
            "commit",
            lambda m: m.commit(confirmed=True, timeout=str(int(confirm_timeout_s)), persist=persist_id),
            changes_running=True,
        )
        self._pending_confirmed, self._pending_persist_id = True, persist_id
        return CommitHandle(
            self.device,
            "candidate",
            confirmed=True,
            persist_id=persist_id,
            confirm_timeout_s=int(confirm_timeout_s),
            deadline=time.time() + confirm_timeout_s,
        )

    def confirm(self, persist_id: str | None = None) -> None:
        if self.mode == "writable-running":
            self._running_snapshot = None  # nothing pending on the device; forget the way back
            return
        self.require(CONFIRMED_COMMIT, "confirm")
        persist_id = persist_id or self._pending_persist_id
        self._call(
            "commit", lambda m: m.commit(persist_id=persist_id) if persist_id else m.commit(), changes_running=True
        )
        self._pending_confirmed, self._pending_persist_id = False, None

    def cancel_commit(self, persist_id: str | None = None) -> None:
        if self.mode == "writable-running":
            self._restore_snapshot(self._running_snapshot)
            return
        self.require(CONFIRMED_COMMIT_11, "cancel-commit")
        persist_id = persist_id or self._pending_persist_id
        self._call("cancel-commit", lambda m: m.cancel_commit(persist_id=persist_id), changes_running=True)
        self._pending_confirmed, self._pending_persist_id = False, None

    def discard(self) -> None:
        if self.mode == "writable-running":
            self._restore_snapshot(self._running_snapshot)
            return
        self._call("discard-changes", lambda m: m.discard_changes())

    def rollback(self, handle: CommitHandle | None = None) -> None:
        if handle is not None and handle.mode == "writable-running":
            self._restore_snapshot(handle.rollback_config)
        elif self.mode == "writable-running":
            self._restore_snapshot(self._running_snapshot)
        elif handle is not None and handle.confirmed:
            self.cancel_commit(handle.persist_id)
        elif self._pending_confirmed:
            self.cancel_commit(self._pending_persist_id)
        else:
            self.discard()

    def _restore_snapshot(self, snapshot: str | None) -> None:
        """Put running back as it was: replace each top-level node of the snapshot, remove the rest
        (explicit per-node operations, RFC 6241 §7.2, so it does not rely on default-operation)."""
        if snapshot is None:
            return
        before = xmlconfig.children_of_root(snapshot)
        now = xmlconfig.children_of_root(self.get_config("running"))
        config = etree.Element(f"{{{xmlconfig.NC_NS}}}config", nsmap={"nc": xmlconfig.NC_NS})
        kept = {node.tag for node in before}
        for node in now:
            if node.tag not in kept:
                removal = etree.SubElement(config, node.tag)
                removal.set(xmlconfig.NC_OPERATION, "remove")
        for node in before:
            node.set(xmlconfig.NC_OPERATION, "replace")
            config.append(node)
        self._call("edit-config", lambda m: m.edit_config(config=config, target="running"), changes_running=True)
        self._running_snapshot = None

    def verify(self, expected_xml: str) -> ReadBack:
        running = self.get_config("running")
        result = xmlconfig.containment(expected_xml, running)
        return ReadBack(
            matches=not result.missing and not result.unexpected,
            missing=result.missing,
            unexpected=result.unexpected,
            running=running,
        )


class _ConnectDeadline:
    """One deadline for the whole connect: TCP, SSH banner, key exchange, authentication, the netconf
    subsystem and the hello. ncclient 0.7.1 passes only the TCP connect and the hello wait a timeout;
    paramiko's banner (15 s), handshake (15 s) and auth (30 s) timers are its own, and its channel open
    and subsystem request wait without one. When the deadline passes, the socket is shut down: every
    paramiko wait then ends at once (EOF), and the driver reports a timeout."""

    def __init__(self, seconds: float) -> None:
        self._end = time.monotonic() + seconds
        self._lock = threading.Lock()
        self._fired = False
        self._timer: threading.Timer | None = None

    def remaining(self) -> float:
        return max(0.0, self._end - time.monotonic())

    @property
    def expired(self) -> bool:
        return self._fired or time.monotonic() >= self._end

    def guard(self, sock: socket.socket) -> None:
        def cut() -> None:
            with self._lock:
                if self._timer is None:
                    return  # cancelled meanwhile
                self._fired = True
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

        self._timer = threading.Timer(self.remaining(), cut)
        self._timer.daemon = True
        self._timer.start()

    def cancel(self) -> bool:
        """Stop the watchdog; False if it had already cut the socket."""
        with self._lock:
            timer, self._timer = self._timer, None
            if timer is not None:
                timer.cancel()
            return not self._fired


def _canonical(data_xml: str) -> str:
    return xmlconfig.canonical(xmlconfig.children_of_root(data_xml))


def _safe(exc: BaseException) -> str:
    """Exception text for messages; transport errors name hosts and ports, never credentials."""
    return str(exc)[:200]
