"""Pure catalog rules: which TMF entities the catalog holds, where each is served, and how versions move.

TMF620 v5, TMF633 v4 and TMF634 v5 give every catalog entity a ``version`` (free string) and a
``lifecycleStatus``. Provisio's rule: a change of an entity's content is a new version; the old one stays
readable as it was (``catalog_version``), so what an order item was sold at never changes under it.

## Decomposition
Decomposition rules as data (issue 20 "Catalog"): product -> customer-facing services (CFS) ->
resource-facing services (RFS) -> resources to hold and activations to run, with per-step expected
durations (for jeopardy) and manual tasks. Pure: no database, no I/O (``domain`` re-exports it).

Where the rules live (all TMF documents, as the catalog APIs serve them):

- ``ProductSpecification.serviceSpecification``: the CFSs a product needs (references);
- ``ServiceSpecification.serviceSpecRelationship``: the RFSs a CFS needs (``relationshipType`` "requires");
- ``ServiceSpecification.decompositionRule``: ``layer`` (CFS/RFS), optional ``when`` (a condition on the
  order item's characteristics), ``resource`` (what to hold: a resource specification by name, criteria
  and quantity), ``activation`` (``serviceType``, ``targetRole``, ``expectedDuration``) and ``manualTask``
  (``name``, ``role``, ``expectedDuration``, ``autoComplete``);
- ``ResourceSpecification.decompositionRule``: how one such resource is held, as the TMF685 reservation item
  ``@type`` that oss/reservation's providers accept (``TelephoneNumberReservationItem``,
  ``IpAddressReservationItem``, ``IpPrefixReservationItem``, ``VlanReservationItem``, ``PortReservationItem``,
  ``CpeReservationItem``), default ``criteria`` and an ``expectedDuration``.

Templates: a criterion, quantity or condition value ``"{name}"`` is the order item's characteristic
``name`` (its type kept); ``"x{name}y"`` substitutes it as text. A characteristic the product
specification declares with ``minCardinality`` >= 1 and no default is mandatory.

ISO 8601 durations (``PT30S``, ``P3D``) throughout, as TMF writes them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from bss.catalog.errors import InvalidDecomposition

DEFAULT_VERSION = "1.0"
DEFAULT_LIFECYCLE = "In design"
# TM Forum's usual lifecycle values (TMF620 v5 leaves the member a free string). An offering is orderable
# while Active or Launched.
LIFECYCLE_STATUSES = ("In study", "In design", "In test", "Active", "Launched", "Retired", "Obsolete", "Rejected")
ORDERABLE_STATUSES = frozenset({"Active", "Launched"})
# Members the server sets; a change of lifecycleStatus alone does not make a new version.
SERVER_MEMBERS = frozenset({"id", "href", "@type", "@baseType", "lastUpdate"})
NOT_VERSIONED = frozenset({"lifecycleStatus", "statusReason", "version", *SERVER_MEMBERS})


@dataclass(frozen=True)
class Kind:
    """One catalog entity kind: its TMF collection, @type, API and base path."""

    collection: str  # productOffering
    type: str  # ProductOffering
    api: str  # the ApiEntry name (server/apis.py): productCatalogManagement
    base_path: str

    @property
    def create_event(self) -> str:
        return f"{self.type}CreateEvent"

    @property
    def change_event(self) -> str:
        return f"{self.type}AttributeValueChangeEvent"

    @property
    def state_event(self) -> str:
        return f"{self.type}StateChangeEvent"


PRODUCT_CATALOG = "productCatalogManagement"
SERVICE_CATALOG = "serviceCatalogManagement"
RESOURCE_CATALOG = "resourceCatalog"
PRODUCT_CATALOG_BASE = "/tmf-api/productCatalogManagement/v5"
SERVICE_CATALOG_BASE = "/tmf-api/serviceCatalogManagement/v4"
RESOURCE_CATALOG_BASE = "/tmf-api/resourceCatalog/v5"

KINDS: dict[str, Kind] = {
    kind.collection: kind
    for kind in (
        Kind("productSpecification", "ProductSpecification", PRODUCT_CATALOG, PRODUCT_CATALOG_BASE),
        Kind("productOffering", "ProductOffering", PRODUCT_CATALOG, PRODUCT_CATALOG_BASE),
        Kind("productOfferingPrice", "ProductOfferingPrice", PRODUCT_CATALOG, PRODUCT_CATALOG_BASE),
        Kind("serviceSpecification", "ServiceSpecification", SERVICE_CATALOG, SERVICE_CATALOG_BASE),
        Kind("resourceSpecification", "ResourceSpecification", RESOURCE_CATALOG, RESOURCE_CATALOG_BASE),
    )
}

_TRAILING_NUMBER = re.compile(r"^(.*?)(\d+)$")


def next_version(version: str) -> str:
    """The version after ``version``: its last number counted up ("1.0" -> "1.1", "2" -> "3", "v1.9" ->
    "v1.10"), or ".1" appended when it ends in no number ("beta" -> "beta.1")."""
    match = _TRAILING_NUMBER.match(version)
    if match is None:
        return f"{version}.1"
    return f"{match.group(1)}{int(match.group(2)) + 1}"


def versioned_content(document: dict[str, object]) -> dict[str, object]:
    """The part of a document whose change makes a new version (everything but status and server members)."""
    return {key: value for key, value in document.items() if key not in NOT_VERSIONED}


# ===================================================================================== decomposition

RESERVATION_ITEM_TYPES = (
    "TelephoneNumberReservationItem",
    "IpAddressReservationItem",
    "IpPrefixReservationItem",
    "VlanReservationItem",
    "PortReservationItem",
    "CpeReservationItem",
)
DEFAULT_HOLD_DURATION = timedelta(seconds=1)
DEFAULT_ACTIVATION_DURATION = timedelta(seconds=30)
DEFAULT_TASK_DURATION = timedelta(days=1)

_DURATION = re.compile(
    r"^P(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)
_WHOLE = re.compile(r"^\{([A-Za-z_][\w.-]*)\}$")
_PART = re.compile(r"\{([A-Za-z_][\w.-]*)\}")


class MissingCharacteristic(InvalidDecomposition):
    code = "MISSING_CHARACTERISTIC"


class InvalidCharacteristicValue(InvalidDecomposition):
    code = "INVALID_CHARACTERISTIC_VALUE"


class UnknownSpecification(InvalidDecomposition):
    code = "UNKNOWN_SPECIFICATION"


def parse_duration(text: str) -> timedelta:
    """An ISO 8601 duration (``P3D``, ``PT1H30M``, ``PT0.5S``); years and months are refused (no fixed length)."""
    match = _DURATION.match(text) if isinstance(text, str) else None
    if match is None or text in ("P", "PT"):
        raise InvalidDecomposition(f"{text!r} is not an ISO 8601 duration such as PT30S or P3D.")
    parts = {name: float(value) for name, value in match.groupdict().items() if value is not None}
    return timedelta(**parts)


# ------------------------------------------------------------------------------------------- the plan


@dataclass(frozen=True)
class SpecRef:
    """A catalog entity pinned at one version."""

    id: str
    name: str
    version: str


@dataclass(frozen=True)
class HoldStep:
    """Hold one resource through TMF685 (oss/reservation): one reservation item."""

    key: str
    resource_specification: SpecRef
    reservation_item_type: str
    criteria: Mapping[str, Any]
    quantity: int
    service_key: str  # the RFS it is for
    expected_duration: timedelta
    depends_on: tuple[str, ...] = ()

    def reservation_item(self) -> dict[str, Any]:
        """The TMF685 reservation item body (``@type``, ``quantity``, criteria as members)."""
        return {"@type": self.reservation_item_type, "quantity": self.quantity, **self.criteria}


@dataclass(frozen=True)
class ManualTaskStep:
    """Work done by a person (ship and install a CPE); ``auto_complete`` until the task API exists."""

    key: str
    name: str
    role: str
    service_key: str
    expected_duration: timedelta
    auto_complete: bool
    depends_on: tuple[str, ...] = ()


@dataclass(frozen=True)
class ActivationStep:
    """Configure the network for one RFS: an activation job of ``service_type`` on the ``target_role`` device."""

    key: str
    service_type: str
    target_role: str
    service_key: str
    expected_duration: timedelta
    depends_on: tuple[str, ...] = ()


Step = HoldStep | ManualTaskStep | ActivationStep


@dataclass(frozen=True)
class PlannedService:
    """One service instance to create (a CFS, or an RFS under ``parent_key``)."""

    key: str
    layer: str  # CFS or RFS
    specification: SpecRef
    parent_key: str | None = None


@dataclass(frozen=True)
class Plan:
    """What delivering one order item takes, derived from the catalog alone (``decompose``).

    ``steps`` are in an order that respects ``depends_on``; an instantly delivered product has none
    (``instant``)."""

    offering: SpecRef
    product_specification: SpecRef | None
    prices: tuple[SpecRef, ...]
    characteristics: Mapping[str, Any]
    services: tuple[PlannedService, ...]
    steps: tuple[Step, ...]

    @property
    def holds(self) -> tuple[HoldStep, ...]:
        return tuple(step for step in self.steps if isinstance(step, HoldStep))

    @property
    def activations(self) -> tuple[ActivationStep, ...]:
        return tuple(step for step in self.steps if isinstance(step, ActivationStep))

    @property
    def manual_tasks(self) -> tuple[ManualTaskStep, ...]:
        return tuple(step for step in self.steps if isinstance(step, ManualTaskStep))

    @property
    def instant(self) -> bool:
        return not self.steps

    def expected_duration(self) -> timedelta:
        """The critical path through ``depends_on`` (what a jeopardy check compares with the promise)."""
        finish: dict[str, timedelta] = {}
        for step in self.steps:
            start = max((finish[key] for key in step.depends_on if key in finish), default=timedelta(0))
            finish[step.key] = start + step.expected_duration
        return max(finish.values(), default=timedelta(0))


# --------------------------------------------------------------------------------------- the input


@dataclass(frozen=True)
class CatalogView:
    """The pinned documents ``decompose`` reads: an offering version and everything it refers to, each a
    TMF document (``bss.catalog.snapshot`` builds it from the database)."""

    offering: Mapping[str, Any]
    product_specification: Mapping[str, Any] | None
    prices: tuple[Mapping[str, Any], ...] = ()
    service_specifications: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # by id
    resource_specifications: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # by id and by name


def _ref(document: Mapping[str, Any]) -> SpecRef:
    return SpecRef(id=str(document.get("id")), name=str(document.get("name")), version=str(document.get("version")))


def characteristics_of(product_specification: Mapping[str, Any] | None, given: Mapping[str, Any]) -> dict[str, Any]:
    """The order item's characteristics checked against the specification: defaults filled in, a mandatory
    one missing or a value outside the declared ones refused (400, with a reason an order system can show)."""
    values = dict(given)
    declared = (product_specification or {}).get("productSpecCharacteristic") or []
    for spec in declared:
        name = spec["name"]
        options = spec.get("characteristicValueSpecification") or []
        if name not in values:
            default = next((option.get("value") for option in options if option.get("isDefault")), None)
            if default is not None:
                values[name] = default
            elif int(spec.get("minCardinality") or 0) >= 1:
                raise MissingCharacteristic(f"The characteristic {name!r} is mandatory for this product.")
            continue
        value = values[name]
        value_type = spec.get("valueType")
        if value_type in ("integer", "number") and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise InvalidCharacteristicValue(f"The characteristic {name!r} must be a {value_type}, not {value!r}.")
        if value_type == "integer" and isinstance(value, float):
            raise InvalidCharacteristicValue(f"The characteristic {name!r} must be an integer, not {value!r}.")
        if value_type == "boolean" and not isinstance(value, bool):
            raise InvalidCharacteristicValue(f"The characteristic {name!r} must be true or false, not {value!r}.")
        ranges = [option for option in options if "valueFrom" in option or "valueTo" in option]
        enumerated = [option.get("value") for option in options if "value" in option]
        if ranges and not any(_in_range(value, option) for option in ranges):
            raise InvalidCharacteristicValue(f"The characteristic {name!r} is out of range: {value!r}.")
        if enumerated and not ranges and value not in enumerated:
            raise InvalidCharacteristicValue(f"The characteristic {name!r} takes one of {enumerated!r}, not {value!r}.")
    return values


def _in_range(value: Any, option: Mapping[str, Any]) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    low, high = option.get("valueFrom"), option.get("valueTo")
    return (low is None or value >= low) and (high is None or value <= high)


def render(template: Any, values: Mapping[str, Any]) -> Any:
    """A template with the characteristics filled in (module docstring); nested dicts and lists too."""
    if isinstance(template, str):
        whole = _WHOLE.match(template)
        if whole is not None:
            return _value(whole.group(1), values)
        return _PART.sub(lambda match: str(_value(match.group(1), values)), template)
    if isinstance(template, Mapping):
        return {key: render(value, values) for key, value in template.items()}
    if isinstance(template, list):
        return [render(value, values) for value in template]
    return template


def _value(name: str, values: Mapping[str, Any]) -> Any:
    if name not in values:
        raise MissingCharacteristic(f"The characteristic {name!r} is needed to deliver this product.")
    return values[name]


def applies(condition: Mapping[str, Any] | None, values: Mapping[str, Any]) -> bool:
    """``when``: ``{"characteristic": n}`` (present and truthy), with ``equals`` or ``in`` to compare."""
    if not condition:
        return True
    name = condition["characteristic"]
    if "equals" in condition:
        return bool(values.get(name) == condition["equals"])
    if "in" in condition:
        return bool(values.get(name) in condition["in"])
    return bool(values.get(name))


# ------------------------------------------------------------------------------------------ decompose


def decompose(view: CatalogView, characteristics: Mapping[str, Any]) -> Plan:
    """The plan of one order item of ``view.offering`` with ``characteristics`` (module docstring).

    For every CFS of the product and every RFS it requires (whose ``when`` holds): hold steps for its
    resources, then its manual task (after the holds), then its activation (after the holds and the task).
    A CFS with its own rule contributes steps the same way. Raises ``InvalidDecomposition`` subclasses.
    """
    values = characteristics_of(view.product_specification, characteristics)
    services: list[PlannedService] = []
    steps: list[Step] = []
    product_spec = view.product_specification
    cfs_refs = (product_spec or {}).get("serviceSpecification") or []
    for cfs_index, cfs_ref in enumerate(cfs_refs):
        cfs = _service(view, cfs_ref)
        if not applies(_rule(cfs).get("when"), values):
            continue
        cfs_key = f"cfs{cfs_index + 1}"
        services.append(PlannedService(cfs_key, "CFS", _ref(cfs)))
        steps.extend(_service_steps(view, cfs, cfs_key, values))
        related = [
            r for r in cfs.get("serviceSpecRelationship") or [] if r.get("relationshipType", "requires") == "requires"
        ]
        for rfs_index, rfs_ref in enumerate(related):
            rfs = _service(view, rfs_ref)
            if not applies(_rule(rfs).get("when"), values):
                continue
            rfs_key = f"{cfs_key}.rfs{rfs_index + 1}"
            services.append(PlannedService(rfs_key, "RFS", _ref(rfs), parent_key=cfs_key))
            steps.extend(_service_steps(view, rfs, rfs_key, values))
    return Plan(
        offering=_ref(view.offering),
        product_specification=_ref(product_spec) if product_spec is not None else None,
        prices=tuple(_ref(price) for price in view.prices),
        characteristics=values,
        services=tuple(services),
        steps=tuple(steps),
    )


def _rule(spec: Mapping[str, Any]) -> Mapping[str, Any]:
    rule = spec.get("decompositionRule")
    return rule if isinstance(rule, Mapping) else {}


def _service(view: CatalogView, reference: Mapping[str, Any]) -> Mapping[str, Any]:
    found = view.service_specifications.get(str(reference.get("id"))) or view.service_specifications.get(
        str(reference.get("name"))
    )
    if found is None:
        raise UnknownSpecification(
            f"The catalog has no service specification {reference.get('name') or reference.get('id')!r}."
        )
    return found


def _resource(view: CatalogView, reference: Mapping[str, Any]) -> Mapping[str, Any]:
    found = view.resource_specifications.get(str(reference.get("id"))) or view.resource_specifications.get(
        str(reference.get("name"))
    )
    if found is None:
        raise UnknownSpecification(
            f"The catalog has no resource specification {reference.get('name') or reference.get('id')!r}."
        )
    return found


def _service_steps(
    view: CatalogView, spec: Mapping[str, Any], service_key: str, values: Mapping[str, Any]
) -> list[Step]:
    rule = _rule(spec)
    steps: list[Step] = []
    for index, use in enumerate(rule.get("resource") or []):
        if not applies(use.get("when"), values):
            continue
        resource = _resource(view, use.get("resourceSpecification") or {})
        resource_rule = _rule(resource)
        item_type = resource_rule.get("reservationItemType")
        if item_type not in RESERVATION_ITEM_TYPES:
            raise InvalidDecomposition(
                f"Resource specification {resource.get('name')!r} names no known reservation item type ({item_type!r})."
            )
        criteria = render({**(resource_rule.get("criteria") or {}), **(use.get("criteria") or {})}, values)
        quantity = render(use.get("quantity", resource_rule.get("quantity", 1)), values)
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
            raise InvalidCharacteristicValue(
                f"The quantity of {resource.get('name')!r} must be a positive integer, not {quantity!r}."
            )
        duration = use.get("expectedDuration") or resource_rule.get("expectedDuration")
        steps.append(
            HoldStep(
                key=f"{service_key}.hold{index + 1}",
                resource_specification=_ref(resource),
                reservation_item_type=item_type,
                criteria=criteria,
                quantity=quantity,
                service_key=service_key,
                expected_duration=parse_duration(duration) if duration else DEFAULT_HOLD_DURATION,
            )
        )
    holds = tuple(step.key for step in steps)
    after: tuple[str, ...] = holds
    task = rule.get("manualTask")
    if isinstance(task, Mapping) and applies(task.get("when"), values):
        key = f"{service_key}.task"
        steps.append(
            ManualTaskStep(
                key=key,
                name=str(render(task.get("name", "manual task"), values)),
                role=str(task.get("role", "technician")),
                service_key=service_key,
                expected_duration=parse_duration(task["expectedDuration"])
                if task.get("expectedDuration")
                else DEFAULT_TASK_DURATION,
                auto_complete=bool(task.get("autoComplete", True)),
                depends_on=holds,
            )
        )
        after = (*holds, key)
    activation = rule.get("activation")
    if isinstance(activation, Mapping) and applies(activation.get("when"), values):
        steps.append(
            ActivationStep(
                key=f"{service_key}.activate",
                service_type=str(activation["serviceType"]),
                target_role=str(activation["targetRole"]),
                service_key=service_key,
                expected_duration=parse_duration(activation["expectedDuration"])
                if activation.get("expectedDuration")
                else DEFAULT_ACTIVATION_DURATION,
                depends_on=after,
            )
        )
    return steps


def dependencies_in_order(steps: Sequence[Step]) -> bool:
    """Every step's ``depends_on`` names steps before it (what ``decompose`` guarantees)."""
    seen: set[str] = set()
    for step in steps:
        if not set(step.depends_on) <= seen:
            return False
        seen.add(step.key)
    return True
