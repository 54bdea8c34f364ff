"""The command responder of one simulated device (RFC 3413 §3.2) on its own UDP socket.

Message processing is RFC 3412 (SNMPv3) and RFC 3416/1901 (SNMPv2c), security is RFC 3414 (USM) and
community strings; pysnmp supplies the ASN.1 of messages and PDUs (``pysnmp.proto``), not its
``SnmpEngine`` (see the package docstring for why). Access control is that of a typical router
configuration (net-snmp's ``rocommunity``/``rwcommunity``/``rwuser ... priv``):

- the read-only community reads everything and may write nothing: a SET answers ``noAccess``;
- the read-write community reads and writes;
- the v3 user reads and writes at authPriv only; a lower security level answers ``authorizationError``;
- an unknown community gets no answer at all (RFC 3584 §5.2.1: snmpInBadCommunityNames counts it).
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Protocol, cast

from pyasn1.codec.ber import decoder, encoder
from pyasn1.error import PyAsn1Error
from pyasn1.type import univ
from pysnmp.proto import api, rfc1902, rfc1905
from pysnmp.proto.api import v2c
from pysnmp.proto.mpmod.rfc3412 import ScopedPDU, SNMPv3Message
from pysnmp.proto.secmod.rfc3414.service import UsmSecurityParameters

from common.yang.validate import ValidationFailed
from simulators.faults import FaultKind
from simulators.snmp import mib, setops, usm

logger = logging.getLogger(__name__)

MAX_MESSAGE_SIZE = 65507  # largest UDP payload over IPv4; our snmpEngineMaxMessageSize
MAX_BULK_VARBINDS = 512
TIME_WINDOW = 150  # seconds, RFC 3414 §3.2 step 7
_FLAG_AUTH, _FLAG_PRIV, _FLAG_REPORTABLE = 0x01, 0x02, 0x04
_NO_AUTH_NO_PRIV, _AUTH_NO_PRIV, _AUTH_PRIV = 1, 2, 3

# Counters sent in Report-PDUs (RFC 3414 §5, RFC 3413 §4.1.2 snmpUnknownContexts).
USM_STATS_NOT_IN_TIME_WINDOWS = (1, 3, 6, 1, 6, 3, 15, 1, 1, 2, 0)
USM_STATS_UNKNOWN_USER_NAMES = (1, 3, 6, 1, 6, 3, 15, 1, 1, 3, 0)
USM_STATS_UNKNOWN_ENGINE_IDS = (1, 3, 6, 1, 6, 3, 15, 1, 1, 4, 0)
USM_STATS_WRONG_DIGESTS = (1, 3, 6, 1, 6, 3, 15, 1, 1, 5, 0)
USM_STATS_DECRYPTION_ERRORS = (1, 3, 6, 1, 6, 3, 15, 1, 1, 6, 0)
SNMP_UNKNOWN_CONTEXTS = (1, 3, 6, 1, 6, 3, 12, 1, 5, 0)

_GET = rfc1905.GetRequestPDU.tagSet
_NEXT = rfc1905.GetNextRequestPDU.tagSet
_BULK = rfc1905.GetBulkRequestPDU.tagSet
_SET = rfc1905.SetRequestPDU.tagSet


class V3User(Protocol):
    @property
    def user(self) -> str: ...
    @property
    def auth_key(self) -> str: ...
    @property
    def priv_key(self) -> str: ...


class Credentials(Protocol):
    """What the agent needs to know: ``simulators.manifest.SnmpCredentials`` has this shape."""

    @property
    def community_ro(self) -> str: ...
    @property
    def community_rw(self) -> str: ...
    @property
    def v3(self) -> V3User: ...


class _Drop(Exception):
    """The message gets no answer (a real agent would silently discard it)."""


@dataclass
class _Request:
    """Decoded request PDU plus what the answer depends on."""

    pdu: Any
    may_write: bool
    max_size: int


@dataclass
class AgentState:
    """Per-device state of the agent that is not configuration: counters and createAndWait rows."""

    pending: dict[int, mib.PendingVlanRow] = field(default_factory=dict)
    counters: Counter[str] = field(default_factory=Counter)


class DeviceAgent:
    """Answers the SNMP messages sent to one device; transport-free so that tests and benchmarks can
    call :meth:`handle` with the bytes of a datagram."""

    def __init__(self, device: Any, credentials: Credentials, *, engine_boots: int | None = None) -> None:
        self.device = device
        self.credentials = credentials
        self.facts = mib.DeviceFacts(device.name, device.profile.name, time.monotonic())
        self.engine_id = usm.engine_id_for(device.name)
        # snmpEngineBoots must grow across restarts (RFC 3414 §2.2.2); we keep no state, so we use the
        # clock: seconds since 2024-01-01 lasts until 2092 below 2^31-1.
        self.engine_boots = engine_boots if engine_boots is not None else max(1, int(time.time()) - 1_704_067_200)
        self.state = AgentState()
        self._user: usm.LocalizedUser | None = None
        self._salt = usm.SaltCounter()

    # --- entry point ------------------------------------------------------------------------------

    def handle(self, datagram: bytes) -> bytes | None:
        """The answer to one datagram, or None when the agent stays silent."""
        if self.device.is_booting():
            return None  # a rebooting router has no agent yet: the request is lost, as on the wire
        try:
            version = _message_version(datagram)
            if version == api.SNMP_VERSION_2C:
                return self._handle_v2c(datagram)
            if version == 3:
                return self._handle_v3(datagram)
            self.state.counters["snmpInBadVersions"] += 1  # SNMPv1 is not offered (RFC 3584 §4.2)
            return None
        except _Drop:
            return None
        except (PyAsn1Error, ValueError, TypeError) as error:
            self.state.counters["snmpInASNParseErrs"] += 1
            logger.debug("%s: undecodable SNMP message: %s", self.device.name, error)
            return None

    def engine_time(self) -> int:
        return int(time.monotonic() - self.facts.started)

    # --- SNMPv2c (RFC 1901, RFC 3584 §5.2) -------------------------------------------------------

    def _handle_v2c(self, datagram: bytes) -> bytes | None:
        message, _ = decoder.decode(datagram, asn1Spec=v2c.Message())
        community = bytes(v2c.apiMessage.get_community(message))
        if community == self.credentials.community_rw.encode():
            may_write = True
        elif community == self.credentials.community_ro.encode():
            may_write = False
        else:
            self.state.counters["snmpInBadCommunityNames"] += 1
            return None
        request = _Request(v2c.apiMessage.get_pdu(message), may_write, MAX_MESSAGE_SIZE)
        response_pdu = self._respond(request)
        if response_pdu is None:
            return None
        response = v2c.apiMessage.get_response(message)
        v2c.apiMessage.set_pdu(response, response_pdu)
        return bytes(encoder.encode(response))

    # --- SNMPv3 (RFC 3412 §7.2, RFC 3414 §3.2) ---------------------------------------------------

    def user(self) -> usm.LocalizedUser:
        if self._user is None:
            v3 = self.credentials.v3
            self._user = usm.LocalizedUser.derive(v3.user, v3.auth_key, v3.priv_key, self.engine_id)
        return self._user

    def _handle_v3(self, datagram: bytes) -> bytes | None:
        message, _ = decoder.decode(datagram, asn1Spec=SNMPv3Message())
        header = message["msgGlobalData"]
        msg_id = int(header["msgID"])
        max_size = min(int(header["msgMaxSize"]), MAX_MESSAGE_SIZE)
        flags = bytes(header["msgFlags"])[0] if len(header["msgFlags"]) else 0
        if int(header["msgSecurityModel"]) != 3 or max_size < 484 or (flags & 3) == _FLAG_PRIV:
            self.state.counters["snmpInvalidMsgs"] += 1
            return None
        reportable = bool(flags & _FLAG_REPORTABLE)
        raw_params = bytes(message["msgSecurityParameters"])
        params, _ = decoder.decode(raw_params, asn1Spec=UsmSecurityParameters())
        user_name = bytes(params["msgUserName"])
        data = message["msgData"]
        plaintext = data.getName() == "plaintext"
        request_id = int(data["plaintext"]["data"].getComponent()["request-id"]) if plaintext else 0
        reply = _Reply(self, msg_id, max_size, user_name, request_id, reportable)

        # 3.2.3: unknown (or empty, for discovery) engine ID -> report our engine ID, boots and time.
        if bytes(params["msgAuthoritativeEngineId"]) != self.engine_id:
            return reply.report("usmStatsUnknownEngineIDs", USM_STATS_UNKNOWN_ENGINE_IDS)
        # 3.2.4: unknown user.
        if user_name != self.credentials.v3.user.encode():
            return reply.report("usmStatsUnknownUserNames", USM_STATS_UNKNOWN_USER_NAMES)
        user = self.user()
        level, scoped = _NO_AUTH_NO_PRIV, None
        if flags & _FLAG_AUTH:
            # 3.2.6: the digest is computed with msgAuthenticationParameters zeroed.
            digest = bytes(params["msgAuthenticationParameters"])
            if len(digest) != usm.DIGEST_LENGTH or user.digest(_zero_digest(datagram, raw_params)) != digest:
                return reply.report("usmStatsWrongDigests", USM_STATS_WRONG_DIGESTS)
            # 3.2.7: timeliness; the report is authenticated so that the manager can trust the clock.
            boots = int(params["msgAuthoritativeEngineBoots"])
            engine_time = int(params["msgAuthoritativeEngineTime"])
            if boots != self.engine_boots or abs(engine_time - self.engine_time()) > TIME_WINDOW:
                return reply.report("usmStatsNotInTimeWindows", USM_STATS_NOT_IN_TIME_WINDOWS, _AUTH_NO_PRIV)
            level = _AUTH_NO_PRIV
            if flags & _FLAG_PRIV:
                if plaintext:
                    raise _Drop
                salt = bytes(params["msgPrivacyParameters"])
                try:
                    clear = usm.decrypt(user, boots, engine_time, salt, bytes(data["encryptedPDU"]))
                    scoped, _ = decoder.decode(clear, asn1Spec=ScopedPDU())
                except (ValueError, PyAsn1Error):
                    return reply.report("usmStatsDecryptionErrors", USM_STATS_DECRYPTION_ERRORS)
                level = _AUTH_PRIV
        if scoped is None:
            if not plaintext:
                raise _Drop
            scoped = data["plaintext"]
        reply.level = level
        pdu = scoped["data"].getComponent()
        reply.request_id = int(pdu["request-id"])
        if bytes(scoped["contextName"]):
            return reply.report("snmpUnknownContexts", SNMP_UNKNOWN_CONTEXTS)
        if level != _AUTH_PRIV:
            # The user is configured for authPriv only (VACM, RFC 3415): lower levels are not authorised.
            response_pdu = v2c.apiPDU.get_response(pdu)
            v2c.apiPDU.set_error_status(response_pdu, "authorizationError")
            v2c.apiPDU.set_error_index(response_pdu, 0)
            v2c.apiPDU.set_varbinds(response_pdu, v2c.apiPDU.get_varbinds(pdu))
            return reply.scoped(response_pdu)
        response_pdu = self._respond(_Request(pdu, True, max_size))
        return None if response_pdu is None else reply.scoped(response_pdu)

    # --- PDU processing (RFC 3416 §4.2) ----------------------------------------------------------

    def _respond(self, request: _Request) -> Any:
        pdu = request.pdu
        tag = pdu.tagSet
        if tag not in (_GET, _NEXT, _BULK, _SET):
            return None  # responses, traps and reports are not requests to an agent
        if self.device.faults.active(FaultKind.SNMP_TIMEOUT) is not None:
            logger.debug("%s: fault snmp-timeout: request dropped", self.device.name)
            return None
        response = v2c.apiPDU.get_response(pdu)
        varbinds = [(tuple(oid), value) for oid, value in v2c.apiPDU.get_varbinds(pdu)]
        if tag == _SET:
            status, index = self._set(varbinds, request.may_write)
            v2c.apiPDU.set_error_status(response, status)
            v2c.apiPDU.set_error_index(response, index)
            v2c.apiPDU.set_varbinds(response, v2c.apiPDU.get_varbinds(pdu))
            return response
        view = self._view()
        if tag == _GET:
            result = [(oid, _lookup(view, oid)) for oid, _ in varbinds]
        elif tag == _NEXT:
            result = [_next(view, oid) for oid, _ in varbinds]
        else:
            result = _bulk(
                view, varbinds, int(v2c.apiBulkPDU.get_non_repeaters(pdu)), int(v2c.apiBulkPDU.get_max_repetitions(pdu))
            )
        budget = request.max_size - 100  # header, community or USM parameters
        if tag == _BULK:
            result = _trim(result, budget)
        elif _size(result) > budget:
            v2c.apiPDU.set_error_status(response, "tooBig")  # RFC 3416 §4.2.1: empty varbinds
            v2c.apiPDU.set_error_index(response, 0)
            return response
        v2c.apiPDU.set_varbinds(response, [(rfc1902.ObjectName(oid), value) for oid, value in result])
        return response

    def _view(self) -> mib.MibView:
        self._expire_pending()
        # Read running itself, not a deep copy: build_view only reads it, and nothing else runs meanwhile.
        running = getattr(self.device, "running", None)
        if not isinstance(running, dict):
            running = self.device.get("running")
        return mib.build_view(self.facts, running, self.device.if_index, self.state.pending)

    def _expire_pending(self) -> None:
        # RFC 2579: a row left notInService may be deleted by the agent after a while (5 minutes suggested).
        now = time.monotonic()
        for vlan_id, row in list(self.state.pending.items()):
            if now - row.created > 300:
                del self.state.pending[vlan_id]

    def _set(self, varbinds: list[tuple[mib.OID, Any]], may_write: bool) -> tuple[str, int]:
        if not varbinds:
            return "noError", 0
        if not may_write:
            return "noAccess", 1  # RFC 3416 §4.2.5 step 1: nothing is in this community's write view
        self._expire_pending()
        running = self.device.get("running")
        try:
            plan = setops.plan_set(running, varbinds, self.device.if_index, self.state.pending)
        except setops.SetError as error:
            return error.status, error.index
        if plan.changed:
            try:
                self.device.set_running_out_of_band(plan.running, origin="snmp")
            except ValidationFailed as error:
                logger.info("%s: SNMP SET refused by YANG validation: %s", self.device.name, error)
                return "inconsistentValue", plan.index_for(error.error_path)
        self.state.pending = plan.pending
        return "noError", 0


def _message_version(datagram: bytes) -> int:
    """msgVersion without a full decode: SEQUENCE header, then a one-octet INTEGER (RFC 3412 §6)."""
    if len(datagram) < 5 or datagram[0] != 0x30:
        raise ValueError("not an SNMP message")
    length_octets = datagram[1] - 0x80 if datagram[1] & 0x80 else 0
    start = 2 + length_octets
    if datagram[start : start + 2] != b"\x02\x01":
        return int(api.decodeMessageVersion(datagram))  # unusual encoding: let pyasn1 decide
    return datagram[start + 2]


class _Reply:
    """Builds SNMPv3 answers to one request: Report-PDUs and scoped responses."""

    def __init__(
        self, agent: DeviceAgent, msg_id: int, max_size: int, user: bytes, request_id: int, reportable: bool
    ) -> None:
        self.agent, self.msg_id, self.max_size, self.user = agent, msg_id, max_size, user
        self.request_id, self.reportable, self.level = request_id, reportable, _NO_AUTH_NO_PRIV

    def report(self, counter: str, oid: mib.OID, level: int = _NO_AUTH_NO_PRIV) -> bytes | None:
        """A Report-PDU with the counter that explains the refusal (RFC 3412 §7.1.3 a)."""
        self.agent.state.counters[counter] += 1
        if not self.reportable:
            return None
        pdu = rfc1905.ReportPDU()
        v2c.apiPDU.set_defaults(pdu)
        v2c.apiPDU.set_request_id(pdu, self.request_id)
        value = rfc1902.Counter32(self.agent.state.counters[counter] & 0xFFFFFFFF)
        v2c.apiPDU.set_varbinds(pdu, [(rfc1902.ObjectName(oid), value)])
        self.level = level
        return self.scoped(pdu)

    def scoped(self, pdu: Any) -> bytes:
        agent = self.agent
        scoped = ScopedPDU()
        scoped["contextEngineId"] = agent.engine_id
        scoped["contextName"] = b""
        scoped["data"].setComponentByType(pdu.tagSet, pdu, verifyConstraints=False, innerFlag=True)
        boots, engine_time = agent.engine_boots, agent.engine_time()
        params = UsmSecurityParameters()
        params["msgAuthoritativeEngineId"] = agent.engine_id
        params["msgAuthoritativeEngineBoots"] = boots
        params["msgAuthoritativeEngineTime"] = engine_time
        params["msgUserName"] = self.user
        params["msgAuthenticationParameters"] = b"\x00" * usm.DIGEST_LENGTH if self.level > 1 else b""
        message = SNMPv3Message()
        message["msgVersion"] = 3
        header = message["msgGlobalData"]
        header["msgID"] = self.msg_id
        header["msgMaxSize"] = MAX_MESSAGE_SIZE
        header["msgFlags"] = bytes([{1: 0, 2: _FLAG_AUTH, 3: _FLAG_AUTH | _FLAG_PRIV}[self.level]])
        header["msgSecurityModel"] = 3
        if self.level == _AUTH_PRIV:
            salt = agent._salt.next()
            params["msgPrivacyParameters"] = salt
            encrypted = usm.encrypt(agent.user(), boots, engine_time, salt, encoder.encode(scoped))
            message["msgData"]["encryptedPDU"] = encrypted
        else:
            params["msgPrivacyParameters"] = b""
            message["msgData"]["plaintext"] = scoped
        raw_params = encoder.encode(params)
        message["msgSecurityParameters"] = raw_params
        whole = bytes(encoder.encode(message))
        if self.level == _NO_AUTH_NO_PRIV:
            return whole
        position = _digest_position(whole, raw_params, b"\x00" * usm.DIGEST_LENGTH)
        digest = agent.user().digest(whole)
        return whole[:position] + digest + whole[position + usm.DIGEST_LENGTH :]


def _digest_position(whole: bytes, raw_params: bytes, digest: bytes) -> int:
    """Where msgAuthenticationParameters sits in the message: inside the encoded USM parameters, the
    last OCTET STRING of 12 octets holding ``digest`` (privacy parameters come after it and are 8 long)."""
    start = whole.find(raw_params)
    inner = raw_params.rfind(b"\x04\x0c" + digest)
    if start < 0 or inner < 0:
        raise ValueError("msgAuthenticationParameters not found")
    return start + inner + 2


def _zero_digest(whole: bytes, raw_params: bytes) -> bytes:
    params, _ = decoder.decode(raw_params, asn1Spec=UsmSecurityParameters())
    position = _digest_position(whole, raw_params, bytes(params["msgAuthenticationParameters"]))
    return whole[:position] + b"\x00" * usm.DIGEST_LENGTH + whole[position + usm.DIGEST_LENGTH :]


# --- read operations ------------------------------------------------------------------------------


def _value(view: mib.MibView, oid: mib.OID) -> Any:
    found = view.get(oid)
    return None if found is None else mib.to_asn1(*found)


def _lookup(view: mib.MibView, oid: mib.OID) -> Any:
    value = _value(view, oid)
    if value is not None:
        return value
    return rfc1905.noSuchInstance if mib.is_known_object(oid) else rfc1905.noSuchObject


def _next(view: mib.MibView, oid: mib.OID) -> tuple[mib.OID, Any]:
    following = view.next_after(oid)
    if following is None:
        return oid, rfc1905.endOfMibView
    return following, _value(view, following)


def _bulk(
    view: mib.MibView, varbinds: list[tuple[mib.OID, Any]], non_repeaters: int, max_repetitions: int
) -> list[tuple[mib.OID, Any]]:
    """GetBulkRequest-PDU (RFC 3416 §4.2.3), stopping early once every repeater is past the end."""
    n = min(max(non_repeaters, 0), len(varbinds))
    repeaters = [oid for oid, _ in varbinds[n:]]
    result = [_next(view, oid) for oid, _ in varbinds[:n]]
    if not repeaters:
        return result
    repetitions = min(max(max_repetitions, 0), max(1, (MAX_BULK_VARBINDS - n) // len(repeaters)))
    for _ in range(repetitions):
        row = [_next(view, oid) for oid in repeaters]
        result.extend(row)
        if all(value is rfc1905.endOfMibView for _, value in row):
            break
        repeaters = [oid for oid, _ in row]
    return result


def _size(varbinds: list[tuple[mib.OID, Any]]) -> int:
    """An upper bound of the BER size of varbinds (tag, length, sub-identifiers up to 5 octets each)."""
    total = 0
    for oid, value in varbinds:
        total += 8 + 5 * len(oid) + (len(value) if isinstance(value, univ.OctetString) else 12)
    return total


def _trim(varbinds: list[tuple[mib.OID, Any]], budget: int) -> list[tuple[mib.OID, Any]]:
    """GETBULK answers as many varbinds as fit (RFC 3416 §4.2.3: the response may be shortened)."""
    total = 0
    for count, (oid, value) in enumerate(varbinds):
        total += _size([(oid, value)])
        if total > budget:
            return varbinds[: max(count, 1)]
    return varbinds


# --- transport ------------------------------------------------------------------------------------


class _AgentProtocol(asyncio.DatagramProtocol):
    def __init__(self, agent: DeviceAgent) -> None:
        self.agent = agent
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        try:
            answer = self.agent.handle(data)
        except Exception:  # one bad datagram must never stop the agent
            logger.exception("%s: SNMP request from %s failed", self.agent.device.name, addr)
            return
        if answer is None:
            return
        # slow-reply is decided once per answer, as NETCONF decides it once per rpc-reply. The answer
        # is computed now (a SET is applied now) and leaves later, as from an agent slow to respond;
        # other requests are served meanwhile.
        slow = self.agent.device.faults.active(FaultKind.SLOW_REPLY)
        if slow is None:
            self._send(answer, addr)
        else:
            asyncio.get_running_loop().call_later(slow.delay_s, self._send, answer, addr)

    def _send(self, answer: bytes, addr: tuple[str, int]) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.sendto(answer, addr)


@dataclass
class SnmpEndpoint:
    """One device's running SNMP agent."""

    host: str
    port: int
    agent: DeviceAgent = field(repr=False)
    _transport: asyncio.DatagramTransport = field(repr=False)

    @property
    def engine_id(self) -> bytes:
        return self.agent.engine_id

    async def close(self) -> None:
        self._transport.close()
        await asyncio.sleep(0)  # let the loop run connection_lost


async def start_snmp_agent(
    device: Any,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    credentials: Credentials,
    engine_boots: int | None = None,
) -> SnmpEndpoint:
    """Serve ``device`` over SNMP v2c and v3 on ``host``:``port`` (0: an ephemeral port) until closed."""
    agent = DeviceAgent(device, credentials, engine_boots=engine_boots)
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.bind((host, port))  # bind here so that a busy port fails now, with the port in the message
    except OSError:
        sock.close()
        raise
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(lambda: _AgentProtocol(agent), sock=sock)
    bound_port = sock.getsockname()[1]
    logger.debug("%s: SNMP agent on %s:%d", device.name, host, bound_port)
    return SnmpEndpoint(host, bound_port, agent, transport)
