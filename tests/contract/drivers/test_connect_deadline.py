"""The NETCONF driver's connect is bounded by ``connect_timeout_s`` at every step, not only TCP and hello.

paramiko's own timers (banner 15 s, handshake 15 s, auth 30 s) are not driven by ncclient 0.7.1's
``timeout``; each server here stalls at one step, on a real loopback socket, and the driver must give
up with ``DeviceTimeout`` within its own deadline.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import asyncssh
import pytest

from oss.activation.drivers.credentials import DeviceEndpoint, Secret
from oss.activation.drivers.errors import DeviceTimeout
from oss.activation.drivers.netconf import NetconfDriver

CONNECT_TIMEOUT_S = 0.5
MARGIN_S = 2.5  # far below paramiko's own 15 s / 30 s timers, which the test must not be waiting for


def _endpoint(port: int, host_key: str) -> DeviceEndpoint:
    return DeviceEndpoint(
        name="stalling",
        host="127.0.0.1",
        profile="pe-router",
        netconf_port=port,
        username="admin",
        password=Secret("pw-not-checked"),
        ssh_host_key=host_key,
    )


def _assert_times_out(endpoint: DeviceEndpoint) -> None:
    driver = NetconfDriver(endpoint, timeout_s=5, connect_timeout_s=CONNECT_TIMEOUT_S)
    started = time.monotonic()
    with pytest.raises(DeviceTimeout) as raised:
        driver.open()
    elapsed = time.monotonic() - started
    assert CONNECT_TIMEOUT_S * 0.9 <= elapsed < CONNECT_TIMEOUT_S + MARGIN_S, elapsed
    assert raised.value.operation == "connect"
    assert "pw-not-checked" not in str(raised.value) + repr(raised.value.details)


@pytest.fixture(scope="module")
def host_key() -> asyncssh.SSHKey:
    return asyncssh.generate_private_key("ssh-ed25519")


@pytest.fixture
def raw_server() -> Iterator[Callable[[bytes], int]]:
    """``serve(greeting)``: a TCP server that accepts, sends ``greeting``, then says nothing more."""
    listeners: list[socket.socket] = []
    accepted: list[socket.socket] = []

    def serve(greeting: bytes) -> int:
        listener = socket.create_server(("127.0.0.1", 0))
        listeners.append(listener)

        def accept() -> None:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            accepted.append(conn)
            conn.sendall(greeting)

        threading.Thread(target=accept, daemon=True).start()
        return int(listener.getsockname()[1])

    yield serve
    for sock in accepted + listeners:
        sock.close()


@pytest.fixture
def ssh_server(host_key: asyncssh.SSHKey) -> Iterator[Callable[..., int]]:
    """``serve(**server_options)``: an asyncssh server on its own loop thread; returns its port."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    servers: list[asyncssh.SSHAcceptor] = []

    def serve(**options: Any) -> int:
        async def start() -> asyncssh.SSHAcceptor:
            return await asyncssh.listen("127.0.0.1", 0, server_host_keys=[host_key], **options)

        server = asyncio.run_coroutine_threadsafe(start(), loop).result(10)
        servers.append(server)
        return int(server.sockets[0].getsockname()[1])

    yield serve

    async def stop() -> None:
        for server in servers:
            server.close()

    asyncio.run_coroutine_threadsafe(stop(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)
    loop.close()


def _known(host_key: asyncssh.SSHKey) -> str:
    return host_key.export_public_key().decode().strip()


def test_connect_times_out_when_the_server_sends_no_ssh_banner(
    raw_server: Callable[[bytes], int], host_key: asyncssh.SSHKey
) -> None:
    _assert_times_out(_endpoint(raw_server(b""), _known(host_key)))


def test_connect_times_out_when_the_key_exchange_stalls(
    raw_server: Callable[[bytes], int], host_key: asyncssh.SSHKey
) -> None:
    _assert_times_out(_endpoint(raw_server(b"SSH-2.0-Stalling_1.0\r\n"), _known(host_key)))


class _NeverAnswersPassword(asyncssh.SSHServer):
    def begin_auth(self, username: str) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return True

    async def validate_password(self, username: str, password: str) -> bool:
        await asyncio.sleep(3600)
        return False


def test_connect_times_out_when_authentication_stalls(
    ssh_server: Callable[..., int], host_key: asyncssh.SSHKey
) -> None:
    _assert_times_out(_endpoint(ssh_server(server_factory=_NeverAnswersPassword), _known(host_key)))


class _AcceptsAnyPassword(asyncssh.SSHServer):
    def begin_auth(self, username: str) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return True

    def validate_password(self, username: str, password: str) -> bool:
        return True


def test_connect_times_out_when_the_hello_never_comes(
    ssh_server: Callable[..., int], host_key: asyncssh.SSHKey
) -> None:
    async def silent(process: asyncssh.SSHServerProcess[Any]) -> None:
        await asyncio.sleep(3600)

    process_factory: Callable[[asyncssh.SSHServerProcess[Any]], Awaitable[None]] = silent
    port = ssh_server(server_factory=_AcceptsAnyPassword, process_factory=process_factory)
    _assert_times_out(_endpoint(port, _known(host_key)))
