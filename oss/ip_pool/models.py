"""The IPAM tables: VRFs, prefixes (with their computed parent and depth), pools, addresses, VLAN groups and
VLANs, and the free space of each prefix as aligned CIDR blocks (``ip_free_block``, the buddy allocator).

Addresses and bounds are stored as fixed-width hex strings (``domain.key``: 32 digits, both families) so
that one btree index orders IPv4 and IPv6 the same way on SQLite and PostgreSQL.

Uniqueness in a VRF that does not allow overlapping space: rows carry ``vrf_key`` (the VRF id, or ``""``
for the global table, never NULL) and a copy of the VRF's ``enforce_unique`` flag, and a *partial* unique
index on ``(vrf_key, family, start)`` where the flag is set refuses a duplicate even when two transactions
race; the global table does not escape it as a NULL would.

``ip_free_block`` is not ``Audited``: it is bookkeeping of free space, rewritten by every allocation; its
meaning is in the audited prefix and address rows.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from common.audit import Audited
from common.orm import Base, JSONType, UTCDateTime, id_column_type, new_id

_BIG_ID = BigInteger().with_variant(Integer(), "sqlite")

KEY = String(32)
PREFIX_UNIQUE_INDEX = "uq_ip_prefix_vrf_span"
ADDRESS_UNIQUE_INDEX = "uq_ip_address_vrf_value"
FREE_BLOCK_UNIQUE = "uq_ip_free_block_prefix_start"
VRF_NAME_CONSTRAINT = "uq_ip_vrf_name"
POOL_NAME_CONSTRAINT = "uq_ip_pool_name"
POOL_PREFIX_CONSTRAINT = "uq_ip_pool_prefix_id"
VLAN_UNIQUE_CONSTRAINT = "uq_vlan_group_vid"
VLAN_GROUP_NAME_CONSTRAINT = "uq_vlan_group_name"


class VrfRow(Audited, Base):
    __tablename__ = "ip_vrf"
    __audit_entity_type__ = "vrf"
    __table_args__ = (UniqueConstraint("name", name=VRF_NAME_CONSTRAINT),)

    id: Mapped[str] = mapped_column(id_column_type(), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(128))
    rd: Mapped[str | None] = mapped_column(String(64))
    import_targets: Mapped[list[str]] = mapped_column(JSONType, default=list)
    export_targets: Mapped[list[str]] = mapped_column(JSONType, default=list)
    enforce_unique: Mapped[bool] = mapped_column(Boolean, default=True)
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class IpPrefixRow(Audited, Base):
    __tablename__ = "ip_prefix"
    __audit_entity_type__ = "ipPrefix"
    __table_args__ = (
        Index(
            PREFIX_UNIQUE_INDEX,
            "vrf_key",
            "family",
            "start_key",
            "length",
            unique=True,
            postgresql_where=text("enforce_unique"),
            sqlite_where=text("enforce_unique"),
        ),
        Index("ix_ip_prefix_vrf_span", "vrf_key", "family", "start_key", "end_key"),
    )

    id: Mapped[str] = mapped_column(id_column_type(), primary_key=True, default=new_id)
    vrf_id: Mapped[str | None] = mapped_column(ForeignKey("ip_vrf.id", ondelete="RESTRICT"))
    vrf_key: Mapped[str] = mapped_column(String(64))
    enforce_unique: Mapped[bool] = mapped_column(Boolean)
    family: Mapped[int] = mapped_column(Integer)
    prefix: Mapped[str] = mapped_column(String(64))
    start_key: Mapped[str] = mapped_column(KEY)
    end_key: Mapped[str] = mapped_column(KEY)
    length: Mapped[int] = mapped_column(Integer)
    # Computed, not a foreign key: a self-reference would make emptying the table order-dependent, and the
    # service keeps it right under the parent's lock (a prefix with children is deleted only with them).
    parent_id: Mapped[str | None] = mapped_column(String(64), index=True)
    depth: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16))
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class IpPoolRow(Audited, Base):
    """A prefix marked for allocation, with a reserved head and tail (a gateway) addresses never handed out."""

    __tablename__ = "ip_pool"
    __audit_entity_type__ = "ipPool"
    __table_args__ = (
        UniqueConstraint("name", name=POOL_NAME_CONSTRAINT),
        UniqueConstraint("prefix_id", name=POOL_PREFIX_CONSTRAINT),
    )

    id: Mapped[str] = mapped_column(id_column_type(), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(128))
    prefix_id: Mapped[str] = mapped_column(ForeignKey("ip_prefix.id", ondelete="RESTRICT"))
    reserved_head: Mapped[int] = mapped_column(Integer, default=0)
    reserved_tail: Mapped[int] = mapped_column(Integer, default=0)
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class IpAddressRow(Audited, Base):
    """An address in use (its id is also its TMF639 resource id)."""

    __tablename__ = "ip_address"
    __audit_entity_type__ = "ipAddress"
    __table_args__ = (
        Index(
            ADDRESS_UNIQUE_INDEX,
            "vrf_key",
            "family",
            "value_key",
            unique=True,
            postgresql_where=text("enforce_unique"),
            sqlite_where=text("enforce_unique"),
        ),
        Index("ix_ip_address_prefix_value", "prefix_id", "value_key"),
    )

    id: Mapped[str] = mapped_column(id_column_type(), primary_key=True, default=new_id)
    vrf_id: Mapped[str | None] = mapped_column(ForeignKey("ip_vrf.id", ondelete="RESTRICT"))
    vrf_key: Mapped[str] = mapped_column(String(64))
    enforce_unique: Mapped[bool] = mapped_column(Boolean)
    family: Mapped[int] = mapped_column(Integer)
    address: Mapped[str] = mapped_column(String(64))  # "192.0.2.7/24" as assigned (mask of the interface)
    value_key: Mapped[str] = mapped_column(KEY)
    mask_length: Mapped[int] = mapped_column(Integer)
    prefix_id: Mapped[str] = mapped_column(ForeignKey("ip_prefix.id", ondelete="RESTRICT"))
    status: Mapped[str] = mapped_column(String(16))
    role: Mapped[str | None] = mapped_column(String(16))
    dns_name: Mapped[str | None] = mapped_column(String(255))
    interface_id: Mapped[str | None] = mapped_column(String(128), index=True)
    service_id: Mapped[str | None] = mapped_column(String(128), index=True)
    reservation_id: Mapped[str | None] = mapped_column(String(64), index=True)
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class IpFreeBlockRow(Base):
    """A free aligned CIDR block of one prefix: no child prefix and no address of the prefix is in it."""

    __tablename__ = "ip_free_block"
    __table_args__ = (
        UniqueConstraint("prefix_id", "start_key", name=FREE_BLOCK_UNIQUE),
        Index("ix_ip_free_block_prefix_length_start", "prefix_id", "length", "start_key"),
    )

    id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True, autoincrement=True)
    prefix_id: Mapped[str] = mapped_column(ForeignKey("ip_prefix.id", ondelete="CASCADE"))
    length: Mapped[int] = mapped_column(Integer)
    start_key: Mapped[str] = mapped_column(KEY)
    end_key: Mapped[str] = mapped_column(KEY)


class VlanGroupRow(Audited, Base):
    """A VLAN id space (a site, a switch stack): VLANs are unique per group, ``min_vid``..``max_vid``."""

    __tablename__ = "vlan_group"
    __audit_entity_type__ = "vlanGroup"
    __table_args__ = (UniqueConstraint("name", name=VLAN_GROUP_NAME_CONSTRAINT),)

    id: Mapped[str] = mapped_column(id_column_type(), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(128))
    min_vid: Mapped[int] = mapped_column(Integer, default=1)
    max_vid: Mapped[int] = mapped_column(Integer, default=4094)
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class VlanRow(Audited, Base):
    """A VLAN in use (its id is also its TMF639 resource id, ``@type`` Vlan)."""

    __tablename__ = "vlan"
    __audit_entity_type__ = "vlan"
    __table_args__ = (UniqueConstraint("group_id", "vid", name=VLAN_UNIQUE_CONSTRAINT),)

    id: Mapped[str] = mapped_column(id_column_type(), primary_key=True, default=new_id)
    group_id: Mapped[str] = mapped_column(ForeignKey("vlan_group.id", ondelete="RESTRICT"))
    vid: Mapped[int] = mapped_column(Integer)
    name: Mapped[str | None] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16))
    interface_id: Mapped[str | None] = mapped_column(String(128), index=True)
    service_id: Mapped[str | None] = mapped_column(String(128), index=True)
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
