"""The cryptography of the User-based Security Model, authoritative (agent) side.

- SnmpEngineID format 5 (RFC 3411 §5, "octets, administratively assigned") derived from the device name,
  so that every simulated device is its own SNMP engine, as on a real network, and stays the same across
  restarts.
- Password to key (RFC 3414 §A.2.2, SHA-1 over 1 MiB of repeated passphrase) and key localisation
  (RFC 3414 §2.6): done once per device, on the first SNMPv3 message, so that starting 1,000 devices
  costs no hashing.
- HMAC-SHA-96 (RFC 3414 §7) and AES-128 in CFB128 mode (RFC 3826 §3.1) with the 64-bit salt of
  RFC 3826 §3.1.2.1.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms

try:  # cryptography >= 47 keeps CFB among the "decrepit" modes (RFC 3826 still requires it)
    from cryptography.hazmat.decrepit.ciphers.modes import CFB
except ImportError:  # pragma: no cover - older cryptography
    from cryptography.hazmat.primitives.ciphers.modes import CFB  # type: ignore[no-redef,unused-ignore]

#: Enterprise 0 (reserved) and format 5: we own no enterprise number to put in an engine ID.
_ENGINE_ID_PREFIX = bytes([0x80, 0x00, 0x00, 0x00, 0x05])
_MEGABYTE = 1_048_576
DIGEST_LENGTH = 12  # HMAC-SHA-96
SALT_LENGTH = 8


def engine_id_for(device_name: str) -> bytes:
    """A stable SnmpEngineID for one device: 5 octets of header and 12 of the name's SHA-1."""
    return _ENGINE_ID_PREFIX + hashlib.sha1(device_name.encode()).digest()[:12]


def password_to_key(passphrase: str) -> bytes:
    """Ku of RFC 3414 §A.2.2: SHA-1 of the passphrase repeated to 1 MiB (one C-level hash call)."""
    raw = passphrase.encode()
    if len(raw) < 8:
        raise ValueError("an SNMPv3 passphrase must be at least 8 octets long (RFC 3414 §11.2)")
    return hashlib.sha1((raw * (_MEGABYTE // len(raw) + 1))[:_MEGABYTE]).digest()


def localize_key(key: bytes, engine_id: bytes) -> bytes:
    """Kul = H(Ku || snmpEngineID || Ku) (RFC 3414 §2.6)."""
    return hashlib.sha1(key + engine_id + key).digest()


@dataclass(frozen=True)
class LocalizedUser:
    """One USM user with its keys localised to this engine: SHA authentication, AES-128 privacy."""

    name: bytes
    auth_key: bytes
    priv_key: bytes

    @classmethod
    def derive(cls, name: str, auth_passphrase: str, priv_passphrase: str, engine_id: bytes) -> LocalizedUser:
        auth = localize_key(password_to_key(auth_passphrase), engine_id)
        # RFC 3826 §1.2: the privacy key is derived with the authentication protocol's hash, first 16 octets.
        priv = localize_key(password_to_key(priv_passphrase), engine_id)[:16]
        return cls(name.encode(), auth, priv)

    def digest(self, whole_message: bytes) -> bytes:
        return hmac.new(self.auth_key, whole_message, hashlib.sha1).digest()[:DIGEST_LENGTH]


def _cipher(key: bytes, boots: int, engine_time: int, salt: bytes) -> Cipher[CFB]:
    iv = boots.to_bytes(4, "big") + engine_time.to_bytes(4, "big") + salt  # RFC 3826 §3.1.2.1
    return Cipher(algorithms.AES(key), CFB(iv))


def decrypt(user: LocalizedUser, boots: int, engine_time: int, salt: bytes, data: bytes) -> bytes:
    if len(salt) != SALT_LENGTH:
        raise ValueError("msgPrivacyParameters must be 8 octets (RFC 3826 §3.1.2.2)")
    decryptor = _cipher(user.priv_key, boots, engine_time, salt).decryptor()
    return decryptor.update(data) + decryptor.finalize()


class SaltCounter:
    """The 64-bit integer of RFC 3826 §3.1.2.1, started at random and incremented per message."""

    def __init__(self) -> None:
        self._value = secrets.randbits(64)

    def next(self) -> bytes:
        self._value = (self._value + 1) & 0xFFFFFFFFFFFFFFFF
        return self._value.to_bytes(SALT_LENGTH, "big")


def encrypt(user: LocalizedUser, boots: int, engine_time: int, salt: bytes, data: bytes) -> bytes:
    encryptor = _cipher(user.priv_key, boots, engine_time, salt).encryptor()
    return encryptor.update(data) + encryptor.finalize()
