"""Capabilities a device announces in its ``<hello>`` (RFC 6241 §8, RFC 6020 §5.6.4 module URIs)."""

from __future__ import annotations

from common.yang.model import modules
from simulators.profiles import Profile

BASE_1_0 = "urn:ietf:params:netconf:base:1.0"
BASE_1_1 = "urn:ietf:params:netconf:base:1.1"
_CAP = "urn:ietf:params:netconf:capability:"


def server_capabilities(profile: Profile) -> list[str]:
    caps = [BASE_1_0, BASE_1_1]
    if profile.writable_running:
        caps.append(_CAP + "writable-running:1.0")
    if profile.candidate:
        caps.append(_CAP + "candidate:1.0")
    if profile.confirmed_commit:
        caps += [_CAP + "confirmed-commit:1.0", _CAP + "confirmed-commit:1.1"]
    if profile.rollback_on_error:
        caps.append(_CAP + "rollback-on-error:1.0")
    if profile.validate:
        caps += [_CAP + "validate:1.0", _CAP + "validate:1.1"]
    if profile.startup:
        caps.append(_CAP + "startup:1.0")
    return caps + module_capabilities()


def module_capabilities() -> list[str]:
    """One URI per YANG module: ``namespace?module=name&revision=date[&features=a,b]``."""
    uris = []
    for mod in modules():
        uri = f"{mod.namespace}?module={mod.name}&revision={mod.revision}"
        if mod.features:
            uri += "&features=" + ",".join(mod.features)
        uris.append(uri)
    return uris
