"""SNMP driver over pysnmp 7.1 (asyncio inside, synchronous outside).

GET (RFC 3416 §4.2.1), walk by GETBULK (§4.2.3) or GETNEXT (§4.2.2), SET of one PDU (§4.2.5). v2c
(RFC 3584 communities) and v3 USM authPriv (RFC 3414 HMAC-SHA-96, RFC 3826 AES-128).

A SET is sent once (no retransmission): a retransmitted SET whose first copy was applied could come
back as an error and be reported as "failed" although the agent changed. A SET without response is
``SetOutcome(status="unknown")``; the caller GETs before compensating.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine, Sequence
from typing import Any, Literal, TypeVar

from pysnmp.hlapi.v3arch.asyncio import (
    CommunityData,
    ContextData,
    ObjectIdentity,
    ObjectType,
    SnmpEngine,
    UdpTransportTarget,
    UsmUserData,
    bulk_cmd,
    get_cmd,
    next_cmd,
    set_cmd,
    usmAesCfb128Protocol,
    usmAesCfb256Protocol,
    usmDESPrivProtocol,
    usmHMAC192SHA256AuthProtocol,
    usmHMACMD5AuthProtocol,
    usmHMACSHAAuthProtocol,
)
from pysnmp.proto import rfc1902, rfc1905

from oss.activation.drivers.base import SNMP_GET, SNMP_SET, SNMP_V2C, SNMP_V3, Driver, SetOutcome, Varbind
from oss.activation.drivers.credentials import DeviceEndpoint
from oss.activation.drivers.errors import AuthenticationFailed, DeviceTimeout, SessionClosed, SnmpError

logger = logging.getLogger(__name__)
T = TypeVar("T")

_AUTH = {"SHA": usmHMACSHAAuthProtocol, "SHA1": usmHMACSHAAuthProtocol, "MD5": usmHMACMD5AuthProtocol,
         "SHA256": usmHMAC192SHA256AuthProtocol}  # fmt: skip
_PRIV = {"AES": usmAesCfb128Protocol, "AES128": usmAesCfb128Protocol, "AES256": usmAesCfb256Protocol,
         "DES": usmDESPrivProtocol}  # fmt: skip

_TO_PYSNMP: dict[str, Any] = {
    "Integer32": rfc1902.Integer32,
    "OctetString": rfc1902.OctetString,
    "ObjectIdentifier": rfc1902.ObjectName,
    "IpAddress": rfc1902.IpAddress,
    "Counter32": rfc1902.Counter32,
    "Gauge32": rfc1902.Gauge32,
    "TimeTicks": rfc1902.TimeTicks,
    "Counter64": rfc1902.Counter64,
    "Unsigned32": rfc1902.Unsigned32,
    "Opaque": rfc1902.Opaque,
}
_TIMEOUT_INDICATIONS = ("requestTimedOut", "No SNMP response received")
_AUTH_INDICATIONS = ("unknownUserName", "wrongDigest", "decryptionError", "unsupportedSecurityLevel",
                     "authenticationFailure", "notInTimeWindow")  # fmt: skip


def to_varbind(oid: Any, value: Any) -> Varbind:
    """pysnmp (name, value) -> :class:`Varbind` with plain Python values."""
    text_oid = str(oid)
    if isinstance(value, rfc1905.NoSuchObject):
        return Varbind(text_oid, None, "noSuchObject")
    if isinstance(value, rfc1905.NoSuchInstance):
        return Varbind(text_oid, None, "noSuchInstance")
    if isinstance(value, rfc1905.EndOfMibView):
        return Varbind(text_oid, None, "endOfMibView")
    if isinstance(value, rfc1902.IpAddress):
        return Varbind(text_oid, ".".join(str(b) for b in bytes(value)), "IpAddress")
    if isinstance(value, rfc1902.Opaque):
        return Varbind(text_oid, bytes(value), "Opaque")
    if isinstance(value, rfc1902.OctetString):
        return Varbind(text_oid, bytes(value), "OctetString")
    if isinstance(value, rfc1902.ObjectIdentifier):
        return Varbind(text_oid, str(value), "ObjectIdentifier")
    for name in ("Counter64", "Counter32", "Gauge32", "TimeTicks", "Unsigned32"):
        if isinstance(value, _TO_PYSNMP[name]):
            return Varbind(text_oid, int(value), name)
    if isinstance(value, rfc1902.Integer32 | rfc1902.Integer):
        return Varbind(text_oid, int(value), "Integer32")
    return Varbind(text_oid, None, "Null")


def to_pysnmp(varbind: Varbind) -> ObjectType:
    cls = _TO_PYSNMP[varbind.type]
    value = varbind.value
    if varbind.type == "OctetString" and isinstance(value, str):
        value = value.encode()
    return ObjectType(ObjectIdentity(varbind.oid.strip(".")), cls(value))


def _oid_tuple(oid: str) -> tuple[int, ...]:
    return tuple(int(part) for part in oid.strip(".").split("."))


def _finish_pending_tasks(loop: asyncio.AbstractEventLoop) -> None:
    """Let the tasks pysnmp leaves on the private loop (its dispatcher's timer, cancelled by
    ``close_dispatcher`` but not yet run) finish before the loop closes: a closed loop with a task still
    pending prints "Task was destroyed but it is pending!" at exit."""
    pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
    for task in pending:
        task.cancel()
    if pending:
        with contextlib.suppress(Exception):
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))


class SnmpDriver(Driver):
    """One SNMP "session" (engine + target) to one agent. Reads use the read community (or v3 user),
    writes the write community. ``version`` "v2c" or "v3"."""

    def __init__(
        self,
        endpoint: DeviceEndpoint,
        version: Literal["v2c", "v3"] = "v2c",
        timeout_s: float = 2.0,
        retries: int = 1,
        max_repetitions: int = 25,
    ) -> None:
        self.endpoint = endpoint
        self.device = endpoint.name
        self.version = version
        self.timeout_s = timeout_s
        self.retries = retries
        self.max_repetitions = max_repetitions
        self._loop: asyncio.AbstractEventLoop | None = None
        self._engine: SnmpEngine | None = None
        self._targets: dict[int, UdpTransportTarget] = {}

    def __repr__(self) -> str:
        return (
            f"SnmpDriver(device={self.device!r}, host={self.endpoint.host!r}, "
            f"port={self.endpoint.snmp_port!r}, version={self.version!r})"
        )

    @property
    def capabilities(self) -> frozenset[str]:
        if self._loop is None:
            return frozenset()
        return frozenset({SNMP_GET, SNMP_SET, SNMP_V3 if self.version == "v3" else SNMP_V2C})

    def open(self) -> None:
        """Create the private event loop and SNMP engine (no packet is sent: SNMP is connectionless)."""
        snmp = self.endpoint.snmp
        if snmp is None or (self.version == "v3" and snmp.v3 is None):
            raise AuthenticationFailed(self.device, "snmp-open", f"no SNMP {self.version} credentials")
        self._loop = asyncio.new_event_loop()
        self._engine = SnmpEngine()

    def close(self) -> None:
        if self._loop is None:
            return
        loop, self._loop = self._loop, None
        try:
            if self._engine is not None:
                self._engine.close_dispatcher()
        except Exception:  # never mask the caller's error
            logger.debug("snmp dispatcher close failed for %s", self.device)
        finally:
            self._engine = None
            self._targets.clear()
            _finish_pending_tasks(loop)
            loop.close()

    # -- plumbing ----------------------------------------------------------------------------
    def _run(self, operation: str, coro: Coroutine[Any, Any, T], retries: int) -> T:
        if self._loop is None:
            coro.close()
            raise SessionClosed(self.device, operation, "driver is not open")
        budget = self.timeout_s * (retries + 1) + 1.0  # pysnmp's own timer should fire first
        try:
            return self._loop.run_until_complete(asyncio.wait_for(coro, budget))
        except TimeoutError:
            raise DeviceTimeout(self.device, operation, f"no response within {budget:.1f}s") from None

    def _auth(self, write: bool) -> CommunityData | UsmUserData:
        snmp = self.endpoint.snmp
        assert snmp is not None
        if self.version == "v3":
            user = snmp.v3
            assert user is not None
            return UsmUserData(
                user.user,
                authKey=user.auth_key.reveal(),
                privKey=user.priv_key.reveal(),
                authProtocol=_AUTH[user.auth_protocol.upper()],
                privProtocol=_PRIV[user.priv_protocol.upper()],
            )
        secret = (snmp.community_rw if write else snmp.community_ro) or snmp.community_rw or snmp.community_ro
        assert secret is not None
        return CommunityData(secret.reveal(), mpModel=1)

    async def _target(self, retries: int) -> UdpTransportTarget:
        target = self._targets.get(retries)
        if target is None:  # resolved once per driver: the address does not change
            target = await UdpTransportTarget.create(
                (self.endpoint.host, self.endpoint.snmp_port or 161), timeout=self.timeout_s, retries=retries
            )
            self._targets[retries] = target
        return target

    def _raise_for(self, operation: str, indication: Any, status: Any, index: Any) -> None:
        if indication:
            text = str(indication)
            if any(marker in text for marker in _TIMEOUT_INDICATIONS):
                raise DeviceTimeout(self.device, operation, f"no response within {self.timeout_s}s")
            name = type(indication).__name__.lower()
            if any(marker.lower() in text.lower() or marker.lower() == name for marker in _AUTH_INDICATIONS):
                raise AuthenticationFailed(self.device, operation, type(indication).__name__)
            raise SnmpError(self.device, operation, type(indication).__name__)
        if status and int(status) != 0:
            raise SnmpError(self.device, operation, status.prettyPrint(), int(index) if index else None)

    # -- operations --------------------------------------------------------------------------
    def get(self, oids: Sequence[str]) -> list[Varbind]:
        async def request() -> Any:
            target = await self._target(self.retries)
            objects = [ObjectType(ObjectIdentity(oid.strip("."))) for oid in oids]
            return await get_cmd(self._engine, self._auth(False), target, ContextData(), *objects, lookupMib=False)

        indication, status, index, varbinds = self._run("snmp-get", request(), self.retries)
        self._raise_for("snmp-get", indication, status, index)
        return [to_varbind(name, value) for name, value in varbinds]

    def walk(self, oid: str, bulk: bool = True) -> list[Varbind]:
        root = _oid_tuple(oid)
        found: list[Varbind] = []
        cursor = oid.strip(".")
        while True:
            page = self._next_page(cursor, bulk)
            if not page:
                return found
            for varbind in page:
                if not varbind.exists or _oid_tuple(varbind.oid)[: len(root)] != root:
                    return found
                if found and _oid_tuple(varbind.oid) <= _oid_tuple(found[-1].oid):
                    raise SnmpError(self.device, "snmp-walk", "oidNotIncreasing")  # agent bug guard
                found.append(varbind)
            cursor = found[-1].oid

    def _next_page(self, cursor: str, bulk: bool) -> list[Varbind]:
        async def request() -> Any:
            target = await self._target(self.retries)
            start = ObjectType(ObjectIdentity(cursor))
            if bulk:
                return await bulk_cmd(
                    self._engine, self._auth(False), target, ContextData(), 0, self.max_repetitions, start,
                    lookupMib=False,
                )  # fmt: skip
            return await next_cmd(self._engine, self._auth(False), target, ContextData(), start, lookupMib=False)

        indication, status, index, varbinds = self._run("snmp-walk", request(), self.retries)
        self._raise_for("snmp-walk", indication, status, index)
        return [to_varbind(name, value) for name, value in varbinds]

    def set(self, varbinds: Sequence[Varbind]) -> SetOutcome:
        pdu = tuple(varbinds)

        async def request() -> Any:
            target = await self._target(0)  # sent once: see module docstring
            return await set_cmd(
                self._engine, self._auth(True), target, ContextData(), *(to_pysnmp(vb) for vb in pdu),
                lookupMib=False,
            )  # fmt: skip

        try:
            indication, status, index, _ = self._run("snmp-set", request(), 0)
        except DeviceTimeout as exc:
            return SetOutcome("unknown", pdu, reason=exc.message)
        if indication:
            text = str(indication)
            if any(marker in text for marker in _TIMEOUT_INDICATIONS):
                return SetOutcome("unknown", pdu, reason=f"no response within {self.timeout_s}s")
            # A USM/report error means the agent refused the message before processing it.
            return SetOutcome("failed", pdu, error_status=type(indication).__name__, reason=text)
        if status and int(status) != 0:
            return SetOutcome("failed", pdu, error_status=status.prettyPrint(), error_index=int(index))
        return SetOutcome("applied", pdu, error_status="noError", error_index=0)
