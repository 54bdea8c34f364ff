"""The ``--faults FILE`` format: which faults each device starts with.

YAML or JSON (JSON is YAML, so one parser reads both). The top level maps a device name, or a
shell-style glob (``cpe*``, ``*``), to a list of faults; an optional ``faults:`` key may wrap that
mapping. Each fault names its ``kind`` and its parameters, either inline or under ``params``::

    faults:
      "*":
        - {kind: slow-reply, delay_ms: 200, probability: 0.1}
      pe1:
        - kind: commit-rpc-error
          count: 2            # the first two commits fail, then the device behaves
      "cpe1?":
        - kind: refuse-connection
          params: {probability: 0.5}

Common parameters: ``delay_ms`` (>= 0; ``after_ms``, ``down_ms`` likewise, ``every_ms`` >= 1 for
``reboot``, which needs one of ``after_ms`` and ``every_ms``), ``probability`` (0..1, drawn from the device's seeded
random generator, so ``--seed`` makes a run repeatable), ``count`` (>= 1, how many times the fault
fires before it clears itself). Other parameters are passed to the fault unchanged.

Every matching entry applies, globs before exact names, in file order; a later entry for the same
kind replaces an earlier one, so an exact name overrides a ``*`` default.
"""

from __future__ import annotations

import fnmatch
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from simulators.faults import Fault, FaultKind, FaultSet

logger = logging.getLogger(__name__)

_GLOB_CHARACTERS = frozenset("*?[")


class FaultsFileError(ValueError):
    """The faults file cannot be used; the message names the file position that is wrong."""


@dataclass(frozen=True)
class FaultRule:
    """One fault for the devices whose name matches ``pattern``."""

    pattern: str
    kind: FaultKind
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def is_glob(self) -> bool:
        return any(char in _GLOB_CHARACTERS for char in self.pattern)

    def matches(self, device_name: str) -> bool:
        # fnmatchcase: device names are case-sensitive on a router too.
        return fnmatch.fnmatchcase(device_name, self.pattern)

    def to_fault(self) -> Fault:
        return Fault(kind=self.kind, params=dict(self.params))


@dataclass(frozen=True)
class FaultPlan:
    """All rules from one faults file, resolved per device name."""

    rules: tuple[FaultRule, ...] = ()

    def for_device(self, device_name: str) -> list[Fault]:
        matching = [rule for rule in self.rules if rule.matches(device_name)]
        # Globs first, then exact names: the more specific rule is applied last and wins.
        ordered = [r for r in matching if r.is_glob] + [r for r in matching if not r.is_glob]
        return [rule.to_fault() for rule in ordered]

    def apply(self, device_name: str, faults: FaultSet) -> int:
        """Set this device's faults on its FaultSet; returns how many were set."""
        planned = self.for_device(device_name)
        for fault in planned:
            faults.set(fault)
        return len(planned)

    def unmatched_patterns(self, device_names: Iterable[str]) -> list[str]:
        """Patterns that match no device: almost always a typo worth a warning."""
        names = list(device_names)
        return sorted({r.pattern for r in self.rules if not any(r.matches(n) for n in names)})


def load_faults_file(path: Path) -> FaultPlan:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise FaultsFileError(f"{path}: cannot read: {error.strerror}") from error
    return parse_faults(text, source=str(path))


def parse_faults(text: str, *, source: str = "<faults>") -> FaultPlan:
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise FaultsFileError(f"{source}: not valid YAML/JSON: {error}") from error
    if document is None:
        return FaultPlan()
    if isinstance(document, dict) and set(document) == {"faults"}:
        document = document["faults"]
    if not isinstance(document, dict):
        raise FaultsFileError(f"{source}: expected a mapping of device name or glob to a list of faults")
    rules: list[FaultRule] = []
    for pattern, entries in document.items():
        if not isinstance(pattern, str) or not pattern:
            raise FaultsFileError(f"{source}: device name {pattern!r} must be a non-empty string")
        if isinstance(entries, dict):
            entries = [entries]
        if not isinstance(entries, list):
            raise FaultsFileError(f"{source}: {pattern}: expected a list of faults")
        for index, entry in enumerate(entries):
            rules.append(_parse_rule(pattern, entry, f"{source}: {pattern}[{index}]"))
    return FaultPlan(tuple(rules))


def _parse_rule(pattern: str, entry: Any, where: str) -> FaultRule:
    if not isinstance(entry, dict):
        raise FaultsFileError(f"{where}: a fault is a mapping with a 'kind'")
    entry = dict(entry)
    kind_name = entry.pop("kind", None)
    try:
        kind = FaultKind(kind_name)
    except ValueError:
        known = ", ".join(k.value for k in FaultKind)
        raise FaultsFileError(f"{where}: unknown fault kind {kind_name!r} (known: {known})") from None
    params = entry.pop("params", None) or {}
    if not isinstance(params, dict):
        raise FaultsFileError(f"{where}: 'params' must be a mapping")
    params = {**params, **entry}
    validate_params(params, where, kind)
    return FaultRule(pattern=pattern, kind=kind, params=params)


def _is_number(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | float)


def validate_params(params: dict[str, Any], where: str = "fault", kind: FaultKind | None = None) -> None:
    """Check the parameters' types and ranges (shared with the control API)."""
    for name in ("delay_ms", "after_ms", "down_ms"):
        if name in params and (not _is_number(params[name]) or params[name] < 0):
            raise FaultsFileError(f"{where}: {name} must be a number >= 0, not {params[name]!r}")
    if "every_ms" in params and (not _is_number(params["every_ms"]) or params["every_ms"] < 1):
        # A period under a millisecond would keep the event loop busy rebooting.
        raise FaultsFileError(f"{where}: every_ms must be a number >= 1, not {params['every_ms']!r}")
    if kind == FaultKind.REBOOT and "after_ms" not in params and "every_ms" not in params:
        raise FaultsFileError(f"{where}: a reboot fault needs after_ms (once) or every_ms (periodic)")
    if "probability" in params:
        value = params["probability"]
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            raise FaultsFileError(f"{where}: probability must be between 0 and 1, not {value!r}")
    if "count" in params:
        value = params["count"]
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise FaultsFileError(f"{where}: count must be an integer >= 1, not {value!r}")
