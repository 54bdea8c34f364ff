"""The YANG data model shared by every simulated device.

The modules are the real ones: ietf-interfaces (RFC 8343), ietf-ip (RFC 8344), iana-if-type,
ietf-routing and ietf-ipv4-unicast-routing (RFC 8349), ietf-system (RFC 7317; no feature enabled),
as shipped by pyang's wheel under ``<venv>/share/yang/modules``, plus our own ``provisio-vlan`` next
to this file. yangson compiles them once per process from a YANG library document (RFC 7895
``modules-state``) that we build from the module files themselves, so the revisions always match what is on disk.

Loading takes a second and the compiled schema is a few MiB, so it is shared by all devices.
"""

from __future__ import annotations

import functools
import logging
import re
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from yangson import DataModel

logger = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent

#: module name -> features we enable. ``if-mib`` links interfaces to IF-MIB ifIndex (RFC 8343 §5).
IMPLEMENTED_MODULES: dict[str, tuple[str, ...]] = {
    "ietf-interfaces": ("if-mib",),
    "ietf-ip": (),
    "iana-if-type": (),
    "ietf-routing": (),
    "ietf-ipv4-unicast-routing": (),
    "provisio-vlan": (),
    # /system/contact, hostname and location: what SNMPv2-MIB sysContact, sysName and sysLocation show.
    "ietf-system": (),
}
IMPORTED_MODULES: tuple[str, ...] = ("ietf-yang-types", "ietf-inet-types", "ietf-netconf-acm", "iana-crypt-hash")

_REVISION = re.compile(r"^\s*revision\s+\"?(\d{4}-\d{2}-\d{2})", re.MULTILINE)
_NAMESPACE = re.compile(r"^\s*namespace\s+\"([^\"]+)\"", re.MULTILINE)
_PREFIX = re.compile(r"^\s*prefix\s+\"?([\w.-]+)\"?\s*;", re.MULTILINE)


@dataclass(frozen=True)
class ModuleInfo:
    """What the NETCONF hello and the XML codec need to know about one module."""

    name: str
    revision: str
    namespace: str
    prefix: str
    features: tuple[str, ...]
    implemented: bool


def yang_search_path() -> list[str]:
    """Directories holding the YANG modules: ours first, then pyang's IETF and IANA modules."""
    candidates = [Path(sys.prefix) / "share" / "yang" / "modules", Path(sysconfig.get_path("data"))]
    dirs = [str(HERE)]
    for base in candidates:
        for sub in ("ietf", "iana", ""):
            path = base / sub if sub else base
            if (path.is_dir() and any(path.glob("ietf-interfaces*.yang"))) or (path / "iana-if-type.yang").is_file():
                dirs.append(str(path))
    return list(dict.fromkeys(dirs))


def _find_module_file(name: str, search_path: list[str]) -> Path:
    for directory in search_path:
        for candidate in sorted(Path(directory).glob(f"{name}.yang")) + sorted(Path(directory).glob(f"{name}@*.yang")):
            return candidate
    raise FileNotFoundError(f"YANG module {name} not found in {search_path}")


def _module_info(name: str, search_path: list[str], features: tuple[str, ...], implemented: bool) -> ModuleInfo:
    text = _find_module_file(name, search_path).read_text(encoding="utf-8")
    revision = _REVISION.search(text)
    namespace = _NAMESPACE.search(text)
    prefix = _PREFIX.search(text)
    if not (revision and namespace and prefix):
        raise ValueError(f"YANG module {name}: no revision/namespace/prefix found")
    return ModuleInfo(name, revision.group(1), namespace.group(1), prefix.group(1), features, implemented)


@functools.cache
def modules() -> tuple[ModuleInfo, ...]:
    """All modules of the data model, implemented ones first."""
    path = yang_search_path()
    implemented = [_module_info(n, path, f, True) for n, f in IMPLEMENTED_MODULES.items()]
    imported = [_module_info(n, path, (), False) for n in IMPORTED_MODULES]
    return tuple(implemented + imported)


def yang_library() -> dict[str, Any]:
    """The RFC 7895 ``ietf-yang-library:modules-state`` document yangson loads the model from."""
    entries = []
    for mod in modules():
        entry: dict[str, Any] = {
            "name": mod.name,
            "revision": mod.revision,
            "namespace": mod.namespace,
            "conformance-type": "implement" if mod.implemented else "import",
        }
        if mod.features:
            entry["feature"] = list(mod.features)
        entries.append(entry)
    return {"ietf-yang-library:modules-state": {"module-set-id": "provisio-sim", "module": entries}}


@functools.cache
def data_model() -> DataModel:
    """The compiled data model, loaded once per process and shared by all devices."""
    import json

    dm = DataModel(json.dumps(yang_library()), yang_search_path())
    logger.info("YANG data model loaded: %s", ", ".join(m.name for m in modules() if m.implemented))
    return dm


@functools.cache
def module_by_namespace() -> dict[str, ModuleInfo]:
    """XML namespace -> module, for decoding NETCONF XML."""
    return {m.namespace: m for m in modules()}


@functools.cache
def module_by_name() -> dict[str, ModuleInfo]:
    """Module name -> module, for encoding NETCONF XML."""
    return {m.name: m for m in modules()}
