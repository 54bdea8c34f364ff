"""SNMP v2c/v3 agents of the simulated devices (issue 10), served from each device's running datastore.

Entry point for the fleet::

    endpoint = await start_snmp_agent(device, host="127.0.0.1", port=0, credentials=creds)
    endpoint.port          # the bound UDP port
    endpoint.engine_id     # the device's SnmpEngineID (bytes)
    await endpoint.close()

``credentials`` is :class:`simulators.manifest.SnmpCredentials` (v2c ``community_ro`` and
``community_rw``; ``v3.user``, ``v3.auth_key``, ``v3.priv_key``: USM authPriv with HMAC-SHA-96 and
AES-128, RFC 3414/RFC 3826), re-exported here as :class:`SnmpCredentials`.
"""

from simulators.manifest import SnmpCredentials, SnmpV3User
from simulators.snmp.agent import DeviceAgent, SnmpEndpoint, start_snmp_agent

__all__ = ["DeviceAgent", "SnmpCredentials", "SnmpEndpoint", "SnmpV3User", "start_snmp_agent"]
