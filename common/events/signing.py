"""Signed hub deliveries: an HMAC-SHA256 of each POSTed body, keyed by the subscription's secret.

Every delivery to a hub listener carries (Stripe and GitHub webhooks work the same way)::

    X-Event-Id: <eventId>                      (the same on every attempt)
    X-Provisio-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + raw body)>

``t`` is the wall-clock time of that attempt, so a retry carries a fresh timestamp and signature. A
listener recomputes the HMAC over the raw bytes it received (before parsing the JSON), compares in
constant time, and refuses a timestamp outside its tolerance window: a forged body fails the HMAC, a
captured delivery replayed later fails the window, and within the window the ``eventId`` (which
at-least-once delivery already asks listeners to deduplicate on) drops it.

The secret is made at registration (``POST /hub``), answered once in the 201 and never shown again.
``verify_signature`` is the function the README's "Verifying a delivery" gives listeners to copy
(``tests/unit/events/test_events_signing.py`` keeps the two identical); the tests' recording listener
verifies every delivery with it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from typing import Any

SIGNATURE_HEADER = "X-Provisio-Signature"
EVENT_ID_HEADER = "X-Event-Id"
# A prefix makes a leaked secret recognisable (secret scanners, log greps) and says what it is for.
SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32  # RFC 2104 §3: a key shorter than the hash output (32 bytes for SHA-256) is discouraged


def new_secret() -> str:
    """A fresh signing secret for one subscription (``secrets``: a CSPRNG)."""
    return SECRET_PREFIX + secrets.token_urlsafe(SECRET_BYTES)


def delivery_body(payload: dict[str, Any]) -> bytes:
    """The exact bytes POSTed (and signed): compact JSON, UTF-8."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")


def signature_header(secret: str, body: bytes, timestamp: int) -> str:
    """The ``X-Provisio-Signature`` value of ``body`` sent at ``timestamp`` (unix seconds)."""
    digest = hmac.new(secret.encode("utf-8"), b"%d." % timestamp + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def signed_headers(secret: str, body: bytes, event_id: str, now: float | None = None) -> dict[str, str]:
    """The headers of one delivery attempt, signed at ``now`` (default: the wall clock)."""
    timestamp = int(time.time() if now is None else now)
    return {EVENT_ID_HEADER: event_id, SIGNATURE_HEADER: signature_header(secret, body, timestamp)}


# --- the listener's side: copied verbatim into the README ---------------------------------------------


def verify_signature(
    secret: str, body: bytes, header: str | None, tolerance: float = 300, now: float | None = None
) -> bool:
    """True if ``header`` (X-Provisio-Signature) signs the raw ``body`` with ``secret`` and was made
    within ``tolerance`` seconds of ``now`` (default: this machine's clock)."""
    timestamp, signatures = None, []
    for item in (header or "").split(","):
        key, _, value = item.strip().partition("=")
        if key == "t" and value.isascii() and value.isdigit():
            timestamp = int(value)
        elif key == "v1":
            signatures.append(value.encode("utf-8", "replace"))
    if timestamp is None or not signatures:
        return False
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False  # stale (a replay) or from a clock far off
    signed = str(timestamp).encode("ascii") + b"." + body
    expected = hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest().encode("ascii")
    return any(hmac.compare_digest(expected, signature) for signature in signatures)
