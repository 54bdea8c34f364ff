"""Header text as a person typed it (issue 14 item 10): X-User is UTF-8 or RFC 8187, stored NFC."""

from __future__ import annotations

import unicodedata

import pytest

from common.request_context import decode_header_text


def _as_asgi_reads(raw: bytes) -> str:
    """What Starlette's ``Headers.get`` returns for these bytes on the wire (ISO-8859-1)."""
    return raw.decode("latin-1")


@pytest.mark.parametrize(
    ("wire", "text"),
    [
        (b"alice", "alice"),
        ("jürgen".encode(), "jürgen"),  # plain UTF-8 bytes: what curl and browsers send
        ("Łukasz 李".encode(), "Łukasz 李"),
        (b"UTF-8''j%C3%BCrgen", "jürgen"),  # RFC 8187 ext-value
        (b"utf-8'de'j%c3%bcrgen", "jürgen"),
        ("jürgen".encode("latin-1"), "jürgen"),  # not UTF-8: ISO-8859-1 as RFC 9110 §5.5 reads it
        ("ju\u0308rgen".encode(), "jürgen"),  # decomposed: the same actor after NFC
        (b"UTF-8''bad%ZZ", "UTF-8''bad%ZZ"),  # not an ext-value: kept as sent
    ],
)
def test_header_text_is_decoded_as_typed(wire: bytes, text: str) -> None:
    decoded = decode_header_text(_as_asgi_reads(wire))
    assert decoded == text
    assert unicodedata.is_normalized("NFC", decoded)


@pytest.mark.parametrize("text", ["req-1", "李-42", "jürgen", "a\u0085b", "UTF-8''x", "tab\there"])
def test_encoded_header_text_is_ascii_and_reads_back_as_the_same_text(text: str) -> None:
    from common.request_context import encode_header_text

    encoded = encode_header_text(text)
    assert encoded.isascii() and encoded.isprintable()
    assert decode_header_text(encoded) == text


@pytest.mark.parametrize(("sent", "actor"), [(None, "anonymous"), (b"", "anonymous"), (b"UTF-8''", "anonymous")])
def test_caller_without_a_name_is_anonymous(sent: bytes | None, actor: str) -> None:
    from starlette.datastructures import Headers

    from server.middleware import caller_identity

    raw = [(b"x-user", sent)] if sent is not None else []
    assert caller_identity(Headers(raw=raw)) == actor
