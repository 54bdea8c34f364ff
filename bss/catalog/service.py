"""Catalog use cases (TMF620 v5, TMF633 v4, TMF634 v5). One function, one transaction; events in it.

Versions: every create records version ``version`` (default "1.0") in ``catalog_version``. A PATCH that
changes an entity's content (anything but lifecycleStatus/statusReason) makes a new version: the one the
patch names, or the current one counted up (``domain.next_version``); naming a version that exists already
is a 409, since a version that was sold never changes. A change of lifecycleStatus alone keeps the version.
An offering's version records the versions of the specification and prices it refers to, as they were
then (``snapshot``), so an order item pins all three by pinning ``(offering id, version)``.

Events (hub of the entity's API): ``<Type>CreateEvent``, ``<Type>AttributeValueChangeEvent`` (``fieldPath``
lists the changed members) and ``<Type>StateChangeEvent`` (lifecycleStatus).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from bss.catalog import domain, mapping, repository
from bss.catalog.domain import KINDS, CatalogView, Plan, decompose
from bss.catalog.errors import CatalogEntityNotFound, VersionExists, VersionNotFound
from bss.catalog.mapping import CatalogEntity
from bss.catalog.models import ROWS, CatalogVersionRow
from common import clock, events
from common.orm import new_id
from common.tmf import Fields, ListQuery, Page, changed_members, merge_patch, parse_item_query, parse_list_query
from common.uow import UnitOfWork

logger = logging.getLogger(__name__)

for _kind in KINDS.values():
    events.register_event_types(_kind.api, (_kind.create_event, _kind.change_event, _kind.state_event))
for _api in {kind.api for kind in KINDS.values()}:
    events.register_event_schema(
        _api, {name: repository.QUERIES[name].members for name, kind in KINDS.items() if kind.api == _api}
    )


def create_entity(uow: UnitOfWork, collection: str, document: Mapping[str, Any]) -> CatalogEntity:
    """Create a catalog entity from a TMF ``<Type>_Create`` document (version and status defaulted)."""
    with uow as tx:
        entity = create_entity_in(tx.session, collection, document)
        tx.commit()
    logger.info("created %s %s (%s, version %s)", collection, entity.id, entity.name, entity.version)
    return entity


def create_entity_in(
    session: Session, collection: str, document: Mapping[str, Any], *, entity_id: str | None = None
) -> CatalogEntity:
    """``create_entity`` in the caller's transaction (never commits): the catalog loader's path."""
    columns, rest = mapping.split(document)
    now = clock.now()
    row = ROWS[collection](
        id=entity_id or new_id(),
        name=columns["name"],
        version=columns.get("version") or domain.DEFAULT_VERSION,
        lifecycle_status=columns.get("lifecycleStatus") or domain.DEFAULT_LIFECYCLE,
        last_update=now,
        document=rest,
        created_at=now,
    )
    session.add(row)
    session.flush()
    entity = entity_of(collection, row)
    _record_version(session, entity)
    _publish(session, entity, KINDS[collection].create_event)
    return entity


def patch_entity(uow: UnitOfWork, collection: str, entity_id: str, patch: Mapping[str, Any]) -> CatalogEntity:
    """Apply a JSON merge-patch (RFC 7396); a content change makes a new version (module docstring)."""
    with uow as tx:
        entity = patch_entity_in(tx.session, collection, entity_id, patch)
        tx.commit()
    return entity


def patch_entity_in(
    session: Session, collection: str, entity_id: str, patch: Mapping[str, Any], *, replace: bool = False
) -> CatalogEntity:
    """``patch_entity`` in the caller's transaction. ``replace``: ``patch`` is the whole new document (the
    catalog loader's path), not a merge-patch."""
    row = repository.get(session, collection, entity_id, for_update=True)
    if row is None:
        raise CatalogEntityNotFound(f"No {collection} with id {entity_id!r}.")
    before = mapping.document_of(entity_of(collection, row))
    if replace:
        after = {**{key: before[key] for key in domain.SERVER_MEMBERS if key in before}, **patch}
    else:
        after = merge_patch(before, dict(patch))
    changed = [member for member in changed_members(before, after) if member not in domain.SERVER_MEMBERS]
    if not changed:
        return entity_of(collection, row)
    content_changed = domain.versioned_content(before) != domain.versioned_content(after)
    version = after.get("version") or row.version
    if content_changed and version == row.version:
        version = domain.next_version(row.version)
        while repository.find_version(session, row.id, version) is not None:
            version = domain.next_version(version)
    new_version = version != row.version
    if new_version and repository.find_version(session, row.id, version) is not None:
        raise VersionExists(f"{collection} {entity_id!r} has a version {version!r} already; a version never changes.")
    columns, rest = mapping.split(after)
    row.name = columns["name"]
    row.version = version
    row.lifecycle_status = columns.get("lifecycleStatus") or row.lifecycle_status
    row.document = rest
    row.last_update = clock.now()
    session.flush()
    entity = entity_of(collection, row)
    if new_version:
        _record_version(session, entity)
    kind = KINDS[collection]
    if "lifecycleStatus" in changed:
        _publish(session, entity, kind.state_event, "lifecycleStatus")
    others = [member for member in changed if member != "lifecycleStatus"]
    if new_version and "version" not in others:
        others.append("version")
    if others:
        _publish(session, entity, kind.change_event, ",".join(others))
    return entity


