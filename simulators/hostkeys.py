"""The persistent identity of each simulated device: its SSH host key and its credentials.

A real router keeps its SSH host key across reboots, so a client that pinned the key (RFC 4251 §4.1,
the manifest's ``ssh_host_key_fingerprint``) keeps trusting it. Keys live in
``STATE_DIR/hostkeys/<name>.key`` (OpenSSH private key format, mode 0600), one ed25519 key per device.

Credentials are never written outside the manifest: with a state directory they are derived
(HMAC-SHA256) from one random secret kept in ``STATE_DIR/secret`` (mode 0600), so they stay the same
across restarts; without one they are random for the run.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

import asyncssh

logger = logging.getLogger(__name__)

HOST_KEY_ALGORITHM = "ssh-ed25519"
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


@dataclass(frozen=True)
class DeviceCredentials:
    password: str
    snmp_auth_key: str
    snmp_priv_key: str


def _check_name(name: str) -> None:
    # The device name becomes a file name: refuse anything that could leave the directory.
    if not _SAFE_NAME.match(name):
        raise ValueError(f"device name {name!r} is not usable as a file name")


def _write_private(path: Path, data: bytes) -> None:
    """Create a 0600 file atomically, so a crash never leaves a truncated key behind."""
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


class HostKeyStore:
    """Loads or creates one ed25519 host key per device name under ``root``; with ``root=None`` the
    keys exist only in memory, for this run."""

    def __init__(self, root: Path | None) -> None:
        self.root = Path(root) if root is not None else None
        if self.root is not None:
            self.root.mkdir(parents=True, exist_ok=True, mode=0o700)

    def path_for(self, name: str) -> Path | None:
        _check_name(name)
        return self.root / f"{name}.key" if self.root is not None else None

    def load_or_create(self, name: str) -> asyncssh.SSHKey:
        path = self.path_for(name)
        if path is None:
            return asyncssh.generate_private_key(HOST_KEY_ALGORITHM)
        if path.exists():
            return asyncssh.read_private_key(str(path))
        key = asyncssh.generate_private_key(HOST_KEY_ALGORITHM)
        _write_private(path, key.export_private_key())
        logger.debug("created host key for %s at %s", name, path)
        return key


def public_key_line(key: asyncssh.SSHKey) -> str:
    """The OpenSSH one-line public key (``ssh-ed25519 AAAA...``), without a comment."""
    algorithm, blob = key.export_public_key("openssh").decode().split()[:2]
    return f"{algorithm} {blob}"


def fingerprint(key: asyncssh.SSHKey) -> str:
    """``SHA256:<unpadded base64>`` as OpenSSH prints it (ssh-keygen -l)."""
    return str(key.get_fingerprint("sha256"))


def fingerprint_of_public_line(line: str) -> str:
    """The SHA256 fingerprint of a ``ssh-ed25519 AAAA...`` line, computed from the key blob."""
    blob = base64.b64decode(line.split()[1])
    digest = base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")
    return f"SHA256:{digest}"


class CredentialSource:
    """Per-device secrets: stable for a state directory, random per run without one."""

    def __init__(self, state_dir: Path | None) -> None:
        self._secret: bytes | None = None
        if state_dir is not None:
            self._secret = self._load_or_create_secret(Path(state_dir) / "secret")

    @staticmethod
    def _load_or_create_secret(path: Path) -> bytes:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            return path.read_bytes()
        secret = secrets.token_bytes(32)
        _write_private(path, secret)
        return secret

    def _derive(self, name: str, purpose: str) -> str:
        if self._secret is None:
            return secrets.token_urlsafe(12)
        mac = hmac.new(self._secret, f"{purpose}:{name}".encode(), hashlib.sha256).digest()
        # 16 url-safe characters: 96 bits, and at least 8 characters as USM keys require (RFC 3414 §11.2).
        return base64.urlsafe_b64encode(mac).decode()[:16]

    def for_device(self, name: str) -> DeviceCredentials:
        return DeviceCredentials(
            password=self._derive(name, "password"),
            snmp_auth_key=self._derive(name, "snmp-auth"),
            snmp_priv_key=self._derive(name, "snmp-priv"),
        )
