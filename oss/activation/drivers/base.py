"""The one device-driver interface and the values it returns.

Every driver (NETCONF over ncclient, SNMP over pysnmp, the in-memory fake) implements :class:`Driver`.
Methods a device cannot do by design raise :class:`~oss.activation.drivers.errors.CapabilityMissing`
naming the capability, so callers (the activation saga) choose their path from ``capabilities``
rather than from the driver class:

- ``:candidate`` + ``:confirmed-commit:1.1``: lock, ``load_candidate``, ``compare``, ``validate``,
  ``commit(confirm_timeout_s, persist_id)``, then ``confirm`` or ``cancel_commit`` (possibly from
  another process, with the stored persist-id), ``unlock``.  RFC 6241 §8.3, §8.4.
- ``:writable-running`` + ``:rollback-on-error``: ``load_candidate`` edits running directly, with
  error-option rollback-on-error (RFC 6241 §7.2, §8.5); the driver keeps a snapshot of running taken
  before its first edit and puts it in the :class:`CommitHandle`, so ``rollback``/``cancel_commit``
  (or another process, from the handle) can restore it.
- ``snmp:*``: ``get``, ``walk`` and ``set`` of one PDU (RFC 3416 §4.2.1, §4.2.2, §4.2.5).

Capabilities are short names as RFC 6241 writes them (``:candidate``, ``:confirmed-commit:1.1``,
``:base:1.1``), plus ``snmp:v2c``, ``snmp:v3``, ``snmp:get``, ``snmp:set`` for SNMP.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Literal

from oss.activation.drivers.errors import CapabilityMissing

# RFC 6241 capability short names (§8) and the URNs they abbreviate.
BASE_10 = ":base:1.0"
BASE_11 = ":base:1.1"
CANDIDATE = ":candidate"
CONFIRMED_COMMIT = ":confirmed-commit"
CONFIRMED_COMMIT_11 = ":confirmed-commit:1.1"
VALIDATE = ":validate"
VALIDATE_11 = ":validate:1.1"
WRITABLE_RUNNING = ":writable-running"
ROLLBACK_ON_ERROR = ":rollback-on-error"
STARTUP = ":startup"
SNMP_V2C = "snmp:v2c"
SNMP_V3 = "snmp:v3"
SNMP_GET = "snmp:get"
SNMP_SET = "snmp:set"

_CAPABILITY_PREFIX = "urn:ietf:params:netconf:capability:"
_BASE_PREFIX = "urn:ietf:params:netconf:"

Datastore = Literal["running", "candidate", "startup"]
EditOperation = Literal["merge", "replace", "none"]
CommitMode = Literal["candidate", "writable-running"]


def short_capabilities(uris: Iterable[str]) -> frozenset[str]:
    """Turn advertised capability URNs into RFC 6241 short names (query parameters dropped).

    ``urn:ietf:params:netconf:capability:confirmed-commit:1.1`` gives both ``:confirmed-commit:1.1``
    and ``:confirmed-commit``; version 1.0 names (``:candidate:1.0``) are also given without version.
    Module capabilities (YANG namespaces) are kept as they are, without their query string.
    """
    names: set[str] = set()
    for uri in uris:
        bare = uri.split("?", 1)[0]
        if bare.startswith(_CAPABILITY_PREFIX):
            name = ":" + bare[len(_CAPABILITY_PREFIX) :]
            names.add(name)
            stem, _, version = name.rpartition(":")
            if version in {"1.0", "1.1"} and stem:
                names.add(stem)
        elif bare.startswith(_BASE_PREFIX + "base:"):
            names.add(":" + bare[len(_BASE_PREFIX) :])
        else:
            names.add(bare)
    return frozenset(names)


@dataclass(frozen=True)
class RpcError:
    """One ``<rpc-error>`` as data (RFC 6241 §4.3): never flattened into a string."""

    error_type: str  # transport | rpc | protocol | application
    error_tag: str  # in-use, invalid-value, data-exists, data-missing, lock-denied, ...
    error_severity: str = "error"
    error_app_tag: str | None = None
    error_path: str | None = None
    error_message: str | None = None
    error_info: Mapping[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {
            "error_type": self.error_type,
            "error_tag": self.error_tag,
            "error_severity": self.error_severity,
            "error_app_tag": self.error_app_tag,
            "error_path": self.error_path,
            "error_message": self.error_message,
            "error_info": dict(self.error_info),
        }


@dataclass(frozen=True)
class CommitHandle:
    """What a commit left behind, to be stored by the caller (a database row) and acted on later.

    ``persist_id`` lets *any* session confirm or cancel a confirmed commit (RFC 6241 §8.4.5.1,
    :confirmed-commit:1.1). For ``writable-running`` devices there is no device-side timer:
    ``rollback_config`` holds running as it was before the edit, and restoring it is the caller's
    compensation.
    """

    device: str
    mode: CommitMode
    confirmed: bool
    persist_id: str | None = None
    confirm_timeout_s: int | None = None
    deadline: float | None = None  # time.time() by which the device rolls back if not confirmed
    rollback_config: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class ReadBack:
    """Result of reading running back after a change: does it hold what was sent?"""

    matches: bool
    missing: tuple[str, ...]  # paths of expected subtrees that running does not hold
    unexpected: tuple[str, ...]  # paths that were to be deleted/removed and are still there
    running: str = field(repr=False, default="")


SnmpType = Literal[
    "Integer32",
    "OctetString",
    "ObjectIdentifier",
    "IpAddress",
    "Counter32",
    "Gauge32",
    "TimeTicks",
    "Counter64",
    "Unsigned32",
    "Opaque",
    "Null",
    "noSuchObject",
    "noSuchInstance",
    "endOfMibView",
]


@dataclass(frozen=True)
class Varbind:
    """An SNMP variable binding (RFC 3416 §3). OctetString values are bytes; numbers are int;
    ObjectIdentifier and IpAddress are dotted strings. ``noSuch*``/``endOfMibView`` carry None."""

    oid: str
    value: int | bytes | str | None
    type: SnmpType

    @classmethod
    def octets(cls, oid: str, text: str | bytes) -> Varbind:
        return cls(oid, text.encode() if isinstance(text, str) else text, "OctetString")

    @classmethod
    def integer(cls, oid: str, number: int) -> Varbind:
        return cls(oid, number, "Integer32")

    @property
    def exists(self) -> bool:
        return self.type not in ("noSuchObject", "noSuchInstance", "endOfMibView")

    @property
    def text(self) -> str:
        return self.value.decode(errors="replace") if isinstance(self.value, bytes) else str(self.value)


SetStatus = Literal["applied", "failed", "unknown"]


@dataclass(frozen=True)
class SetOutcome:
    """Outcome of one SET PDU (RFC 3416 §4.2.5): all varbinds applied, none applied, or *unknown*.

    ``unknown`` means no response arrived in time: the agent may or may not have applied the PDU, so
    the caller must GET before compensating. It is never reported as success or failure.
    """

    status: SetStatus
    varbinds: tuple[Varbind, ...]
    error_status: str | None = None  # noError, notWritable, wrongType, noAccess, ... (RFC 3416 §3)
    error_index: int | None = None  # 1-based index of the failing varbind, as in the PDU
    reason: str | None = None

    @property
    def applied(self) -> bool:
        return self.status == "applied"


class Driver(abc.ABC):
    """One session to one device. Not thread-safe: one driver per worker and device.

    Every call has a timeout (``timeout_s`` given at construction) and raises
    :class:`~oss.activation.drivers.errors.DeviceTimeout` when it passes, or
    :class:`~oss.activation.drivers.errors.OutcomeUnknown` when the call changes running (commit,
    confirm, cancel-commit, edit of running) and its reply is lost: read back before compensating.
    Errors the device reports arrive as :class:`~oss.activation.drivers.errors.RpcFailed` with
    ``rpc_errors`` kept as data.
    """

    device: str
    timeout_s: float

    @property
    @abc.abstractmethod
    def capabilities(self) -> frozenset[str]:
        """Short capability names (see module docstring); valid after :meth:`open`."""

    def has(self, capability: str) -> bool:
        return capability in self.capabilities

    def require(self, capability: str, operation: str) -> None:
        if capability not in self.capabilities:
            raise CapabilityMissing(self.device, operation, capability)

    # -- session ---------------------------------------------------------------------------
    @abc.abstractmethod
    def open(self) -> None:
        """Open the session: SSH + hello (RFC 6241 §8.1, RFC 6242 §3) or an SNMP engine."""

    @abc.abstractmethod
    def close(self) -> None:
        """Close the session (``<close-session>``, RFC 6241 §7.8). Never raises."""

    def drop(self) -> None:
        """End the session without a polite close, as a crashed worker would (chaos tests); locks and
        non-persisted confirmed commits of the session are then the device's to release/revert."""
        self.close()

    def __enter__(self) -> Driver:
        self.open()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- NETCONF configuration (RFC 6241) ---------------------------------------------------
    def get_config(self, source: Datastore = "running", filter: str | None = None) -> str:
        """``<get-config>`` (RFC 6241 §7.1) with an optional subtree filter (§6); returns the
        ``<data>`` element as XML text."""
        raise CapabilityMissing(self.device, "get-config", ":base:1.0")

    def lock(self, target: Datastore = "candidate", wait_s: float = 10.0) -> None:
        """``<lock>`` (RFC 6241 §7.5), retried on ``lock-denied`` until ``wait_s`` has passed;
        then :class:`~oss.activation.drivers.errors.LockDenied` names the holder's session-id."""
        raise CapabilityMissing(self.device, "lock", ":base:1.0")

    def unlock(self, target: Datastore = "candidate") -> None:
        """``<unlock>`` (RFC 6241 §7.6)."""
        raise CapabilityMissing(self.device, "unlock", ":base:1.0")

    def load_candidate(self, config_xml: str, operation: EditOperation = "merge") -> None:
        """``<edit-config>`` (RFC 6241 §7.2) of ``config_xml`` (a ``<config>`` element or its
        children, which may carry ``nc:operation`` merge/replace/create/delete/remove) with
        ``default-operation`` = ``operation``. Target is candidate (§8.3) or, on a
        ``:writable-running`` device without candidate, running with ``rollback-on-error`` (§8.5)."""
        raise CapabilityMissing(self.device, "edit-config", ":base:1.0")

    def compare(self) -> str:
        """Unified diff from running to what will be running after commit ("" if none): candidate on
        candidate devices; the pre-edit snapshot against running on writable-running ones."""
        raise CapabilityMissing(self.device, "compare", CANDIDATE)

    def validate(self) -> None:
        """``<validate>`` of candidate (RFC 6241 §8.6)."""
        raise CapabilityMissing(self.device, "validate", VALIDATE)

    def commit(self, confirm_timeout_s: int | None = None, persist_id: str | None = None) -> CommitHandle:
        """``<commit>`` (RFC 6241 §8.3.4.1); with ``confirm_timeout_s`` a confirmed commit (§8.4.5.1)
        that the device reverts unless confirmed in time. A persist-id is generated when none is
        given and the device has :confirmed-commit:1.1, so another session can confirm or cancel."""
        raise CapabilityMissing(self.device, "commit", CANDIDATE)

    def confirm(self, persist_id: str | None = None) -> None:
        """Confirming ``<commit>`` (RFC 6241 §8.4.5.1) with ``<persist-id>`` when given."""
        raise CapabilityMissing(self.device, "confirm", CONFIRMED_COMMIT)

    def cancel_commit(self, persist_id: str | None = None) -> None:
        """``<cancel-commit>`` (RFC 6241 §8.4.5.2): revert a pending confirmed commit now."""
        raise CapabilityMissing(self.device, "cancel-commit", CONFIRMED_COMMIT_11)

    def discard(self) -> None:
        """``<discard-changes>`` (RFC 6241 §8.3.4.2): candidate back to running."""
        raise CapabilityMissing(self.device, "discard-changes", CANDIDATE)

    def rollback(self, handle: CommitHandle | None = None) -> None:
        """Undo this activation on this device, whatever stage it reached: cancel a pending confirmed
        commit, discard uncommitted candidate changes, or restore the writable-running snapshot
        (from ``handle`` when another process does it)."""
        raise CapabilityMissing(self.device, "rollback", CANDIDATE)

    def verify(self, expected_xml: str) -> ReadBack:
        """Read running back (RFC 6241 §7.1) and report whether it holds ``expected_xml``; subtrees
        marked ``nc:operation="delete"``/``"remove"`` must be absent."""
        raise CapabilityMissing(self.device, "verify", ":base:1.0")

    # -- SNMP (RFC 3416) ------------------------------------------------------------------------
    def get(self, oids: Sequence[str]) -> list[Varbind]:
        """GetRequest-PDU for ``oids`` in one PDU (RFC 3416 §4.2.1)."""
        raise CapabilityMissing(self.device, "snmp-get", SNMP_GET)

    def walk(self, oid: str, bulk: bool = True) -> list[Varbind]:
        """All instances under ``oid`` by GetBulkRequest (RFC 3416 §4.2.3) or GetNextRequest
        (§4.2.2) when ``bulk`` is False or the session is v1."""
        raise CapabilityMissing(self.device, "snmp-walk", SNMP_GET)

    def set(self, varbinds: Sequence[Varbind]) -> SetOutcome:
        """SetRequest-PDU with every varbind in ONE PDU (RFC 3416 §4.2.5: all or none)."""
        raise CapabilityMissing(self.device, "snmp-set", SNMP_SET)
