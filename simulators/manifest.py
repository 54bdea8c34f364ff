"""The fleet manifest: the one file that tells clients where the simulated devices are.

The drivers, the server and the tests read it; its shape is a contract (issue 10)::

    {"version": 1, "control_url": "http://127.0.0.1:PORT", "pid": 123, "devices": [
     {"name": "pe1", "profile": "pe-router", "host": "127.0.0.1", "netconf_port": 40001,
      "snmp_port": 40002, "username": "admin", "password": "...",
      "snmp": {"community_ro": "public", "community_rw": "private",
               "v3": {"user": "provisio", "auth_protocol": "SHA", "auth_key": "...",
                      "priv_protocol": "AES", "priv_key": "..."}},
      "ssh_host_key": "ssh-ed25519 AAAA...", "ssh_host_key_fingerprint": "SHA256:..."}]}

Fields may be added, never renamed or removed. The file holds passwords, so it is written with
mode 0600, and atomically (temporary file in the same directory, fsync, rename) so that a reader
polling for it never sees half a document.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

MANIFEST_VERSION = 1


@dataclass(frozen=True)
class SnmpV3User:
    """An SNMPv3 USM user (RFC 3414) with authPriv: HMAC-SHA-96 authentication, AES-128 privacy."""

    user: str
    auth_key: str = field(repr=False)  # secrets never reach logs or reprs
    priv_key: str = field(repr=False)
    auth_protocol: str = "SHA"
    priv_protocol: str = "AES"


@dataclass(frozen=True)
class SnmpCredentials:
    """SNMP v2c communities and the v3 user of one device."""

    v3: SnmpV3User
    community_ro: str = field(default="public", repr=False)
    community_rw: str = field(default="private", repr=False)


@dataclass(frozen=True)
class DeviceEntry:
    """One device as a client sees it. A port is None where the profile has no such interface."""

    name: str
    profile: str
    host: str
    netconf_port: int | None
    snmp_port: int | None
    username: str
    password: str = field(repr=False)
    snmp: SnmpCredentials
    ssh_host_key: str | None
    ssh_host_key_fingerprint: str | None


@dataclass(frozen=True)
class Manifest:
    control_url: str
    pid: int
    devices: list[DeviceEntry] = field(default_factory=list)
    version: int = MANIFEST_VERSION

    def to_json(self) -> dict[str, Any]:
        # Key order as in the documented example: version first reads best.
        return {
            "version": self.version,
            "control_url": self.control_url,
            "pid": self.pid,
            "devices": [asdict(device) for device in self.devices],
        }

    def device(self, name: str) -> DeviceEntry:
        for entry in self.devices:
            if entry.name == name:
                return entry
        raise KeyError(name)


def manifest_from_json(document: dict[str, Any]) -> Manifest:
    """Parse a manifest document; unknown fields are ignored (they may be added freely)."""
    version = document.get("version")
    if version != MANIFEST_VERSION:
        raise ValueError(f"unsupported manifest version {version!r}, expected {MANIFEST_VERSION}")
    return Manifest(
        control_url=document["control_url"],
        pid=int(document["pid"]),
        devices=[_device_from_json(item) for item in document["devices"]],
    )


def _device_from_json(item: dict[str, Any]) -> DeviceEntry:
    snmp = item["snmp"]
    v3 = snmp["v3"]
    return DeviceEntry(
        name=item["name"],
        profile=item["profile"],
        host=item["host"],
        netconf_port=item["netconf_port"],
        snmp_port=item["snmp_port"],
        username=item["username"],
        password=item["password"],
        snmp=SnmpCredentials(
            community_ro=snmp["community_ro"],
            community_rw=snmp["community_rw"],
            v3=SnmpV3User(
                user=v3["user"],
                auth_protocol=v3["auth_protocol"],
                auth_key=v3["auth_key"],
                priv_protocol=v3["priv_protocol"],
                priv_key=v3["priv_key"],
            ),
        ),
        ssh_host_key=item.get("ssh_host_key"),
        ssh_host_key_fingerprint=item.get("ssh_host_key_fingerprint"),
    )


def write_manifest(path: Path, manifest: Manifest) -> None:
    """Write the manifest atomically with mode 0600 (it carries passwords)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = json.dumps(manifest.to_json(), indent=1).encode()
    # mkstemp creates the file 0600 already; the rename is atomic within one filesystem.
    fd, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp_name, 0o600)
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise


def read_manifest(path: Path) -> Manifest:
    with open(path, encoding="utf-8") as handle:
        return manifest_from_json(json.load(handle))
