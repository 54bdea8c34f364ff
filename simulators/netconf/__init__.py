"""NETCONF server of the simulated devices (RFC 6241 over SSH, RFC 6242)."""