def retrieve_entity(uow: UnitOfWork, collection: str, entity_id: str) -> CatalogEntity:
    with uow as tx:
        row = repository.get(tx.session, collection, entity_id)
        if row is None:
            raise CatalogEntityNotFound(f"No {collection} with id {entity_id!r}.")
        return entity_of(collection, row)


def parse_query(collection: str, query_string: str) -> ListQuery:
    return parse_list_query(query_string, repository.QUERIES[collection])


def parse_retrieve_query(collection: str, query_string: str) -> Fields | None:
    return parse_item_query(query_string, repository.QUERIES[collection].members)


def list_entities(uow: UnitOfWork, collection: str, query: ListQuery) -> Page[CatalogEntity]:
    with uow as tx:
        rows, total = repository.list_page(tx.session, collection, query)
        items = [entity_of(collection, row) for row in rows]
        return Page(items=items, total=total, offset=query.offset, limit=query.limit)


def version_document(session: Session, entity_id: str, version: str | None) -> dict[str, Any]:
    """The TMF document of an entity's version (its latest when ``version`` is None)."""
    found = repository.find_version(session, entity_id, version)
    if found is None:
        raise VersionNotFound(f"No version {version!r} of catalog entity {entity_id!r}.")
    return dict(found.document)


def entity_of(collection: str, row: Any) -> CatalogEntity:
    return CatalogEntity(
        kind=collection,
        id=row.id,
        name=row.name,
        version=row.version,
        lifecycle_status=row.lifecycle_status,
        last_update=row.last_update,
        document=dict(row.document or {}),
        row_version=row.row_version,
    )


def _record_version(session: Session, entity: CatalogEntity) -> None:
    document = mapping.document_of(entity)
    if entity.kind == "productOffering":
        document = _pinned_references(session, document)
    session.add(
        CatalogVersionRow(
            id=new_id(),
            kind=entity.kind,
            entity_id=entity.id,
            version=entity.version,
            document=document,
            created_at=clock.now(),
        )
    )
    session.flush()


def _pinned_references(session: Session, document: dict[str, Any]) -> dict[str, Any]:
    """An offering's document with the version of each specification and price reference filled in (the
    referenced entity's current version) where the reference names none."""
    pinned = dict(document)

    def pin(collection: str, reference: Mapping[str, Any]) -> dict[str, Any]:
        if reference.get("version"):
            return dict(reference)
        row = repository.get(session, collection, str(reference.get("id")))
        return {**reference, "version": row.version} if row is not None else dict(reference)

    if isinstance(document.get("productSpecification"), Mapping):
        pinned["productSpecification"] = pin("productSpecification", document["productSpecification"])
    if isinstance(document.get("productOfferingPrice"), list):
        pinned["productOfferingPrice"] = [pin("productOfferingPrice", ref) for ref in document["productOfferingPrice"]]
    return pinned


def _publish(session: Session, entity: CatalogEntity, event_type: str, field_path: str | None = None) -> None:
    events.publish(
        session,
        api=KINDS[entity.kind].api,
        event_type=event_type,
        resource=mapping.to_tmf(entity),
        payload_key=entity.kind,
        field_path=field_path,
    )


