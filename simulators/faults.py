"""Scripted, seeded faults of a simulated device (issue 10, "Faults").

A fault is armed with :meth:`FaultSet.set` and consulted where it can happen with
:meth:`FaultSet.active`, which decides with the device's seeded RNG (``probability``) and consumes
one firing (``count``; ``None`` fires until cleared). Call ``active`` exactly once per event so that
a count of N means N events.

Parameters understood by the NETCONF server:

- ``refuse-connection``: close the TCP connection at accept.
- ``slow-reply``: ``delay_ms`` added before each reply.
- ``lock-held``: ``datastore`` (default: candidate if the device has one, else running) is locked by a
  phantom session ``session_id`` (default 4242). Not consumed per event: it holds until cleared.
- ``commit-rpc-error``: the commit answers ``operation-failed`` and applies nothing. The commit is
  ``<commit>`` on a candidate device and ``<edit-config>`` of running on a writable-running one; the
  three commit faults below and the commit latency hold for both.
- ``partial-apply``: the commit applies only part of the change, then answers ``operation-failed``.
- ``drop-session-mid-commit``: the session is closed after the commit started; the change *is* applied
  (a real client cannot tell, so it must read back).
- ``snmp-timeout``: consulted by the SNMP agent (no answer).
- ``slow-reply`` is consulted by the SNMP agent too: each answer leaves ``delay_ms`` later.
- ``reboot``: run by the fleet on its event loop (:mod:`simulators.reboot`), not consulted per request:
  ``after_ms`` (one reboot that long after the fault is set, then the fault clears itself),
  ``every_ms`` (a reboot every period, each one rolled against ``probability`` and counted against
  ``count``), ``down_ms`` (how long the device boots: NETCONF connections are refused and SNMP
  requests dropped; default :data:`DEFAULT_DOWN_MS`).
"""

from __future__ import annotations

import builtins
import random
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class FaultKind(StrEnum):
    """The kinds of fault a device can be told to show."""

    REFUSE_CONNECTION = "refuse-connection"
    SLOW_REPLY = "slow-reply"
    LOCK_HELD = "lock-held"
    COMMIT_RPC_ERROR = "commit-rpc-error"
    PARTIAL_APPLY = "partial-apply"
    DROP_SESSION_MID_COMMIT = "drop-session-mid-commit"
    SNMP_TIMEOUT = "snmp-timeout"
    REBOOT = "reboot"


#: How long a device scripted to reboot stays down when the fault names no ``down_ms``: short, so
#: that tests need not wait, yet long enough for a client to meet the refused connection.
DEFAULT_DOWN_MS = 100

#: ``slow-reply`` without ``delay_ms``.
DEFAULT_DELAY_MS = 1000


@dataclass
class Fault:
    """One armed fault. ``params``: ``probability`` (0..1, default 1), ``count`` (firings left, None =
    until cleared), plus kind-specific ones such as ``delay_ms``."""

    kind: FaultKind
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def delay_s(self) -> float:
        """``delay_ms`` in seconds (``slow-reply``), the same for NETCONF and SNMP."""
        return float(self.params.get("delay_ms", DEFAULT_DELAY_MS)) / 1000

    def to_json(self) -> dict[str, Any]:
        return {"kind": str(self.kind), "params": dict(self.params)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Fault:
        return cls(FaultKind(data["kind"]), dict(data.get("params") or {}))


class FaultSet:
    """The faults armed on one device, decided by a seeded RNG so that runs are reproducible."""

    def __init__(self, rng: random.Random | None = None) -> None:
        self._rng = rng if rng is not None else random.Random(0)
        self._faults: dict[FaultKind, Fault] = {}

    def set(self, fault: Fault) -> None:
        """Arm ``fault``, replacing any fault of the same kind."""
        self._faults[fault.kind] = Fault(fault.kind, dict(fault.params))

    def clear(self, kind: FaultKind | None = None) -> None:
        """Disarm one kind of fault, or all of them."""
        if kind is None:
            self._faults.clear()
        else:
            self._faults.pop(FaultKind(kind), None)

    def peek(self, kind: FaultKind) -> Fault | None:
        """The armed fault of ``kind`` without deciding or consuming anything."""
        return self._faults.get(kind)

    def active(self, kind: FaultKind) -> Fault | None:
        """Whether the fault fires for this event: rolls ``probability`` and consumes ``count``."""
        fault = self._faults.get(kind)
        if fault is None:
            return None
        probability = float(fault.params.get("probability", 1.0))
        if probability < 1.0 and self._rng.random() >= probability:
            return None
        count = fault.params.get("count")
        if count is not None:
            if count <= 1:
                del self._faults[kind]
            else:
                fault.params["count"] = count - 1
        return fault

    def list(self) -> list[Fault]:
        return [Fault(f.kind, dict(f.params)) for f in self._faults.values()]

    def to_json(self) -> builtins.list[dict[str, Any]]:
        return [f.to_json() for f in self._faults.values()]

    @classmethod
    def from_json(cls, data: builtins.list[dict[str, Any]], rng: random.Random | None = None) -> FaultSet:
        faults = cls(rng)
        for item in data:
            faults.set(Fault.from_json(item))
        return faults
