"""``provisio catalog load FILE``: a catalog file (YAML) into the catalog, in one transaction.

The file is the source of truth for the entities it names; an entity is known by its kind and ``name``.
A re-load of the same file changes nothing; a changed entity gets a new version (``service``'s rule), and
since references carry the version they point at, a new version of a specification or price makes a new
version of what refers to it, up to the offering: an order item pinned to an older offering version keeps
its older specification and price. Entities the file no longer names are left alone (retire them with
``lifecycleStatus: Retired``). README "Catalog file" describes the format.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy.orm import Session

from bss.catalog import domain, mapping, repository, service
from bss.catalog.errors import InvalidCatalogFile, InvalidDecomposition
from common.uow import UnitOfWork

logger = logging.getLogger(__name__)

# File section -> collection, in load order (what a section refers to is loaded before it).
SECTIONS = (
    ("resourceSpecifications", "resourceSpecification"),
    ("serviceSpecifications", "serviceSpecification"),
    ("productSpecifications", "productSpecification"),
    ("productOfferingPrices", "productOfferingPrice"),
    ("productOfferings", "productOffering"),
)
_REFERRED = {
    "resourceSpecification": "ResourceSpecification",
    "serviceSpecification": "ServiceSpecification",
    "productSpecification": "ProductSpecification",
    "productOfferingPrice": "ProductOfferingPrice",
}


@dataclass
class LoadSummary:
    created: dict[str, int] = field(default_factory=dict)
    changed: dict[str, int] = field(default_factory=dict)
    unchanged: dict[str, int] = field(default_factory=dict)

    def count(self, bucket: dict[str, int], collection: str) -> None:
        bucket[collection] = bucket.get(collection, 0) + 1


def read_file(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise InvalidCatalogFile(f"{path}: {error}") from None
    if not isinstance(data, dict):
        raise InvalidCatalogFile(f"{path}: a catalog file is a mapping of sections.")
    unknown = sorted(set(data) - {section for section, _ in SECTIONS} - {"catalog"})
    if unknown:
        raise InvalidCatalogFile(f"{path}: unknown section {unknown[0]!r}.")
    return data


def load_file(uow: UnitOfWork, path: Path) -> LoadSummary:
    """Load ``path`` (one transaction: a bad file leaves the catalog as it was)."""
    return load(uow, read_file(path))


def load(uow: UnitOfWork, data: Mapping[str, Any]) -> LoadSummary:
    summary = LoadSummary()
    with uow as tx:
        ids: dict[tuple[str, str], dict[str, Any]] = {}  # (collection, name) -> reference
        for section, collection in SECTIONS:
            entries = data.get(section) or []
            if not isinstance(entries, list):
                raise InvalidCatalogFile(f"{section} is a list of entities.")
            for entry in _in_dependency_order(collection, entries):
                desired = _document(collection, entry, ids)
                entity = _upsert(tx.session, collection, desired, summary)
                ids[(collection, entity.name)] = {
                    "id": entity.id,
                    "name": entity.name,
                    "version": entity.version,
                    "@referredType": domain.KINDS[collection].type,
                }
        tx.commit()
    logger.info("catalog loaded: created %s, changed %s", summary.created, summary.changed)
    return summary


def _in_dependency_order(collection: str, entries: list[Any]) -> list[Mapping[str, Any]]:
    """Service specifications that another one ``requires`` come first (a CFS after its RFSs)."""
    for entry in entries:
        if not isinstance(entry, Mapping) or not isinstance(entry.get("name"), str) or not entry["name"]:
            raise InvalidCatalogFile(f"Every {collection} entry needs a name: {entry!r}.")
    if collection != "serviceSpecification":
        return list(entries)
    by_name = {entry["name"]: entry for entry in entries}
    ordered: list[Mapping[str, Any]] = []
    visiting: set[str] = set()

    def visit(entry: Mapping[str, Any]) -> None:
        if entry in ordered:
            return
        if entry["name"] in visiting:
            raise InvalidCatalogFile(f"Service specification {entry['name']!r} requires itself (a cycle).")
        visiting.add(entry["name"])
        for required in entry.get("requires") or []:
            if required in by_name:
                visit(by_name[required])
        ordered.append(entry)

    for entry in entries:
        visit(entry)
    return ordered


def _ref(ids: Mapping[tuple[str, str], dict[str, Any]], collection: str, name: Any, where: str) -> dict[str, Any]:
    if isinstance(name, Mapping):
        name = name.get("name")
    found = ids.get((collection, str(name)))
    if found is None:
        raise InvalidCatalogFile(f"{where} names {collection} {name!r}, which the file does not define (before it).")
    return dict(found)


def _document(
    collection: str, entry: Mapping[str, Any], ids: Mapping[tuple[str, str], dict[str, Any]]
) -> dict[str, Any]:
    """The TMF document of a file entry: names of other entities turned into versioned references."""
    where = f"{collection} {entry['name']!r}"
    document = {key: value for key, value in entry.items() if key != "requires"}
    document.setdefault("lifecycleStatus", "Active")
    if document["lifecycleStatus"] not in domain.LIFECYCLE_STATUSES:
        raise InvalidCatalogFile(f"{where}: lifecycleStatus {document['lifecycleStatus']!r} is not one of "
                                 f"{', '.join(domain.LIFECYCLE_STATUSES)}.")  # fmt: skip
    if collection == "resourceSpecification":
        _check_resource_rule(where, document.get("decompositionRule"))
    if collection == "serviceSpecification":
        rule = dict(document.get("decompositionRule") or {})
        uses = []
        for use in rule.get("resource") or []:
            use = dict(use)
            use["resourceSpecification"] = _ref(ids, "resourceSpecification", use.get("resourceSpecification"), where)
            uses.append(use)
        if uses:
            rule["resource"] = uses
            document["resourceSpecification"] = list(
                {ref["id"]: ref for ref in (u["resourceSpecification"] for u in uses)}.values()
            )
        _check_service_rule(where, rule)
        if rule:
            document["decompositionRule"] = rule
        requires = entry.get("requires") or []
        if requires:
            document["serviceSpecRelationship"] = [
                {**_ref(ids, "serviceSpecification", name, where), "relationshipType": "requires"} for name in requires
            ]
    if collection == "productSpecification":
        for member, target in (("serviceSpecification", "serviceSpecification"),
                               ("resourceSpecification", "resourceSpecification")):  # fmt: skip
            if member in document:
                document[member] = [_ref(ids, target, name, where) for name in document[member]]
    if collection == "productOffering":
        if "productSpecification" in document:
            document["productSpecification"] = _ref(
                ids, "productSpecification", document["productSpecification"], where
            )
        if "productOfferingPrice" in document:
            document["productOfferingPrice"] = [
                _ref(ids, "productOfferingPrice", name, where) for name in document["productOfferingPrice"]
            ]
    return document


def _check_resource_rule(where: str, rule: Any) -> None:
    if rule is None:
        return
    if not isinstance(rule, Mapping) or rule.get("reservationItemType") not in domain.RESERVATION_ITEM_TYPES:
        raise InvalidCatalogFile(
            f"{where}: decompositionRule.reservationItemType must be one of {', '.join(domain.RESERVATION_ITEM_TYPES)}."
        )
    _check_duration(where, rule.get("expectedDuration"))


def _check_service_rule(where: str, rule: Mapping[str, Any]) -> None:
    if rule.get("layer", "RFS") not in ("CFS", "RFS"):
        raise InvalidCatalogFile(f"{where}: decompositionRule.layer is CFS or RFS.")
    activation = rule.get("activation")
    if activation is not None:
        if not isinstance(activation, Mapping) or not activation.get("serviceType") or not activation.get("targetRole"):
            raise InvalidCatalogFile(f"{where}: an activation names its serviceType and targetRole.")
        _check_duration(where, activation.get("expectedDuration"))
    task = rule.get("manualTask")
    if task is not None:
        if not isinstance(task, Mapping) or not task.get("name"):
            raise InvalidCatalogFile(f"{where}: a manualTask has a name.")
        _check_duration(where, task.get("expectedDuration"))
    for use in rule.get("resource") or []:
        _check_duration(where, use.get("expectedDuration"))


def _check_duration(where: str, text: Any) -> None:
    if text is None:
        return
    try:
        domain.parse_duration(text)
    except InvalidDecomposition as error:
        raise InvalidCatalogFile(f"{where}: {error.message}") from None


def _upsert(session: Session, collection: str, desired: dict[str, Any], summary: LoadSummary) -> mapping.CatalogEntity:
    row = repository.find_by_name(session, collection, desired["name"])
    if row is None:
        summary.count(summary.created, collection)
        return service.create_entity_in(session, collection, desired)
    current = {k: v for k, v in mapping.document_of(service.entity_of(collection, row)).items()
               if k not in domain.SERVER_MEMBERS}  # fmt: skip
    wanted = dict(desired)
    if "version" not in wanted:
        wanted["version"] = current["version"]
    if wanted == current:
        summary.count(summary.unchanged, collection)
        return service.entity_of(collection, row)
    summary.count(summary.changed, collection)
    return service.patch_entity_in(session, collection, row.id, wanted, replace=True)
