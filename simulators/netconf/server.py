"""NETCONF over SSH for one simulated device (RFC 6242): an asyncssh listener with a ``netconf``
subsystem, password and public-key authentication, and the refuse-connection fault (and a reboot's
down time) at accept."""

from __future__ import annotations

import hmac
import logging
from typing import TYPE_CHECKING

import asyncssh

from simulators.faults import FaultKind
from simulators.netconf.session import NetconfSession

if TYPE_CHECKING:
    from simulators.device import Device

logger = logging.getLogger(__name__)


class NetconfEndpoint:
    """A running listener: its port, its live sessions, and how to stop it."""

    def __init__(self, device: Device) -> None:
        self.device = device
        self.port = 0
        self.sessions: set[NetconfSession] = set()
        #: every SSH connection, also those still authenticating, so that a reboot drops them all
        self.connections: set[asyncssh.SSHServerConnection] = set()
        self._server: asyncssh.SSHAcceptor | None = None

    async def drop_sessions(self) -> None:
        """Abort every session and SSH connection of this listener (their locks and non-persisted
        commits go with them), as a reboot cuts every TCP connection."""
        for session in list(self.sessions):
            session.abort()
        for conn in list(self.connections):
            conn.abort()
        self.connections.clear()

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        await self.drop_sessions()


class _SshServer(asyncssh.SSHServer):
    def __init__(
        self, endpoint: NetconfEndpoint, users: dict[str, str], authorized_keys: list[asyncssh.SSHKey]
    ) -> None:
        self._endpoint = endpoint
        self._users = users
        self._keys = {key.public_data for key in authorized_keys}
        self._conn: asyncssh.SSHServerConnection | None = None

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self._conn = conn
        device = self._endpoint.device
        # Booting first, so that a refuse-connection count is not spent while the device is down anyway.
        if device.is_booting():
            logger.info("%s: connection refused (booting)", device.name)
            conn.abort()
            return
        if device.faults.active(FaultKind.REFUSE_CONNECTION) is not None:
            logger.info("%s: connection refused (fault)", device.name)
            conn.abort()
            return
        self._endpoint.connections.add(conn)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._conn is not None:
            self._endpoint.connections.discard(self._conn)

    def begin_auth(self, username: str) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return True

    def validate_password(self, username: str, password: str) -> bool:
        expected = self._users.get(username)
        return expected is not None and hmac.compare_digest(expected.encode(), password.encode())

    def public_key_auth_supported(self) -> bool:
        return bool(self._keys)

    def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
        return username in self._users and key.public_data in self._keys

    def session_requested(self) -> NetconfSession:
        session = NetconfSession(self._endpoint.device, self._endpoint.sessions.discard)
        self._endpoint.sessions.add(session)
        return session


async def start_netconf_server(
    device: Device,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    host_key: asyncssh.SSHKey,
    users: dict[str, str],
    authorized_keys: list[asyncssh.SSHKey] | None = None,
) -> NetconfEndpoint:
    """Listen for NETCONF over SSH for ``device``; ``port=0`` picks an ephemeral port."""
    endpoint = NetconfEndpoint(device)
    keys = list(authorized_keys or [])
    endpoint._server = await asyncssh.create_server(
        lambda: _SshServer(endpoint, users, keys),
        host,
        port,
        server_host_keys=[host_key],
        encoding=None,
        allow_scp=False,
        agent_forwarding=False,
        x11_forwarding=False,
        allow_pty=False,
        keepalive_interval=0,
    )
    endpoint.port = endpoint._server.sockets[0].getsockname()[1]
    logger.debug("%s: NETCONF on %s:%d", device.name, host, endpoint.port)
    return endpoint