# ------------------------------------------------------------------------------------------ snapshots


@dataclass(frozen=True)
class OfferingSnapshot:
    """An offering at one version with everything it refers to, each at the version it pinned: what an
    order item is sold, delivered and billed at, however the catalog moves on (never changes)."""

    offering_id: str
    version: str
    name: str
    lifecycle_status: str
    view: CatalogView

    @property
    def offering(self) -> Mapping[str, Any]:
        return self.view.offering

    @property
    def prices(self) -> tuple[Mapping[str, Any], ...]:
        return self.view.prices

    @property
    def orderable(self) -> bool:
        return self.lifecycle_status in domain.ORDERABLE_STATUSES

    def decompose(self, characteristics: Mapping[str, Any]) -> Plan:
        """``domain.decompose`` of this snapshot (pure)."""
        return decompose(self.view, characteristics)


def offering_snapshot(uow: UnitOfWork, offering_id: str, version: str | None = None) -> OfferingSnapshot:
    """The immutable snapshot of offering ``offering_id`` at ``version`` (its current version when None).

    References that name a version resolve to that version; one that names none to the referenced
    entity's version current when the referring version was made (``_pinned_references``), else its latest.
    404 ``CATALOG_ENTITY_NOT_FOUND`` / ``CATALOG_VERSION_NOT_FOUND``."""
    with uow as tx:
        session = tx.session
        if version is None:
            row = repository.get(session, "productOffering", offering_id)
            if row is None:
                raise CatalogEntityNotFound(f"No productOffering with id {offering_id!r}.")
            version = row.version
        elif repository.get(session, "productOffering", offering_id) is None:
            raise CatalogEntityNotFound(f"No productOffering with id {offering_id!r}.")
        offering = version_document(session, offering_id, version)
        spec_ref = offering.get("productSpecification")
        product_spec = _resolve(session, spec_ref) if isinstance(spec_ref, Mapping) else None
        prices = tuple(_resolve(session, ref) for ref in offering.get("productOfferingPrice") or [])
        services: dict[str, Mapping[str, Any]] = {}
        resources: dict[str, Mapping[str, Any]] = {}
        pending = list((product_spec or {}).get("serviceSpecification") or [])
        for ref in (product_spec or {}).get("resourceSpecification") or []:
            _add_resource(session, ref, resources)
        while pending:
            ref = pending.pop()
            if str(ref.get("id")) in services:
                continue
            spec = _resolve(session, ref, missing_ok=True)
            if spec is None:
                continue  # decompose names what is missing, with the order item's context
            services[str(spec["id"])] = spec
            pending.extend(spec.get("serviceSpecRelationship") or [])
            for resource_ref in spec.get("resourceSpecification") or []:
                _add_resource(session, resource_ref, resources)
            rule = spec.get("decompositionRule") or {}
            for use in rule.get("resource") or [] if isinstance(rule, Mapping) else []:
                if isinstance(use.get("resourceSpecification"), Mapping):
                    _add_resource(session, use["resourceSpecification"], resources)
        status = str(offering.get("lifecycleStatus") or domain.DEFAULT_LIFECYCLE)
        current = repository.get(session, "productOffering", offering_id)
        if current is not None and current.version == version:
            status = current.lifecycle_status  # a status change keeps the version: the current one counts
        return OfferingSnapshot(
            offering_id=offering_id,
            version=version,
            name=str(offering.get("name")),
            lifecycle_status=status,
            view=CatalogView(
                offering=offering,
                product_specification=product_spec,
                prices=prices,
                service_specifications=services,
                resource_specifications=resources,
            ),
        )


def _add_resource(session: Session, ref: Mapping[str, Any], into: dict[str, Mapping[str, Any]]) -> None:
    if str(ref.get("id")) not in into:
        found = _resolve(session, ref, missing_ok=True)
        if found is not None:
            into[str(found["id"])] = found


def _resolve(session: Session, ref: Mapping[str, Any], *, missing_ok: bool = False) -> Any:
    found = repository.find_version(session, str(ref.get("id")), ref.get("version") or None)
    if found is None:
        if missing_ok:
            return None
        raise VersionNotFound(f"No version {ref.get('version')!r} of catalog entity {ref.get('id')!r}.")
    return dict(found.document)
