"""NETCONF message framing over SSH (RFC 6242 §4.1 end-of-message, §4.2 chunked).

Both framers are incremental: feed them bytes as they arrive and take whole messages out.
"""

from __future__ import annotations

import re

EOM = b"]]>]]>"
MAX_CHUNK = 4294967295  # RFC 6242 §4.2
_CHUNK_HEADER = re.compile(rb"\n#([1-9][0-9]{0,9})\n")
_END_OF_CHUNKS = b"\n##\n"


class FramingError(Exception):
    """The peer broke RFC 6242 framing; the session must be closed (RFC 6242 §4.2)."""


class EomFramer:
    """base:1.0 framing: each message ends with ``]]>]]>``."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[bytes]:
        self._buffer += data
        messages: list[bytes] = []
        while True:
            end = self._buffer.find(EOM)
            if end < 0:
                return messages
            messages.append(bytes(self._buffer[:end]))
            del self._buffer[: end + len(EOM)]

    @property
    def pending(self) -> bytes:
        """Bytes received after the last whole message (handed to the next framer on a switch)."""
        return bytes(self._buffer)

    @staticmethod
    def encode(message: bytes) -> bytes:
        return message + EOM


class ChunkedFramer:
    """base:1.1 framing: ``\\n#<len>\\n<data>`` chunks closed by ``\\n##\\n``."""

    def __init__(self, initial: bytes = b"") -> None:
        self._buffer = bytearray(initial)
        self._message = bytearray()

    def feed(self, data: bytes) -> list[bytes]:
        self._buffer += data
        messages: list[bytes] = []
        while True:
            step = self._next()
            if step is None:
                return messages
            if step is True:
                messages.append(bytes(self._message))
                self._message.clear()

    def _next(self) -> bool | None:
        """Consume one chunk (False) or end-of-chunks (True); None when more bytes are needed."""
        if len(self._buffer) < 4:
            return None
        if self._buffer.startswith(_END_OF_CHUNKS):
            if not self._message:
                raise FramingError("end-of-chunks marker before any chunk")
            del self._buffer[:4]
            return True
        match = _CHUNK_HEADER.match(self._buffer)
        if match is None:
            header_complete = self._buffer.find(b"\n", 2) >= 0
            if header_complete or len(self._buffer) > 13 or not self._buffer.startswith(b"\n#"):
                raise FramingError(f"bad chunk header {bytes(self._buffer[:14])!r}")
            return None
        size = int(match.group(1))
        if size > MAX_CHUNK:
            raise FramingError("chunk too large")
        start = match.end()
        if len(self._buffer) < start + size:
            return None
        self._message += self._buffer[start : start + size]
        del self._buffer[: start + size]
        return False

    @staticmethod
    def encode(message: bytes) -> bytes:
        return b"\n#%d\n" % len(message) + message + _END_OF_CHUNKS
