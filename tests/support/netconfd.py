"""Launch Debian's netconfd (yuma123) behind a private sshd on 127.0.0.1, as NOTES.md describes.

    with netconfd_server() as server:
        endpoint = server.endpoint()          # a DeviceEndpoint for NetconfDriver
        ...

netconfd runs as an unprivileged system account (``provisio-netconf``, created once, idempotently:
netconfd needs a writable ``~/.yuma`` found through the passwd entry). In front of it a private
``sshd -D -f DIR/sshd_config`` listens on 127.0.0.1:<ephemeral> with its own ed25519 host key, public-key
auth only, ``AllowUsers`` that account, and the ``netconf`` subsystem bridged to netconfd's UNIX socket.
Needs root (to create the account, start sshd and drop to the account), ``/run/sshd`` (created here),
and the Debian packages ``netconfd openssh-server``. Usable from pytest fixtures and benchmarks.
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
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.support.ports import free_port

NETCONFD = "/usr/sbin/netconfd"
NETCONF_SUBSYSTEM = "/usr/sbin/netconf-subsystem"
SSHD = "/usr/sbin/sshd"
SYSTEM_USER = "provisio-netconf"
MODULES = ("iana-if-type", "ietf-interfaces", "ietf-ip", "ietf-routing", "ietf-ipv4-unicast-routing")
EMPTY_STARTUP = '<config xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"/>\n'


class NetconfdUnavailable(RuntimeError):
    """netconfd/sshd are not installed or cannot be run here (not root)."""


@dataclass(frozen=True)
class NetconfdServer:
    host: str
    port: int
    username: str
    private_key_file: str
    ssh_host_key: str  # "ssh-ed25519 AAAA..." as read from the generated host key's .pub
    workdir: Path
    netconfd_pid: int
    sshd_pid: int

    def endpoint(self, name: str = "netconfd", host_key: str | None = None):  # type: ignore[no-untyped-def]
        from oss.activation.drivers.credentials import DeviceEndpoint

        return DeviceEndpoint(
            name=name,
            host=self.host,
            profile="netconfd",
            netconf_port=self.port,
            username=self.username,
            private_key_file=self.private_key_file,
            ssh_host_key=host_key or self.ssh_host_key,
        )


def available() -> str | None:
    """None when the launcher can run here, else why not."""
    missing = [path for path in (NETCONFD, NETCONF_SUBSYSTEM, SSHD) if not os.path.exists(path)]
    if missing:
        return f"not installed: {', '.join(missing)} (apt-get install netconfd openssh-server)"
    if os.geteuid() != 0:
        return "needs root (system account, sshd, privilege drop)"
    return None


def ensure_system_user(name: str = SYSTEM_USER) -> pwd.struct_passwd:
    """Create the unprivileged account once; later calls find it. Its password field is ``*``
    (no password, not locked): sshd without PAM refuses even key logins to ``!``-locked accounts."""
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        home = f"/var/lib/{name}"
        subprocess.run(
            ["useradd", "--system", "--create-home", "--home-dir", home, "--shell", "/bin/sh", name],
            check=True,
            capture_output=True,
        )
        entry = pwd.getpwnam(name)
    shadow = subprocess.run(["getent", "shadow", name], capture_output=True, text=True).stdout
    if shadow.split(":")[1:2] != ["*"]:
        subprocess.run(["usermod", "-p", "*", name], check=True, capture_output=True)
    if not os.path.isdir(entry.pw_dir):  # account made elsewhere without a home: netconfd needs ~/.yuma
        os.makedirs(entry.pw_dir, exist_ok=True)
        os.chown(entry.pw_dir, entry.pw_uid, entry.pw_gid)
    return entry


def _keygen(path: Path) -> None:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)


def _sshd_config(workdir: Path, port: int, user: str) -> str:
    return f"""ListenAddress 127.0.0.1:{port}
