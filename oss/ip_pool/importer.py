"""``provisio ip import FILE.csv``: prefixes, addresses and VLANs from a spreadsheet, through the kernel's
set-wise write path (``common.bulk``): per batch one multi-row INSERT of the addresses with their audit
records, TMF639 rows and events, exactly what the row-by-row API writes.

Columns (header row required; unknown columns are an error, missing optional ones are empty)::

    kind,value,vrf,status,role,dnsName,interfaceId,serviceId,description,group

- ``prefix``: ``value`` a CIDR (``192.0.2.0/24``), in the VRF named ``vrf`` (empty: the global table);
  written one by one (the hierarchy is recomputed for each), before the addresses of the file;
- ``address``: ``value`` an address with its mask (``192.0.2.7/24``); it must lie in a prefix of its VRF;
- ``vlan``: ``value`` a VLAN id, in the VLAN group named ``group`` (created if missing, 1..4094).

A line already there (same prefix, same address, same VLAN) is unchanged, so a re-run changes nothing; a
line that cannot be imported is reported with its number and reason and the others go on. Addresses are
sorted per batch and carved out of the free blocks of their prefixes in memory (``domain.FreeSpace``), so a
batch costs a few statements, not one per address.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from common import bulk, clock
from common.errors import ProvisioError
from common.orm import new_id
from common.uow import UnitOfWork
from oss import resource_inventory
from oss.ip_pool import domain, mapping, repository, service
from oss.ip_pool.domain import Block, key, unkey
from oss.ip_pool.models import IpAddressRow, IpFreeBlockRow, IpPrefixRow, VlanGroupRow, VlanRow, VrfRow

COLUMNS = ("kind", "value", "vrf", "status", "role", "dnsName", "interfaceId", "serviceId", "description", "group")
KINDS = ("prefix", "address", "vlan")


class ImportFileError(Exception):
    """The file cannot be read at all (no header, unknown columns)."""


@dataclass(frozen=True)
class LineError:
    line: int
    reason: str


@dataclass
class ImportSummary:
    lines: int = 0
    created: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    unchanged: int = 0
    errors: list[LineError] = field(default_factory=list)


@dataclass(frozen=True)
class Line:
    number: int
    fields: dict[str, str]

    def get(self, name: str) -> str | None:
        return self.fields.get(name) or None


def read_lines(path: Path) -> Iterator[Line]:
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        if not reader.fieldnames:
            raise ImportFileError(f"{path} has no header row ({','.join(COLUMNS)}).")
        unknown = sorted(set(reader.fieldnames) - set(COLUMNS))
        if unknown or "kind" not in reader.fieldnames or "value" not in reader.fieldnames:
            raise ImportFileError(
                f"{path}: the columns are {','.join(COLUMNS)} (kind and value required); not {unknown}."
            )
        for number, row in enumerate(reader, start=2):
            yield Line(number, {name: (value or "").strip() for name, value in row.items() if name})


def count_rows(path: Path) -> int:
    with path.open(encoding="utf-8") as handle:
        return max(0, sum(1 for _ in handle) - 1)


def import_file(
    uow_factory: Callable[[], UnitOfWork],
    path: Path,
    *,
    batch_size: int = bulk.DEFAULT_BATCH_SIZE,
    progress: Callable[[int], None] = lambda _n: None,
) -> ImportSummary:
    """Import ``path``: prefixes first (one transaction each), then VLANs and addresses in batches."""
    summary = ImportSummary()
    lines = list(read_lines(path))
    summary.lines = len(lines)
    by_kind: dict[str, list[Line]] = defaultdict(list)
    for line in lines:
        kind = line.fields.get("kind", "")
        if kind not in KINDS:
            summary.errors.append(LineError(line.number, f"kind must be one of {', '.join(KINDS)}, not {kind!r}"))
            progress(1)
            continue
        by_kind[kind].append(line)
    for line in sorted(by_kind["prefix"], key=lambda item: _prefix_order(item)):
        _import_prefix(uow_factory(), line, summary)
        progress(1)
    for batch in bulk.batches(by_kind["vlan"], batch_size):
        with uow_factory() as tx:
            _import_vlans(tx.session, batch, summary)
            tx.commit()
        progress(len(batch))
    for batch in bulk.batches(by_kind["address"], batch_size):
        with uow_factory() as tx:
            _import_addresses(tx.session, batch, summary)
            tx.commit()
        progress(len(batch))
    summary.errors.sort(key=lambda error: error.line)
    return summary


def _prefix_order(line: Line) -> tuple[int, int]:
    try:
        net = domain.network(line.fields.get("value", ""))
    except ProvisioError:
        return (0, 0)
    return (net.prefixlen, int(net.network))  # parents before children: no re-parenting work


def _vrf_key(session: Session, name: str | None, cache: dict[str | None, tuple[str | None, str, bool]]) -> Any:
    if name not in cache:
        if name is None:
            cache[name] = (None, service.GLOBAL, True)
        else:
            row = repository.vrf_by_name(session, name)
            if row is None:
                raise ProvisioError(f"no VRF named {name!r}")
            cache[name] = (row.id, row.id, bool(row.enforce_unique))
    return cache[name]


def _import_prefix(uow: UnitOfWork, line: Line, summary: ImportSummary) -> None:
    try:
        with uow as tx:
            vrf_id, vrf_key, enforce = _vrf_key(tx.session, line.get("vrf"), {})
            block = domain.block_of(domain.network(line.fields["value"]))
            if repository.same_prefix(tx.session, vrf_key, block) is not None:
                summary.unchanged += 1
                return
            service.create_prefix_in(
                tx.session,
                block,
                vrf_id=vrf_id,
                vrf_key=vrf_key,
                enforce=enforce,
                status=line.get("status") or "active",
                description=line.get("description"),
            )
            tx.commit()
        summary.created["prefix"] += 1
    except ProvisioError as error:
        summary.errors.append(LineError(line.number, error.message))


def _import_vlans(session: Session, lines: list[Line], summary: ImportSummary) -> None:
    groups: dict[str, VlanGroupRow] = {}
    wanted: list[tuple[Line, VlanGroupRow, int]] = []
    for line in lines:
        name = line.get("group")
        try:
            vid = int(line.fields["value"])
        except ValueError:
            summary.errors.append(LineError(line.number, f"a VLAN id is a number, not {line.fields['value']!r}"))
            continue
        if not name:
            summary.errors.append(LineError(line.number, "a VLAN needs its group"))
            continue
        if name not in groups:
            found = session.execute(select(VlanGroupRow).where(VlanGroupRow.name == name)).scalars().first()
            if found is None:
                from oss.ip_pool import vlan

                created = vlan.create_group_in(session, {"name": name})
                found = session.get(VlanGroupRow, created.id)
            assert found is not None
            groups[name] = found
        group = groups[name]
        if not group.min_vid <= vid <= group.max_vid:
            summary.errors.append(LineError(line.number, f"VLAN {vid} is outside {group.min_vid}..{group.max_vid}"))
            continue
        wanted.append((line, group, vid))
    taken = {
        (group_id, vid)
        for group_id, vid in session.execute(
            select(VlanRow.group_id, VlanRow.vid).where(VlanRow.group_id.in_([g.id for g in groups.values()]))
        )
    }
    rows, names = [], []
    now = clock.now()
    for line, group, vid in wanted:
        if (group.id, vid) in taken:
            summary.unchanged += 1
            continue
        taken.add((group.id, vid))
        rows.append(
            {
                "id": new_id(),
                "group_id": group.id,
                "vid": vid,
                "name": line.get("description"),
                "status": line.get("status") or "active",
                "interface_id": line.get("interfaceId"),
                "service_id": line.get("serviceId"),
                "description": line.get("description"),
                "created_at": now,
                "updated_at": now,
            }
        )
        names.append(group.name)
    group_names = dict(zip([row["id"] for row in rows], names, strict=True))
    bulk.bulk_insert(
        session,
        VlanRow,
        rows,
        api=service.API,
        event_type="VlanCreateEvent",
        payload_key="vlan",
        to_event=lambda row: mapping.vlan_json(_Obj(row)),
        tmf639=lambda s, done: resource_inventory.bulk_create_resources(
            s,
            [mapping.vlan_resource(_Obj(row), group_names[row["id"]]) for row in done],
            acting_context=service.CONTEXT,
            resource_ids=[row["id"] for row in done],
        ),
    )
    summary.created["vlan"] += len(rows)


class _Obj:
    """A completed row (a dict of column values) read as the mapping functions read dataclasses."""

    def __init__(self, row: dict[str, Any]) -> None:
        self.__dict__.update(row)

    def __getattr__(self, name: str) -> Any:
        return None


def _import_addresses(session: Session, lines: list[Line], summary: ImportSummary) -> None:
    parsed: dict[tuple[str, int], list[tuple[Line, int, int, str | None, bool]]] = defaultdict(list)
    vrfs: dict[str | None, tuple[str | None, str, bool]] = {}
    for line in lines:
        try:
            vrf_id, vrf_key, enforce = _vrf_key(session, line.get("vrf"), vrfs)
            ip, mask = domain.address(line.fields["value"])
        except ProvisioError as error:
            summary.errors.append(LineError(line.number, error.message))
            continue
        parsed[(vrf_key, ip.version)].append((line, int(ip), mask, vrf_id, enforce))
    rows: list[dict[str, Any]] = []
    now = clock.now()
    for (vrf_key, family), items in parsed.items():
        items.sort(key=lambda item: item[1])
        bits = domain.bits_of(family)
        low, high = items[0][1], items[-1][1]
        prefixes = list(
            session.execute(
                select(IpPrefixRow)
                .where(
                    IpPrefixRow.vrf_key == vrf_key,
                    IpPrefixRow.family == family,
                    IpPrefixRow.start_key <= key(high),
                    IpPrefixRow.end_key >= key(low),
                )
                .order_by(IpPrefixRow.length.desc())
            ).scalars()
        )
        existing = set(
            session.execute(
                select(IpAddressRow.value_key).where(
                    IpAddressRow.vrf_key == vrf_key,
                    IpAddressRow.family == family,
                    IpAddressRow.value_key >= key(low),
                    IpAddressRow.value_key <= key(high),
                )
            ).scalars()
        )
        spaces: dict[str, tuple[IpPrefixRow, domain.FreeSpace, set[Block]]] = {}
        for line, value, mask, vrf_id, enforce in items:
            if key(value) in existing:
                summary.unchanged += 1
                continue
            prefix = next((p for p in prefixes if unkey(p.start_key) <= value <= unkey(p.end_key)), None)
            if prefix is None:
                summary.errors.append(LineError(line.number, f"{line.fields['value']} is in no prefix of its VRF"))
                continue
            if prefix.id not in spaces:
                repository.lock_prefix(session, prefix.id)
                whole = Block(unkey(prefix.start_key), prefix.length, bits)
                lo, hi = max(low, whole.start), min(high, whole.end)
                original = {
                    Block(unkey(start), length, bits)
                    for start, length in session.execute(
                        select(IpFreeBlockRow.start_key, IpFreeBlockRow.length).where(
                            IpFreeBlockRow.prefix_id == prefix.id,
                            IpFreeBlockRow.end_key >= key(lo),
                            IpFreeBlockRow.start_key <= key(hi),
                        )
                    )
                }
                spaces[prefix.id] = (prefix, domain.FreeSpace(original), set(original))
            _prefix, space, _original = spaces[prefix.id]
            if not space.take(Block(value, bits, bits)):
                summary.errors.append(LineError(line.number, f"{line.fields['value']} is in use (a child prefix?)"))
                continue
            existing.add(key(value))
            rows.append(
                {
                    "id": new_id(),
                    "vrf_id": vrf_id,
                    "vrf_key": vrf_key,
                    "enforce_unique": enforce,
                    "family": family,
                    "address": f"{domain.format_address(value, family)}/{mask}",
                    "value_key": key(value),
                    "mask_length": mask,
                    "prefix_id": prefix.id,
                    "status": line.get("status") or "active",
                    "role": line.get("role"),
                    "dns_name": line.get("dnsName"),
                    "interface_id": line.get("interfaceId"),
                    "service_id": line.get("serviceId"),
                    "reservation_id": None,
                    "description": line.get("description"),
                    "created_at": now,
                    "updated_at": now,
                }
            )
        for prefix_id, (_prefix, space, original) in spaces.items():
            gone, added = original - space.blocks, space.blocks - original
            if gone:
                session.execute(
                    delete(IpFreeBlockRow).where(
                        IpFreeBlockRow.prefix_id == prefix_id,
                        IpFreeBlockRow.start_key.in_([key(b.start) for b in gone]),
                    )
                )
            repository.insert_blocks(session, prefix_id, sorted(added))
    bulk.bulk_insert(
        session,
        IpAddressRow,
        rows,
        api=service.API,
        event_type=service.ADDRESS_CREATE_EVENT,
        payload_key="ipAddress",
        to_event=lambda row: mapping.address_json(_address(row)),
        tmf639=lambda s, done: resource_inventory.bulk_create_resources(
            s,
            [mapping.address_resource(_address(row)) for row in done],
            acting_context=service.CONTEXT,
            resource_ids=[row["id"] for row in done],
        ),
    )
    summary.created["address"] += len(rows)


def _address(row: dict[str, Any]) -> service.AddressData:
    return service.AddressData(
        id=row["id"],
        address=row["address"],
        family=row["family"],
        vrf_id=row["vrf_id"],
        prefix_id=row["prefix_id"],
        status=row["status"],
        role=row["role"],
        dns_name=row["dns_name"],
        interface_id=row["interface_id"],
        service_id=row["service_id"],
        reservation_id=None,
        description=row["description"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


__all__ = ["ImportFileError", "ImportSummary", "LineError", "count_rows", "import_file", "read_lines"]
del Iterable, VrfRow
