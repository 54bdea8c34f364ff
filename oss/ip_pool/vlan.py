"""VLAN use cases: groups (an id space, 1..4094 by default) and VLANs unique per group, with next-available.
One public function = one transaction. A VLAN in use is also a TMF639 resource (``@type`` Vlan, owner
``ip_pool``, the same id), written in the same transaction, with a hub event.

Next-available locks the group row (a blocking ``FOR UPDATE``), so parallel requests on one group queue
instead of colliding; the ``(group_id, vid)`` unique constraint is the last line of defence.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from common import clock, events
from common.errors import Conflict, NotFound
from common.orm import new_id
from common.tmf import ListQuery, Page
from common.uow import UnitOfWork
from oss import resource_inventory
from oss.ip_pool import mapping, repository
from oss.ip_pool.errors import InvalidAllocation, PoolExhausted
from oss.ip_pool.models import VlanGroupRow, VlanRow
from oss.ip_pool.repository import VLAN_GROUP_QUERY, VLAN_QUERY
from oss.ip_pool.service import API, CONTEXT

GROUP_CREATE_EVENT = "VlanGroupCreateEvent"
GROUP_DELETE_EVENT = "VlanGroupDeleteEvent"
VLAN_CREATE_EVENT = "VlanCreateEvent"
VLAN_DELETE_EVENT = "VlanDeleteEvent"
events.register_event_types(API, (GROUP_CREATE_EVENT, GROUP_DELETE_EVENT, VLAN_CREATE_EVENT, VLAN_DELETE_EVENT))
events.register_event_schema(API, {"vlanGroup": VLAN_GROUP_QUERY.members, "vlan": VLAN_QUERY.members})


class VlanGroupNotFound(NotFound):
    code = "VLAN_GROUP_NOT_FOUND"


class VlanNotFound(NotFound):
    code = "VLAN_NOT_FOUND"


class VlanTaken(Conflict):
    code = "VLAN_TAKEN"


class VlanGroupInUse(Conflict):
    code = "VLAN_GROUP_IN_USE"


class VlanGroupNameTaken(Conflict):
    code = "VLAN_GROUP_NAME_TAKEN"


@dataclass(frozen=True)
class VlanGroupData:
    id: str
    name: str
    min_vid: int
    max_vid: int
    description: str | None
    created_at: datetime
    used: int | None = None


@dataclass(frozen=True)
class VlanData:
    id: str
    group_id: str
    vid: int
    name: str | None
    status: str
    interface_id: str | None
    service_id: str | None
    description: str | None
    created_at: datetime


def create_group(uow: UnitOfWork, document: Mapping[str, Any]) -> VlanGroupData:
    """A VLAN id space ``minVid``..``maxVid`` (default 1..4094, IEEE 802.1Q)."""
    with uow as tx:
        group = create_group_in(tx.session, document)
        tx.commit()
    return group


def create_group_in(session: Session, document: Mapping[str, Any]) -> VlanGroupData:
    low, high = int(document.get("minVid", 1)), int(document.get("maxVid", 4094))
    if not 1 <= low <= high <= 4094:
        raise InvalidAllocation(f"A VLAN group spans 1..4094 with minVid <= maxVid, not {low}..{high}.")
    if session.execute(select(VlanGroupRow.id).where(VlanGroupRow.name == document["name"])).first():
        raise VlanGroupNameTaken(f"A VLAN group named {document['name']!r} exists already.")
    now = clock.now()
    row = VlanGroupRow(
        id=new_id(),
        name=document["name"],
        min_vid=low,
        max_vid=high,
        description=document.get("description"),
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    group = _group_data(row, 0)
    _publish(session, GROUP_CREATE_EVENT, "vlanGroup", mapping.vlan_group_json(group))
    return group


def retrieve_group(uow: UnitOfWork, group_id: str) -> VlanGroupData:
    with uow as tx:
        row = _group(tx.session, group_id)
        used = tx.session.scalar(select(func.count()).where(repository.VLAN.c.group_id == row.id))
        return _group_data(row, int(used or 0))


def list_groups(uow: UnitOfWork, query: ListQuery) -> Page[VlanGroupData]:
    with uow as tx:
        rows, total = repository.list_page(tx.session, "vlanGroup", query)
        return Page(items=[_group_data(row) for row in rows], total=total, offset=query.offset, limit=query.limit)


def delete_group(uow: UnitOfWork, group_id: str) -> None:
    with uow as tx:
        row = _group(tx.session, group_id, lock=True)
        if tx.session.execute(select(VlanRow.id).where(VlanRow.group_id == row.id).limit(1)).first():
            raise VlanGroupInUse(f"VLAN group {row.name!r} still holds VLANs: delete them first.")
        group = _group_data(row)
        tx.session.delete(row)
        tx.session.flush()
        _publish(tx.session, GROUP_DELETE_EVENT, "vlanGroup", mapping.vlan_group_json(group))
        tx.commit()


def create_vlan(uow: UnitOfWork, document: Mapping[str, Any]) -> VlanData:
    """A specific VLAN id in a group: 409 ``VLAN_TAKEN`` if in use, 400 outside the group's range."""
    with uow as tx:
        group = _group(tx.session, document["groupId"], lock=True)
        vid = int(document["vid"])
        if not group.min_vid <= vid <= group.max_vid:
            raise InvalidAllocation(f"VLAN {vid} is outside group {group.name!r} ({group.min_vid}..{group.max_vid}).")
        if tx.session.execute(select(VlanRow.id).where(VlanRow.group_id == group.id, VlanRow.vid == vid)).first():
            raise VlanTaken(f"VLAN {vid} is in use in group {group.name!r}.")
        vlan = _insert(tx.session, group, vid, document)
        tx.commit()
    return vlan


