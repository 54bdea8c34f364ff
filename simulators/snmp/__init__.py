"""SNMP v2c/v3 agents of the simulated devices (issue 10), served from each device's running datastore.

Entry point for the fleet::

    endpoint = await start_snmp_agent(device, host="127.0.0.1", port=0, credentials=creds)
    endpoint.port          # the bound UDP port (the socket is bound before the call returns)
    endpoint.engine_id     # the device's SnmpEngineID (bytes), stable across restarts
    await endpoint.close()

``credentials`` is :class:`simulators.manifest.SnmpCredentials` (v2c ``community_ro`` and
``community_rw``; ``v3.user``, ``v3.auth_key``, ``v3.priv_key``: USM authPriv with HMAC-SHA-96 and
AES-128, RFC 3414/RFC 3826), re-exported here as :class:`SnmpCredentials`. Every device may have its own
communities and v3 keys. Faults (``device.faults``): ``snmp-timeout`` drops requests silently,
``slow-reply`` sends each answer ``delay_ms`` late, and while the device boots after a reboot every
request is dropped.

What is served and how writes work: :mod:`simulators.snmp.mib` (reads, computed from ``running`` at each
request), :mod:`simulators.snmp.setops` (SET: all varbinds checked, one ``set_running_out_of_band``).

Design decision, by measurement (this machine, 2 shared cores, pysnmp 7.1.30, Python 3.11)
----------------------------------------------------------------------------------------------
1. One pysnmp ``SnmpEngine`` per device (the textbook pysnmp agent): 260 ms and 1.26 MiB per device
   (the engine compiles and executes its MIB modules each time; ``add_vacm_user`` alone is ~45 ms).
   1,000 devices: ~4.5 minutes to start and ~1.3 GiB. Refused.
2. One shared ``SnmpEngine``, one UDP transport per device, dispatch by transport domain: 0.24 ms and
   3.3 KiB per device, but every device then shares one snmpEngineID and one USM user table, where a user
   name is unique: the fleet gives every device its own v3 keys for the same user ``provisio``, which one
   engine cannot hold, and ``add_v3_user`` costs ~48 ms per distinct user. Refused.
3. Chosen: our own command responder (RFC 3413 §3.2) on pysnmp's protocol layer (``pysnmp.proto``: the
   ASN.1 of SNMPv2c/SNMPv3 messages, PDUs, USM parameters), with USM done here (:mod:`.usm`: key
   localisation, HMAC-SHA-96, AES-CFB128 via ``cryptography``), one asyncio datagram endpoint per device.
   Measured: 1,000 agents start in 0.14 s and add 3.4 MiB RSS (3.5 KiB per device); each device is its own
   SNMP engine (own engine ID, boots, time, keys). The v3 keys (2 x 1 MiB of SHA-1) are derived on a
   device's first v3 message (~5 ms), not at start.

Not offered: SNMPv1 (dropped, counted as snmpInBadVersions), traps/informs, VACM tables, contexts other
than the default one (a Report with snmpUnknownContexts).
"""

from simulators.manifest import SnmpCredentials, SnmpV3User
from simulators.snmp.agent import DeviceAgent, SnmpEndpoint, start_snmp_agent

__all__ = ["DeviceAgent", "SnmpCredentials", "SnmpEndpoint", "SnmpV3User", "start_snmp_agent"]
