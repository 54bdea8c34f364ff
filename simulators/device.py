"""The state of one simulated device, shared by its NETCONF server, SNMP agent and control API.

Datastores hold RFC 7951 JSON (yangson raw data). Every change to ``running`` is validated against the
YANG modules first (:mod:`common.yang.validate`), whoever makes it. The NETCONF-only state (locks,
dirty candidate, a pending confirmed commit, sessions) also lives here because ``reboot`` and the
control API must be able to reset it.
"""

from __future__ import annotations

import asyncio
import copy
import functools
import json
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from common.yang.validate import ValidationFailed, validate_config
from simulators.faults import FaultSet
from simulators.profiles import PROFILES, Profile

__all__ = ["Device", "PendingConfirm", "SessionHandle", "ValidationFailed", "initial_config"]

logger = logging.getLogger(__name__)

Datastore = dict[str, Any]
IF_TYPE_ETHERNET = "iana-if-type:ethernetCsmacd"


class SessionHandle(Protocol):
    """What the device needs from a NETCONF session to end it (kill-session, reboot)."""

    session_id: int

    def abort(self) -> None: ...


@dataclass
class PendingConfirm:
    """A confirmed commit waiting for its confirming commit (RFC 6241 §8.4).

    ``rollback`` is running as it was before the first confirmed commit of the sequence;
    ``session_id`` is the issuing session (None once a persisted commit outlives it).
    """

    rollback: Datastore
    session_id: int | None
    persist: str | None
    timer: Any = field(default=None, repr=False)  # asyncio.TimerHandle

    def cancel_timer(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None


def initial_config(profile: Profile) -> Datastore:
    """Factory configuration: every interface of the profile, enabled, no addresses."""
    interfaces = [{"name": n, "type": IF_TYPE_ETHERNET, "enabled": True} for n in profile.interfaces]
    return {"ietf-interfaces:interfaces": {"interface": interfaces}} if interfaces else {}


@functools.cache
def _validated_factory_config(profile: Profile) -> str:
    config = initial_config(profile)
    validate_config(config)
    return json.dumps(config)


def _factory_config(profile: Profile) -> Datastore:
    result: Datastore = json.loads(_validated_factory_config(profile))
    return result


class Device:
    """One simulated device. Not thread-safe: everything runs on one asyncio loop."""

    def __init__(
        self,
        name: str,
        profile: Profile,
        *,
        faults: FaultSet | None = None,
        commit_latency_ms: int = 0,
        seed: int = 0,
        running: Datastore | None = None,
        startup: Datastore | None = None,
        if_index: dict[str, int] | None = None,
    ) -> None:
        self.name = name
        self.profile = profile
        self.faults = faults if faults is not None else FaultSet(random.Random(seed))
        self.commit_latency_ms = commit_latency_ms
        #: multiplies every protocol timer (confirm-timeout); tests shrink it instead of sleeping.
        self.timer_scale = 1.0
        if running is not None:
            validate_config(running)
            base = running
        else:
            base = _factory_config(profile)  # validated once per profile, not once per device
        self.running: Datastore = copy.deepcopy(base)
        self.candidate: Datastore = copy.deepcopy(base)
        self.startup: Datastore = copy.deepcopy(startup if startup is not None else base)
        self.candidate_dirty = False
        self.locks: dict[str, int] = {}
        self.pending_confirm: PendingConfirm | None = None
        self.sessions: dict[int, SessionHandle] = {}
        #: serialises commits while they sleep for the commit latency (created on first use)
        self.commit_guard: asyncio.Lock | None = None
        #: how many times this device rebooted in this run (control API ``reboots``)
        self.reboots = 0
        #: time.monotonic() at which a reboot in progress ends; 0 when the device is up
        self._up_at = 0.0
        self._next_session_id = 1
        self._if_index: dict[str, int] = dict(if_index or {})
        self._listeners: list[Callable[[Device], None]] = []
        for interface in self.interface_names():
            self.if_index(interface)

    def __repr__(self) -> str:
        return f"Device({self.name!r}, {self.profile.name!r})"

    # --- datastores -------------------------------------------------------------------------------

    def datastore_names(self) -> tuple[str, ...]:
        names = ["running"]
        if self.profile.candidate:
            names.append("candidate")
        if self.profile.startup:
            names.append("startup")
        return tuple(names)

    def get(self, datastore: str) -> dict[str, Any]:
        """A deep copy of a datastore ("running" | "candidate" | "startup") as RFC 7951 JSON."""
        if datastore not in ("running", "candidate", "startup"):
            raise KeyError(datastore)
        return copy.deepcopy(getattr(self, datastore))

    def replace_running(self, new_running: Datastore) -> None:
        """Install an already validated running datastore and tell the listeners."""
        self.running = new_running
        for interface in self.interface_names():
            self.if_index(interface)
        for listener in list(self._listeners):
            listener(self)

    def set_running_out_of_band(self, new_running: dict[str, Any], origin: str) -> None:
        """Replace running as an SNMP SET or an engineer on the CLI would: validated, atomic.

        A clean candidate follows running (as ConfD does); a dirty one keeps the user's edits.
        """
        validate_config(new_running)
        logger.info("%s: running changed out of band by %s", self.name, origin)
        self.replace_running(copy.deepcopy(new_running))
        if not self.candidate_dirty:
            self.candidate = copy.deepcopy(self.running)

    def subscribe(self, listener: Callable[[Device], None]) -> None:
        """Call ``listener(device)`` after every change of running."""
        self._listeners.append(listener)

    # --- interfaces --------------------------------------------------------------------------------

    def interface_names(self) -> list[str]:
        interfaces = self.running.get("ietf-interfaces:interfaces", {}).get("interface", [])
        return [i["name"] for i in interfaces]

    def if_index(self, name: str) -> int:
        """The IF-MIB ifIndex of an interface: assigned once per name, never reused (RFC 2863 §3.1.5)."""
        index = self._if_index.get(name)
        if index is None:
            index = max(self._if_index.values(), default=0) + 1
            self._if_index[name] = index
        return index

    # --- sessions -----------------------------------------------------------------------------------

    def new_session_id(self) -> int:
        session_id = self._next_session_id
        self._next_session_id += 1
        return session_id

    def reboot(self, down_ms: float = 0) -> None:
        """running <- startup; sessions dropped, locks released, pending confirmed commit cancelled.

        For ``down_ms`` afterwards the device is booting (:meth:`is_booting`): its NETCONF server
        refuses connections and its SNMP agent drops requests, as a router does until it is up.
        """
        logger.info("%s: reboot (down %d ms)", self.name, down_ms)
        self.reboots += 1
        self._up_at = time.monotonic() + down_ms / 1000 if down_ms > 0 else 0.0
        if self.pending_confirm is not None:
            self.pending_confirm.cancel_timer()
            self.pending_confirm = None
        for session in list(self.sessions.values()):
            session.abort()
        self.sessions.clear()
        self.locks.clear()
        if self.profile.startup:
            self.replace_running(copy.deepcopy(self.startup))
        self.candidate = copy.deepcopy(self.running)
        self.candidate_dirty = False

    def is_booting(self) -> bool:
        """Whether a reboot's down time is still running."""
        if self._up_at and time.monotonic() >= self._up_at:
            self._up_at = 0.0
        return bool(self._up_at)

    def finish_boot(self) -> None:
        """End a reboot's down time now (the reboot fault was cleared)."""
        self._up_at = 0.0

    # --- persistence -------------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        """State kept in ``--state-dir`` across restarts (datastores, ifIndex map, latency, faults)."""
        return {
            "name": self.name,
            "profile": self.profile.name,
            "commit_latency_ms": self.commit_latency_ms,
            "running": copy.deepcopy(self.running),
            "startup": copy.deepcopy(self.startup),
            "if_index": dict(self._if_index),
            "faults": self.faults.to_json(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], *, seed: int = 0) -> Device:
        """Rebuild a device saved by :meth:`to_json` (a restart: candidate starts equal to running)."""
        return cls(
            data["name"],
            PROFILES[data["profile"]],
            faults=FaultSet.from_json(data.get("faults", []), random.Random(seed)),
            commit_latency_ms=int(data.get("commit_latency_ms", 0)),
            running=data["running"],
            startup=data.get("startup"),
            if_index={k: int(v) for k, v in data.get("if_index", {}).items()},
        )