HostKey {workdir}/ssh/host_ed25519
PidFile none
UsePAM no
AllowUsers {user}
PermitRootLogin no
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
AuthorizedKeysFile {workdir}/auth/authorized_keys
# the work dir lives under /tmp (world-writable): StrictModes would refuse its authorized_keys
StrictModes no
AllowTcpForwarding no
AllowAgentForwarding no
X11Forwarding no
PermitTTY no
PrintMotd no
MaxStartups 100:30:200
MaxSessions 100
LogLevel ERROR
Subsystem netconf "{NETCONF_SUBSYSTEM} --ncxserver-sockname={port}@{workdir}/ncd/ncxserver.sock"
"""


def _wait_until(predicate, deadline: float, what: str, processes: list[subprocess.Popen[bytes]]) -> None:  # type: ignore[no-untyped-def]
    while not predicate():
        for process in processes:
            if process.poll() is not None:
                raise RuntimeError(f"{what}: {process.args!r} exited with {process.returncode}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not ready in time")
        time.sleep(0.02)


def _ssh_banner(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as conn:
            return conn.recv(8).startswith(b"SSH-")
    except OSError:
        return False


@contextlib.contextmanager
def netconfd_server(
    startup_xml: str = EMPTY_STARTUP, user: str = SYSTEM_USER, start_timeout_s: float = 20.0
) -> Iterator[NetconfdServer]:
    """Start netconfd + sshd, yield where they listen, stop both and remove the work dir."""
    reason = available()
    if reason:
        raise NetconfdUnavailable(reason)
    account = ensure_system_user(user)
    os.makedirs("/run/sshd", mode=0o755, exist_ok=True)  # sshd's privilege-separation directory
    workdir = Path(tempfile.mkdtemp(prefix="provisio-netconfd-"))
    processes: list[subprocess.Popen[bytes]] = []
    try:
        workdir.chmod(0o711)  # the account must reach ncd/ and auth/, not list the dir
        (workdir / "ssh").mkdir(mode=0o700)
        (workdir / "auth").mkdir(mode=0o755)
        (workdir / "ncd").mkdir(mode=0o755)
        os.chown(workdir / "ncd", account.pw_uid, account.pw_gid)
        _keygen(workdir / "ssh" / "host_ed25519")
        _keygen(workdir / "ssh" / "client_ed25519")
        shutil.copy(workdir / "ssh" / "client_ed25519.pub", workdir / "auth" / "authorized_keys")
        (workdir / "auth" / "authorized_keys").chmod(0o644)
        startup = workdir / "ncd" / "startup-cfg.xml"
        startup.write_text(startup_xml)
        os.chown(startup, account.pw_uid, account.pw_gid)
        port = free_port()
        (workdir / "ssh" / "sshd_config").write_text(_sshd_config(workdir, port, user))
        socket_path = workdir / "ncd" / "ncxserver.sock"
        netconfd_log = open(workdir / "netconfd.log", "wb")  # noqa: SIM115 - closed with the process
        processes.append(
            subprocess.Popen(
                [
                    NETCONFD,
                    "--target=candidate",
                    "--with-startup=true",
                    "--with-validate=true",
                    f"--superuser={user}",
                    f"--port={port}",
                    f"--ncxserver-sockname={socket_path}",
                    f"--startup={startup}",
                    *(f"--module={module}" for module in MODULES),
                ],
                cwd=workdir / "ncd",
                user=account.pw_uid,
                group=account.pw_gid,
                extra_groups=[],
                env={"PATH": "/usr/sbin:/usr/bin:/bin", "HOME": account.pw_dir, "USER": user},
                stdout=netconfd_log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        )
        netconfd_log.close()
        deadline = time.monotonic() + start_timeout_s
        _wait_until(socket_path.exists, deadline, "netconfd", processes)
        sshd_log = open(workdir / "sshd.log", "wb")  # noqa: SIM115
        processes.append(
            subprocess.Popen(
                [SSHD, "-D", "-e", "-f", str(workdir / "ssh" / "sshd_config")],
                stdout=sshd_log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        )
        sshd_log.close()
        _wait_until(lambda: _ssh_banner(port), deadline, "sshd", processes)
        host_key = " ".join((workdir / "ssh" / "host_ed25519.pub").read_text().split()[:2])
        yield NetconfdServer(
            host="127.0.0.1",
            port=port,
            username=user,
            private_key_file=str(workdir / "ssh" / "client_ed25519"),
            ssh_host_key=host_key,
            workdir=workdir,
            netconfd_pid=processes[0].pid,
            sshd_pid=processes[1].pid,
        )
    finally:
        for process in reversed(processes):
            if process.poll() is None:
                process.terminate()
        for process in reversed(processes):
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        shutil.rmtree(workdir, ignore_errors=True)
