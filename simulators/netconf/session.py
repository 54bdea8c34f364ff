"""One NETCONF session on an SSH ``netconf`` subsystem channel (RFC 6241 §8.1, RFC 6242).

The session sends its ``<hello>`` at once, reads the client's, switches to chunked framing when both
sides announce base:1.1, then answers ``<rpc>`` messages one at a time in arrival order.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import asyncssh
from lxml import etree

from simulators.faults import FaultKind
from simulators.netconf import commit as commit_ops
from simulators.netconf import ops_config
from simulators.netconf.capabilities import BASE_1_0, BASE_1_1, server_capabilities
from simulators.netconf.common import RpcContext, text_param
from simulators.netconf.errors import NC, NC_NS, RpcError, RpcErrors, invalid_value, missing_element
from simulators.netconf.framing import ChunkedFramer, EomFramer, FramingError

if TYPE_CHECKING:
    from simulators.device import Device

logger = logging.getLogger(__name__)

Handler = Callable[[RpcContext, etree._Element], Awaitable[etree._Element | None]]
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, remove_blank_text=True, huge_tree=False)


class NetconfSession(asyncssh.SSHServerSession[bytes]):
    """The asyncssh session object of one ``netconf`` subsystem channel."""

    def __init__(self, device: Device, on_end: Callable[[NetconfSession], None]) -> None:
        self.device = device
        self.session_id = device.new_session_id()
        self._on_end = on_end
        self._chan: asyncssh.SSHServerChannel[bytes] | None = None
        self._framer: EomFramer | ChunkedFramer = EomFramer()
        self._chunked = False
        self._hello_done = False
        self._queue: asyncio.Queue[bytes | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._ended = False

    # --- asyncssh callbacks --------------------------------------------------------------------------

    def connection_made(self, chan: asyncssh.SSHServerChannel[bytes]) -> None:
        self._chan = chan

    def subsystem_requested(self, subsystem: str) -> bool:
        return subsystem == "netconf"

    def session_started(self) -> None:
        self.device.sessions[self.session_id] = self
        self._write(self._hello())
        self._task = asyncio.get_running_loop().create_task(self._serve())

    def data_received(self, data: bytes, datatype: asyncssh.DataType) -> None:
        try:
            for message in self._framer.feed(data):
                self._take(message)
        except FramingError as exc:
            logger.info("%s session %d: framing error: %s", self.device.name, self.session_id, exc)
            self.abort()

    def eof_received(self) -> bool:
        self._queue.put_nowait(None)
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self._queue.put_nowait(None)
        self._end()

    # --- session ---------------------------------------------------------------------------------------

    def abort(self) -> None:
        """Drop the session and its SSH connection at once, as a rebooting or failing device does."""
        if self._chan is not None:
            self._chan.get_connection().abort()
        self._end()

    def _end(self) -> None:
        if self._ended:
            return
        self._ended = True
        if self.device.sessions.get(self.session_id) is self:
            del self.device.sessions[self.session_id]
        commit_ops.session_ended(self.device, self.session_id)
        if self._task is not None and self._task is not asyncio.current_task():
            self._task.cancel()
        self._on_end(self)

    def _take(self, message: bytes) -> None:
        if not self._hello_done:
            self._client_hello(message)
        else:
            self._queue.put_nowait(message)

    def _hello(self) -> bytes:
        hello = etree.Element(NC + "hello", nsmap={None: NC_NS})
        caps = etree.SubElement(hello, NC + "capabilities")
        for uri in server_capabilities(self.device.profile):
            etree.SubElement(caps, NC + "capability").text = uri
        etree.SubElement(hello, NC + "session-id").text = str(self.session_id)
        return bytes(etree.tostring(hello, xml_declaration=True, encoding="UTF-8"))

    def _client_hello(self, message: bytes) -> None:
        """RFC 6241 §8.1: a client hello with a session-id, or without a common base, ends the session."""
        try:
            hello = etree.fromstring(message, _PARSER)
        except etree.XMLSyntaxError:
            self.abort()
            return
        caps = {(c.text or "").strip() for c in hello.iter(NC + "capability")}
        if etree.QName(hello).localname != "hello" or hello.find(NC + "session-id") is not None:
            self.abort()
            return
        if BASE_1_1 in caps and isinstance(self._framer, EomFramer):
            self._chunked = True
            self._framer = ChunkedFramer(self._framer.pending)
        elif BASE_1_0 not in caps:
            self.abort()
            return
        self._hello_done = True
        leftover = self._framer.feed(b"") if self._chunked else []
        for extra in leftover:
            self._queue.put_nowait(extra)

    def _write(self, message: bytes) -> None:
        if self._chan is None or self._ended:
            return
        framed = ChunkedFramer.encode(message) if self._chunked else EomFramer.encode(message)
        self._chan.write(framed)

    async def _serve(self) -> None:
        while True:
            message = await self._queue.get()
            if message is None:
                return
            reply, ctx = await self._handle(message)
            if ctx is not None and ctx.drop_without_reply:
                logger.info("%s session %d dropped mid-commit (fault)", self.device.name, self.session_id)
                self.abort()
                return
            slow = self.device.faults.active(FaultKind.SLOW_REPLY)
            if slow is not None:
                await asyncio.sleep(slow.delay_s)
            self._write(reply)
            if ctx is not None and ctx.close_after_reply:
                if self._chan is not None:
                    self._chan.close()
                self._end()
                return

    async def _handle(self, message: bytes) -> tuple[bytes, RpcContext | None]:
        logger.debug("%s session %d <- %s", self.device.name, self.session_id, message[:2000])
        try:
            rpc = etree.fromstring(message, _PARSER)
        except etree.XMLSyntaxError as exc:
            error = RpcError("malformed-message", f"not well-formed XML: {exc}", type="rpc")
            return _reply({}, errors=[error]), None
        attrs = dict(rpc.attrib)
        if rpc.tag != NC + "rpc":
            error = RpcError("unknown-element", "expected <rpc>", type="rpc", info=[("bad-element", rpc.tag)])
            return _reply(attrs, errors=[error]), None
        if "message-id" not in attrs:
            error = RpcError(
                "missing-attribute",
                "rpc needs a message-id",
                type="rpc",
                info=[("bad-attribute", "message-id"), ("bad-element", "rpc")],
            )
            return _reply(attrs, errors=[error]), None
        ctx = RpcContext(self.device, self.session_id)
        try:
            data = await self._dispatch(ctx, rpc)
        except RpcErrors as exc:
            return _reply(attrs, errors=exc.errors), ctx
        except RpcError as exc:
            return _reply(attrs, errors=[exc]), ctx
        except Exception:  # a bug must answer an rpc-error, not kill the session silently
            logger.exception("%s: rpc failed", self.device.name)
            return _reply(attrs, errors=[RpcError("operation-failed", "internal error")]), ctx
        return _reply(attrs, data=data), ctx

    async def _dispatch(self, ctx: RpcContext, rpc: etree._Element) -> etree._Element | None:
        ops = [c for c in rpc if isinstance(c.tag, str)]
        if len(ops) != 1:
            raise missing_element("operation", "an rpc carries exactly one operation")
        op = ops[0]
        qname = etree.QName(op)
        handler = HANDLERS.get(qname.localname) if qname.namespace == NC_NS else None
        if handler is None:
            raise RpcError(
                "operation-not-supported",
                f"operation {qname.localname} is not supported",
                type="protocol",
                info=[("bad-element", qname.localname)],
            )
        return await handler(ctx, op)


def _reply(attrs: dict[str, str], *, data: etree._Element | None = None, errors: list[RpcError] | None = None) -> bytes:
    reply = etree.Element(NC + "rpc-reply", nsmap={None: NC_NS})
    for name, value in attrs.items():
        reply.set(name, value)
    if errors:
        for error in errors:
            error.to_xml(reply)
    elif data is not None:
        reply.append(data)
    else:
        etree.SubElement(reply, NC + "ok")
    return bytes(etree.tostring(reply, xml_declaration=True, encoding="UTF-8"))


async def close_session(ctx: RpcContext, op: etree._Element) -> None:
    """RFC 6241 §7.8."""
    ctx.close_after_reply = True


async def kill_session(ctx: RpcContext, op: etree._Element) -> None:
    """RFC 6241 §7.9: end another session; its locks go and its non-persisted confirmed commit rolls back."""
    text = text_param(op, "session-id")
    if text is None:
        raise missing_element("session-id")
    if not text.isdigit():
        raise invalid_value(f"session-id {text!r} is not a number")
    target = int(text)
    if target == ctx.session_id:
        raise invalid_value("a session cannot kill itself; use close-session")
    session = ctx.device.sessions.get(target)
    if session is None:
        raise invalid_value(f"no session {target}")
    session.abort()
    commit_ops.session_ended(ctx.device, target)


HANDLERS: dict[str, Handler] = {
    "get": ops_config.get,
    "get-config": ops_config.get_config,
    "edit-config": ops_config.edit_config,
    "copy-config": ops_config.copy_config,
    "delete-config": ops_config.delete_config,
    "lock": ops_config.lock,
    "unlock": ops_config.unlock,
    "validate": ops_config.validate,
    "discard-changes": ops_config.discard_changes,
    "commit": commit_ops.commit,
    "cancel-commit": commit_ops.cancel_commit,
    "close-session": close_session,
    "kill-session": kill_session,
}