def allocate_vlan(uow: UnitOfWork, group_id: str, document: Mapping[str, Any]) -> VlanData:
    """The lowest free VLAN id of a group (409 ``POOL_EXHAUSTED`` when none is free)."""
    with uow as tx:
        group = _group(tx.session, group_id, lock=True)
        free = repository.free_vids(tx.session, group, 1)
        if not free:
            raise PoolExhausted(f"VLAN group {group.name!r} has no free VLAN id.")
        vlan = _insert(tx.session, group, free[0], document)
        tx.commit()
    return vlan


def preview_vlans(uow: UnitOfWork, group_id: str, limit: int = 10) -> list[int]:
    with uow as tx:
        return repository.free_vids(tx.session, _group(tx.session, group_id), max(0, min(limit, 1000)))


def retrieve_vlan(uow: UnitOfWork, vlan_id: str) -> VlanData:
    with uow as tx:
        return _vlan_data(_vlan(tx.session, vlan_id))


def list_vlans(uow: UnitOfWork, query: ListQuery) -> Page[VlanData]:
    with uow as tx:
        rows, total = repository.list_page(tx.session, "vlan", query)
        return Page(items=[_vlan_data(row) for row in rows], total=total, offset=query.offset, limit=query.limit)


def delete_vlan(uow: UnitOfWork, vlan_id: str) -> None:
    with uow as tx:
        row = _vlan(tx.session, vlan_id)
        _group(tx.session, row.group_id, lock=True)
        vlan = _vlan_data(row)
        tx.session.delete(row)
        tx.session.flush()
        resource_inventory.delete_resource_in(tx.session, vlan.id, acting_context=CONTEXT)
        _publish(tx.session, VLAN_DELETE_EVENT, "vlan", mapping.vlan_json(vlan))
        tx.commit()


def _insert(session: Session, group: VlanGroupRow, vid: int, document: Mapping[str, Any]) -> VlanData:
    now = clock.now()
    row = VlanRow(
        id=new_id(),
        group_id=group.id,
        vid=vid,
        name=document.get("name"),
        status=str(document.get("status", "active")),
        interface_id=document.get("interfaceId"),
        service_id=document.get("serviceId"),
        description=document.get("description"),
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    vlan = _vlan_data(row)
    resource_inventory.create_resource_in(
        session, mapping.vlan_resource(vlan, group.name), acting_context=CONTEXT, resource_id=row.id
    )
    _publish(session, VLAN_CREATE_EVENT, "vlan", mapping.vlan_json(vlan))
    return vlan


def _group(session: Session, group_id: str, *, lock: bool = False) -> VlanGroupRow:
    row = session.get(VlanGroupRow, group_id, with_for_update=lock)
    if row is None:
        raise VlanGroupNotFound(f"No VLAN group with id {group_id!r}.")
    return row


def _vlan(session: Session, vlan_id: str) -> VlanRow:
    row = session.get(VlanRow, vlan_id)
    if row is None:
        raise VlanNotFound(f"No VLAN with id {vlan_id!r}.")
    return row


def _group_data(row: Any, used: int | None = None) -> VlanGroupData:
    return VlanGroupData(row.id, row.name, row.min_vid, row.max_vid, row.description, row.created_at, used)


def _vlan_data(row: Any) -> VlanData:
    return VlanData(
        id=row.id,
        group_id=row.group_id,
        vid=row.vid,
        name=row.name,
        status=row.status,
        interface_id=row.interface_id,
        service_id=row.service_id,
        description=row.description,
        created_at=row.created_at,
    )


def _publish(session: Session, event_type: str, key: str, entity: dict[str, Any]) -> None:
    events.publish(session, api=API, event_type=event_type, resource=entity, payload_key=key)
