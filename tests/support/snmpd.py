"""Launch Debian's net-snmp ``snmpd`` on 127.0.0.1 as an independent reference agent (NOTES.md, SNMP).

    with snmpd_server() as server:
        server.port, server.community_ro, server.community_rw, server.v3_user, ...
        endpoint = server.endpoint()     # a DeviceEndpoint for the SNMP driver

or as a pytest fixture::

    snmpd = snmpd_fixture()              # module scope by default

The agent runs in the foreground (``snmpd -f -C -c CONF -I -smux``) with a config written into a
temporary directory: ``master no`` (no AgentX socket), no SMUX (which would listen on 0.0.0.0:199),
``agentaddress udp:127.0.0.1:PORT`` on an ephemeral port, a read-only and a read-write v2c community
restricted to 127.0.0.1, and an SNMPv3 USM user with authPriv (SHA, AES-128) made by ``createUser`` in that
config (``-C`` stops snmpd from reading the persistent file, so it cannot go there); ``SNMP_PERSISTENT_DIR``
is a temporary directory too. sysContact, sysName and sysLocation are not set in the
config so that they stay writable; ifAlias is writable; ifAdminStatus answers genErr because snmpd runs
unprivileged (when started as root it drops to ``nobody``). Needs the Debian package ``snmpd``.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

SNMPD = "/usr/sbin/snmpd"
START_TIMEOUT = 10.0


class SnmpdUnavailable(RuntimeError):
    """snmpd is not installed or did not start."""


@dataclass(frozen=True)
class SnmpdServer:
    host: str
    port: int
    community_ro: str
    community_rw: str
    v3_user: str
    auth_key: str
    priv_key: str
    workdir: Path
    pid: int

    def manifest_device(self, name: str = "snmpd") -> dict[str, Any]:
        """This agent as a device of the simulator manifest (simulators/manifest.py shape)."""
        return {
            "name": name,
            "profile": "snmpd",
            "host": self.host,
            "netconf_port": None,
            "snmp_port": self.port,
            "snmp": {
                "community_ro": self.community_ro,
                "community_rw": self.community_rw,
                "v3": {
                    "user": self.v3_user,
                    "auth_protocol": "SHA",
                    "auth_key": self.auth_key,
                    "priv_protocol": "AES",
                    "priv_key": self.priv_key,
                },
            },
        }

    def endpoint(self, name: str = "snmpd"):  # type: ignore[no-untyped-def]
        from oss.activation.drivers.credentials import DeviceEndpoint

        return DeviceEndpoint.from_json(self.manifest_device(name))


def available() -> str | None:
    """None when snmpd can run here, else why not."""
    if not os.path.exists(SNMPD):
        return f"not installed: {SNMPD} (apt-get install snmpd)"
    return None


def _free_udp_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _config(host: str, port: int, community_ro: str, community_rw: str, user: str, auth: str, priv: str) -> str:
    return "\n".join(
        [
            "master no",
            # -C keeps snmpd from reading any other file, the persistent one included: createUser goes here.
            f'createUser {user} SHA "{auth}" AES "{priv}"',
            f"agentaddress udp:{host}:{port}",
            f"rocommunity {community_ro} {host}",
            f"rwcommunity {community_rw} {host}",
            f"rwuser {user} priv",
            "sysServices 72",
            "",
        ]
    )


def _probe(host: str, port: int, community: str, timeout: float) -> bool:
    """One SNMPv2c GET of sysUpTime.0: True once snmpd answers."""
    from pyasn1.codec.ber import encoder
    from pysnmp.proto.api import v2c

    pdu = v2c.GetRequestPDU()
    v2c.apiPDU.set_defaults(pdu)
    v2c.apiPDU.set_varbinds(pdu, [((1, 3, 6, 1, 2, 1, 1, 3, 0), v2c.Null(""))])
    message = v2c.Message()
    v2c.apiMessage.set_defaults(message)
    v2c.apiMessage.set_community(message, community)
    v2c.apiMessage.set_pdu(message, pdu)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        sock.sendto(encoder.encode(message), (host, port))
        try:
            sock.recvfrom(65535)
        except OSError:
            return False
    return True


@contextlib.contextmanager
def snmpd_server(
    *,
    host: str = "127.0.0.1",
    community_ro: str = "public",
    community_rw: str = "private",
    v3_user: str = "provisio",
    auth_key: str = "provisio-auth-key",
    priv_key: str = "provisio-priv-key",
) -> Iterator[SnmpdServer]:
    """Run snmpd until the block ends; raises SnmpdUnavailable if it cannot start."""
    reason = available()
    if reason:
        raise SnmpdUnavailable(reason)
    workdir = Path(tempfile.mkdtemp(prefix="provisio-snmpd-"))
    persistent = workdir / "persist"
    persistent.mkdir()
    port = _free_udp_port(host)
    conf = workdir / "snmpd.conf"
    conf.write_text(_config(host, port, community_ro, community_rw, v3_user, auth_key, priv_key))
    command = [SNMPD, "-f", "-C", "-c", str(conf), "-I", "-smux", "-Lf", str(workdir / "snmpd.log")]
    if os.geteuid() == 0:
        # An agent on a test machine has no business running as root (and NOTES relies on genErr).
        nobody = pwd.getpwnam("nobody")
        for path in (workdir, persistent):
            os.chown(path, nobody.pw_uid, nobody.pw_gid)
        command += ["-u", str(nobody.pw_uid), "-g", str(nobody.pw_gid)]
    env = dict(os.environ, SNMP_PERSISTENT_DIR=str(persistent), MIBS="", MIBDIRS="")
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not _probe(host, port, community_ro, 0.2):
            if process.poll() is not None or time.monotonic() > deadline:
                log = (workdir / "snmpd.log").read_text(errors="replace") if (workdir / "snmpd.log").exists() else ""
                raise SnmpdUnavailable(f"snmpd did not answer on {host}:{port}: {log[-2000:]}")
        yield SnmpdServer(host, port, community_ro, community_rw, v3_user, auth_key, priv_key, workdir, process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stderr is not None:
            process.stderr.close()
        shutil.rmtree(workdir, ignore_errors=True)


def snmpd_fixture(scope: str = "module", **options: str) -> Callable[..., Any]:
    """A pytest fixture running one snmpd for the scope; skips the test when snmpd is not installed."""
    import pytest

    @pytest.fixture(scope=scope)  # type: ignore[call-overload,untyped-decorator,unused-ignore]
    def snmpd() -> Iterator[SnmpdServer]:
        reason = available()
        if reason:
            pytest.skip(reason)
        with snmpd_server(**options) as server:
            yield server

    return cast(Callable[..., Any], snmpd)
