"""Fixtures for the SNMP agent tests: one event loop thread for the session (agents and the pysnmp client
live there, so one client SnmpEngine serves every test), a device per test and its agent on an
ephemeral UDP port of 127.0.0.1."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine, Iterator
from typing import Any, TypeVar

import pytest

from simulators.device import Device
from simulators.manifest import SnmpCredentials, SnmpV3User
from simulators.profiles import PROFILES
from simulators.snmp import SnmpEndpoint, start_snmp_agent
from tests.simulators.snmp.client import SnmpClient

T = TypeVar("T")

CREDENTIALS = SnmpCredentials(
    v3=SnmpV3User(user="provisio", auth_key="auth-passphrase-1", priv_key="priv-passphrase-1"),
    community_ro="public-ro",
    community_rw="private-rw",
)


def pe_running() -> dict[str, Any]:
    """A pe-router with two addressed interfaces, one description and one VLAN."""
    interfaces = [
        {"name": name, "type": "iana-if-type:ethernetCsmacd", "enabled": True}
        for name in PROFILES["pe-router"].interfaces
    ]
    interfaces[0]["description"] = "core uplink"
    interfaces[0]["ietf-ip:ipv4"] = {"address": [{"ip": "192.0.2.1", "prefix-length": 30}]}
    interfaces[1]["ietf-ip:ipv4"] = {"address": [{"ip": "198.51.100.9", "prefix-length": 24}]}
    return {
        "ietf-interfaces:interfaces": {"interface": interfaces},
        "provisio-vlan:vlans": {"vlan": [{"id": 10, "name": "mgmt", "member": ["ge-0/0/1"]}]},
    }


class LoopThread:
    """An asyncio loop in a daemon thread; ``run`` executes a coroutine there and waits for it."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="snmp-tests", daemon=True)
        self.thread.start()

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def call(self, function: Callable[[], T]) -> T:
        async def wrapper() -> T:
            return function()

        return self.run(wrapper())

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


@pytest.fixture(scope="session")
def loop_thread() -> Iterator[LoopThread]:
    thread = LoopThread()
    yield thread
    thread.stop()


@pytest.fixture(scope="session")
def client(loop_thread: LoopThread) -> SnmpClient:
    return loop_thread.call(SnmpClient)


@pytest.fixture
def device(loop_thread: LoopThread) -> Device:
    return loop_thread.call(lambda: Device("pe1", PROFILES["pe-router"], running=pe_running()))


@pytest.fixture
def agent(loop_thread: LoopThread, device: Device) -> Iterator[SnmpEndpoint]:
    endpoint = loop_thread.run(start_snmp_agent(device, host="127.0.0.1", port=0, credentials=CREDENTIALS))
    yield endpoint
    loop_thread.run(endpoint.close())
