"""Device profiles: which protocols and NETCONF capabilities a simulated device offers.

Each profile gives every driver path a device to run against (issue 10):

- ``pe-router``: a provider-edge router in the style of ConfD/Junos: candidate datastore,
  ``:confirmed-commit:1.1``, ``:validate:1.1`` and ``:startup`` (RFC 6241 §8.3, §8.4, §8.6, §8.7), plus SNMP.
- ``cpe``: a customer-premises box: ``:writable-running`` with ``:rollback-on-error`` (RFC 6241 §8.2, §8.5),
  no candidate, plus SNMP.
- ``legacy-switch``: SNMP only.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Profile:
    """What one kind of device offers. Frozen: profiles are shared by every device of the kind."""

    name: str
    netconf: bool
    snmp: bool
    candidate: bool
    confirmed_commit: bool
    validate: bool
    startup: bool
    writable_running: bool
    rollback_on_error: bool
    interfaces: tuple[str, ...]


PE_ROUTER = Profile(
    name="pe-router",
    netconf=True,
    snmp=True,
    candidate=True,
    confirmed_commit=True,
    validate=True,
    startup=True,
    writable_running=False,
    rollback_on_error=True,
    interfaces=("ge-0/0/0", "ge-0/0/1", "ge-0/0/2", "ge-0/0/3", "xe-0/1/0", "xe-0/1/1"),
)

CPE = Profile(
    name="cpe",
    netconf=True,
    snmp=True,
    candidate=False,
    confirmed_commit=False,
    validate=True,
    startup=False,
    writable_running=True,
    rollback_on_error=True,
    interfaces=("wan0", "lan0", "lan1", "lan2", "lan3"),
)

LEGACY_SWITCH = Profile(
    name="legacy-switch",
    netconf=False,
    snmp=True,
    candidate=False,
    confirmed_commit=False,
    validate=False,
    startup=False,
    writable_running=False,
    rollback_on_error=False,
    interfaces=tuple(f"Gi1/0/{n}" for n in range(1, 9)),
)

PROFILES: dict[str, Profile] = {p.name: p for p in (PE_ROUTER, CPE, LEGACY_SWITCH)}
