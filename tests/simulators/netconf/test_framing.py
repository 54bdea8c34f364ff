"""RFC 6242 framing: unit tests of the framers and raw SSH sessions for both framings."""

from __future__ import annotations

import asyncio
import re

import asyncssh
import pytest

from simulators.netconf.framing import ChunkedFramer, EomFramer, FramingError
from tests.simulators.netconf.conftest import PASSWORD, USER, Sim

HELLO_10 = (
    b'<hello xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"><capabilities>'
    b"<capability>urn:ietf:params:netconf:base:1.0</capability></capabilities></hello>]]>]]>"
)
HELLO_11 = HELLO_10.replace(b"base:1.0</capability>", b"base:1.1</capability>")
RPC = b'<rpc message-id="7" xmlns="urn:ietf:params:xml:ns:netconf:base:1.0" extra="kept"><get-config><source><running/></source></get-config></rpc>'  # noqa: E501 - XML literal


def test_eom_framer_splits_messages_across_reads() -> None:
    framer = EomFramer()
    assert framer.feed(b"<a/>]]>]") == []
    assert framer.feed(b"]><b/>]]>]]>") == [b"<a/>", b"<b/>"]


def test_chunked_framer_joins_chunks_and_handles_split_headers() -> None:
    framer = ChunkedFramer()
    data = b"\n#3\n<a/\n#1\n>\n##\n"
    out: list[bytes] = []
    for i in range(len(data)):
        out += framer.feed(data[i : i + 1])
    assert out == [b"<a/>"]


def test_chunked_framer_rejects_garbage() -> None:
    with pytest.raises(FramingError):
        ChunkedFramer().feed(b"\nxx not a chunk header\n")
    with pytest.raises(FramingError):
        ChunkedFramer().feed(b"\n#0\n")


def test_chunked_encode_roundtrip() -> None:
    assert ChunkedFramer().feed(ChunkedFramer.encode(b"<x/>")) == [b"<x/>"]


async def _raw_session(port: int, hello: bytes, payload: bytes, until: bytes) -> tuple[bytes, bytes]:
    async with asyncssh.connect(
        "127.0.0.1", port, username=USER, password=PASSWORD, known_hosts=None, client_keys=None
    ) as conn:
        writer, reader, _ = await conn.open_session(subsystem="netconf", encoding=None)
        server_hello = await reader.readuntil(b"]]>]]>")
        writer.write(hello + payload)
        reply = await asyncio.wait_for(reader.readuntil(until), 5)
        return server_hello, reply


def test_base10_client_gets_end_of_message_framing(pe: Sim) -> None:
    server_hello, reply = pe.lt.run(_raw_session(pe.port, HELLO_10, RPC + b"]]>]]>", b"]]>]]>"))
    assert b"urn:ietf:params:netconf:base:1.1" in server_hello and b"<session-id>" in server_hello
    assert reply.endswith(b"</rpc-reply>]]>]]>")
    assert b'message-id="7"' in reply and b'extra="kept"' in reply


def test_base11_client_gets_chunked_framing(pe: Sim) -> None:
    # the rpc is sent in two chunks to exercise reassembly on the server side
    half = len(RPC) // 2
    chunked = b"\n#%d\n" % half + RPC[:half] + b"\n#%d\n" % (len(RPC) - half) + RPC[half:] + b"\n##\n"
    _, reply = pe.lt.run(_raw_session(pe.port, HELLO_11, chunked, b"\n##\n"))
    match = re.match(rb"\n#(\d+)\n", reply)
    assert match is not None
    body = reply[match.end() : match.end() + int(match.group(1))]
    assert body.endswith(b"</rpc-reply>") and b"<data>" in body


def test_rpc_without_message_id_answers_missing_attribute(pe: Sim) -> None:
    rpc = b'<rpc xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"><get/></rpc>]]>]]>'
    _, reply = pe.lt.run(_raw_session(pe.port, HELLO_10, rpc, b"]]>]]>"))
    assert b"<error-tag>missing-attribute</error-tag>" in reply
    assert b"<bad-attribute>message-id</bad-attribute>" in reply


def test_malformed_xml_answers_malformed_message(pe: Sim) -> None:
    _, reply = pe.lt.run(_raw_session(pe.port, HELLO_10, b"<rpc message-id='1'><get>]]>]]>", b"]]>]]>"))
    assert b"<error-tag>malformed-message</error-tag>" in reply


def test_unknown_operation_answers_operation_not_supported(pe: Sim) -> None:
    rpc = b'<rpc message-id="3" xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"><reboot-now/></rpc>]]>]]>'
    _, reply = pe.lt.run(_raw_session(pe.port, HELLO_10, rpc, b"]]>]]>"))
    assert b"<error-tag>operation-not-supported</error-tag>" in reply


def test_client_hello_with_session_id_ends_session(pe: Sim) -> None:
    bad_hello = HELLO_10.replace(b"</hello>", b"<session-id>5</session-id></hello>")
    with pytest.raises((asyncssh.Error, asyncio.IncompleteReadError, ConnectionError)):
        pe.lt.run(_raw_session(pe.port, bad_hello, RPC + b"]]>]]>", b"]]>]]>"))
