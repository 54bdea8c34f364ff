"""A small pysnmp (hlapi v3arch asyncio) manager for the tests: numeric OIDs, no MIB look-ups, short
timeouts (0.3 s, no retries) so that "no answer" costs little."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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
    usmHMACSHAAuthProtocol,
    usmNoPrivProtocol,
)

from simulators.manifest import SnmpCredentials

TIMEOUT = 0.3


@dataclass
class Answer:
    """What a manager learns from one request."""

    error_indication: Any
    error_status: str  # "noError", "noAccess", ...
    error_index: int
    varbinds: list[tuple[str, Any]]

    @property
    def timed_out(self) -> bool:
        return self.error_indication is not None and "timeout" in str(self.error_indication).lower()

    def values(self) -> list[Any]:
        return [value for _, value in self.varbinds]


def v2c(community: str) -> CommunityData:
    return CommunityData(community, mpModel=1)


def v3(credentials: SnmpCredentials, *, priv: bool = True, auth_key: str | None = None) -> UsmUserData:
    user = credentials.v3
    return UsmUserData(
        user.user,
        authKey=auth_key or user.auth_key,
        privKey=user.priv_key if priv else None,
        authProtocol=usmHMACSHAAuthProtocol,
        privProtocol=usmAesCfb128Protocol if priv else usmNoPrivProtocol,
    )


class SnmpClient:
    def __init__(self) -> None:
        self.engine = SnmpEngine()

    async def _target(self, port: int, timeout: float = TIMEOUT) -> UdpTransportTarget:
        return await UdpTransportTarget.create(("127.0.0.1", port), timeout=timeout, retries=0)

    @staticmethod
    def _answer(result: tuple[Any, Any, Any, Any]) -> Answer:
        indication, status, index, varbinds = result
        status_name = "noError" if not status else status.prettyPrint()
        pairs = [(str(name), value) for name, value in varbinds]
        return Answer(indication, status_name, int(index or 0), pairs)

    async def get(self, port: int, auth: Any, *oids: str, timeout: float = TIMEOUT) -> Answer:
        objects = [ObjectType(ObjectIdentity(oid)) for oid in oids]
        target = await self._target(port, timeout)
        result = await get_cmd(self.engine, auth, target, ContextData(), *objects, lookupMib=False)
        return self._answer(result)

    async def next(self, port: int, auth: Any, *oids: str) -> Answer:
        objects = [ObjectType(ObjectIdentity(oid)) for oid in oids]
        result = await next_cmd(self.engine, auth, await self._target(port), ContextData(), *objects, lookupMib=False)
        return self._answer(result)

    async def bulk(self, port: int, auth: Any, non_repeaters: int, repetitions: int, *oids: str) -> Answer:
        objects = [ObjectType(ObjectIdentity(oid)) for oid in oids]
        result = await bulk_cmd(
            self.engine,
            auth,
            await self._target(port),
            ContextData(),
            non_repeaters,
            repetitions,
            *objects,
            lookupMib=False,
        )
        return self._answer(result)

    async def set(self, port: int, auth: Any, *pairs: tuple[str, Any]) -> Answer:
        objects = [ObjectType(ObjectIdentity(oid), value) for oid, value in pairs]
        result = await set_cmd(self.engine, auth, await self._target(port), ContextData(), *objects, lookupMib=False)
        return self._answer(result)

    async def walk(self, port: int, auth: Any, root: str) -> list[tuple[str, Any]]:
        """GETNEXT from ``root`` until the answer leaves the subtree."""
        prefix = root + "."
        found: list[tuple[str, Any]] = []
        current = root
        while True:
            answer = await self.next(port, auth, current)
            assert answer.error_indication is None and answer.error_status == "noError", answer
            name, value = answer.varbinds[0]
            if not name.startswith(prefix) or value.__class__.__name__ == "EndOfMibView":
                return found
            found.append((name, value))
            current = name
