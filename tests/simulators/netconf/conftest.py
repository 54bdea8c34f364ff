"""Simulated devices on 127.0.0.1 (ephemeral ports) served by an asyncio loop in a background thread,
so that the synchronous ncclient can talk to them from the test thread."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import asyncssh
import ncclient.transport.session
import pytest
from ncclient import manager

from simulators.device import Device
from simulators.netconf.server import NetconfEndpoint, start_netconf_server
from simulators.profiles import PROFILES

ncclient.transport.session.TICK = 0.002  # NOTES.md: the default 0.1 s tick costs ~100 ms per RPC

T = TypeVar("T")
USER, PASSWORD = "admin", "admin-password"
IF_NS = "urn:ietf:params:xml:ns:yang:ietf-interfaces"
VLAN_NS = "urn:provisio:params:xml:ns:yang:provisio-vlan"
IP_NS = "urn:ietf:params:xml:ns:yang:ietf-ip"


class LoopThread:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True, name="sim-loop")
        self._thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 30) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def call(self, fn: Callable[[], T]) -> T:
        async def wrapper() -> T:
            return fn()

        return self.run(wrapper())

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)


@pytest.fixture(scope="session")
def loop_thread() -> Iterator[LoopThread]:
    lt = LoopThread()
    yield lt
    lt.stop()


@pytest.fixture(scope="session")
def host_key() -> asyncssh.SSHKey:
    return asyncssh.generate_private_key("ssh-ed25519")


@pytest.fixture(scope="session")
def client_key() -> asyncssh.SSHKey:
    return asyncssh.generate_private_key("ssh-ed25519")


@dataclass
class Sim:
    """One simulated device with its NETCONF listener."""

    device: Device
    endpoint: NetconfEndpoint
    lt: LoopThread

    @property
    def port(self) -> int:
        return self.endpoint.port

    def connect(self, **kwargs: Any) -> manager.Manager:
        params: dict[str, Any] = {
            "host": "127.0.0.1",
            "port": self.port,
            "username": USER,
            "password": PASSWORD,
            "hostkey_verify": False,
            "allow_agent": False,
            "look_for_keys": False,
            "timeout": 10,
        }
        params.update(kwargs)
        return manager.connect(**params)

    def datastore(self, name: str) -> dict[str, Any]:
        return self.lt.call(lambda: self.device.get(name))

    def call(self, fn: Callable[[], T]) -> T:
        return self.lt.call(fn)

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
        """Poll a condition on the device loop with a deadline (for timers and session ends)."""
        deadline = time.monotonic() + timeout
        while not self.call(predicate):
            if time.monotonic() > deadline:
                raise AssertionError("condition not reached before the deadline")
            time.sleep(0.01)


def _make_sim(lt: LoopThread, host_key: asyncssh.SSHKey, client_key: asyncssh.SSHKey, profile: str) -> Sim:
    async def start() -> Sim:
        device = Device(f"{profile}-test", PROFILES[profile], seed=7)
        device.timer_scale = 0.05  # confirm-timeout 1 s -> 50 ms
        endpoint = await start_netconf_server(
            device, host_key=host_key, users={USER: PASSWORD}, authorized_keys=[client_key]
        )
        return Sim(device, endpoint, lt)

    return lt.run(start())


@pytest.fixture
def pe(loop_thread: LoopThread, host_key: asyncssh.SSHKey, client_key: asyncssh.SSHKey) -> Iterator[Sim]:
    sim = _make_sim(loop_thread, host_key, client_key, "pe-router")
    yield sim
    loop_thread.run(sim.endpoint.close())


@pytest.fixture
def cpe(loop_thread: LoopThread, host_key: asyncssh.SSHKey, client_key: asyncssh.SSHKey) -> Iterator[Sim]:
    sim = _make_sim(loop_thread, host_key, client_key, "cpe")
    yield sim
    loop_thread.run(sim.endpoint.close())


def vlan_config(*vlans: tuple[int, str], operation: str | None = None) -> str:
    op = f' xmlns:nc="urn:ietf:params:xml:ns:netconf:base:1.0" nc:operation="{operation}"' if operation else ""
    body = "".join(f"<vlan{op}><id>{i}</id><name>{n}</name></vlan>" for i, n in vlans)
    return f'<config><vlans xmlns="{VLAN_NS}">{body}</vlans></config>'


def vlans_of(data: dict[str, Any]) -> dict[int, str | None]:
    return {v["id"]: v.get("name") for v in data.get("provisio-vlan:vlans", {}).get("vlan", [])}
