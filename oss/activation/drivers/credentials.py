"""Device endpoints and credentials, read from ONE place: the JSON file named by settings.

``Settings.credentials_file`` (env ``PROVISIO_CREDENTIALS_FILE``) names a JSON file in the simulator
manifest format, so a simulator manifest can be used as it is::

    {"version": 1, "devices": [{"name": "pe1", "profile": "pe-router", "host": "127.0.0.1",
      "netconf_port": 40001, "snmp_port": 40002, "username": "admin", "password": "...",
      "private_key_file": null,
      "snmp": {"community_ro": "public", "community_rw": "private",
               "v3": {"user": "provisio", "auth_protocol": "SHA", "auth_key": "...",
                      "priv_protocol": "AES", "priv_key": "..."}},
      "ssh_host_key": "ssh-ed25519 AAAA...", "ssh_host_key_fingerprint": "SHA256:..."}]}

Secrets are wrapped in :class:`Secret`, whose ``repr``/``str`` never show the value; only the driver
calls :meth:`Secret.reveal` when it hands the value to the transport.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from common.errors import InvalidInput, NotFound

ENV_CREDENTIALS_FILE = "PROVISIO_CREDENTIALS_FILE"


class Secret:
    """A secret string that does not leak through repr, str, format, logging or pickling by accident."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return "***"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __reduce__(self) -> Any:
        raise TypeError("a Secret is not pickled; store the credentials file path instead")


def _secret(value: object) -> Secret | None:
    return Secret(str(value)) if value not in (None, "") else None


@dataclass(frozen=True)
class SnmpV3User:
    """USM user (RFC 3414) with authPriv: auth SHA (HMAC-SHA-96), priv AES-128 (RFC 3826)."""

    user: str
    auth_protocol: str
    auth_key: Secret
    priv_protocol: str
    priv_key: Secret


@dataclass(frozen=True)
class SnmpCredentials:
    community_ro: Secret | None = None
    community_rw: Secret | None = None
    v3: SnmpV3User | None = None


@dataclass(frozen=True)
class DeviceEndpoint:
    """Where a device is and how to authenticate to it. ``ssh_host_key`` is the *known* host key
    (``"ssh-ed25519 AAAA..."``): a device presenting another key is refused."""

    name: str
    host: str
    profile: str = "pe-router"
    netconf_port: int | None = None
    snmp_port: int | None = None
    username: str | None = None
    password: Secret | None = None
    private_key_file: str | None = None
    ssh_host_key: str | None = None
    snmp: SnmpCredentials | None = None
    extra: Mapping[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> DeviceEndpoint:
        try:
            snmp = data.get("snmp")
            v3 = snmp.get("v3") if snmp else None
            return cls(
                name=str(data["name"]),
                host=str(data.get("host", "127.0.0.1")),
                profile=str(data.get("profile", "pe-router")),
                netconf_port=data.get("netconf_port"),
                snmp_port=data.get("snmp_port"),
                username=data.get("username"),
                password=_secret(data.get("password")),
                private_key_file=data.get("private_key_file"),
                ssh_host_key=data.get("ssh_host_key"),
                snmp=SnmpCredentials(
                    community_ro=_secret(snmp.get("community_ro")),
                    community_rw=_secret(snmp.get("community_rw")),
                    v3=SnmpV3User(
                        user=str(v3["user"]),
                        auth_protocol=str(v3.get("auth_protocol", "SHA")),
                        auth_key=Secret(str(v3["auth_key"])),
                        priv_protocol=str(v3.get("priv_protocol", "AES")),
                        priv_key=Secret(str(v3["priv_key"])),
                    )
                    if v3
                    else None,
                )
                if snmp
                else None,
                extra={k: v for k, v in data.items() if k in ("control_url",)},
            )
        except (KeyError, TypeError, AttributeError) as exc:
            # The message names the field, never its value.
            raise InvalidInput(f"credentials entry is malformed: missing or bad {exc!s}") from None


class CredentialStore:
    """The devices of one credentials file (or simulator manifest), by name."""

    def __init__(self, devices: Mapping[str, DeviceEndpoint], source: str = "<memory>") -> None:
        self._devices = dict(devices)
        self.source = source

    def __repr__(self) -> str:
        return f"CredentialStore(source={self.source!r}, devices={sorted(self._devices)!r})"

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> CredentialStore:
        file = Path(path)
        try:
            document = json.loads(file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise NotFound(f"credentials file {file} does not exist", code="CREDENTIALS_NOT_FOUND") from None
        except json.JSONDecodeError as exc:
            # Position only: the decoder's message may quote the document.
            raise InvalidInput(
                f"credentials file {file} is not JSON (line {exc.lineno})", code="CREDENTIALS_INVALID"
            ) from None
        devices = [DeviceEndpoint.from_json(entry) for entry in document.get("devices", [])]
        return cls({device.name: device for device in devices}, source=str(file))

    @classmethod
    def from_settings(cls, credentials_file: str | os.PathLike[str] | None = None) -> CredentialStore:
        """The file ``Settings.credentials_file`` names (``PROVISIO_CREDENTIALS_FILE``)."""
        # The composition root passes Settings.credentials_file; without it, the same env variable
        # Settings reads (oss never imports server).
        credentials_file = credentials_file or os.environ.get(ENV_CREDENTIALS_FILE)
        if not credentials_file:
            raise NotFound(f"no credentials file configured ({ENV_CREDENTIALS_FILE})", code="CREDENTIALS_NOT_FOUND")
        return cls.from_file(credentials_file)

    def get(self, name: str) -> DeviceEndpoint:
        try:
            return self._devices[name]
        except KeyError:
            raise NotFound(f"no credentials for device {name!r}", code="DEVICE_NOT_FOUND") from None

    def __iter__(self) -> Iterator[DeviceEndpoint]:
        return iter(self._devices.values())

    def __len__(self) -> int:
        return len(self._devices)
