"""The number pool tables: pools, blocks (ranges), free chunks, touched numbers and their history.

A block of 10 million numbers is one ``number_block`` row and a few dozen ``number_chunk`` rows (its free
space, cut so that concurrent holds spread over several rows). A number gets a ``telephone_number`` row
the first time it leaves ``available``; until then it exists only as part of a chunk.

Numbers are stored as the integer of their E.164 digits (``oss.number_pool.domain``). On PostgreSQL two
exclusion constraints make the database itself refuse overlapping blocks and overlapping chunks (two
concurrent block creates cannot both pass the check and both commit); SQLite serialises writers
(``BEGIN IMMEDIATE``), so the check under the write lock is exact there.

``number_chunk`` and ``number_history`` are not ``Audited``: a chunk is bookkeeping of free space
(rewritten by every hold, its meaning is in the numbers' own audited rows) and history rows are
themselves the trail (append-only, never changed).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import DDL, BigInteger, ForeignKey, Index, Integer, String, Text, event, func, literal_column, text
from sqlalchemy.dialects.postgresql import ExcludeConstraint
from sqlalchemy.orm import Mapped, mapped_column

from common.audit import Audited
from common.orm import Base, JSONType, UTCDateTime, id_column_type, new_id

_BIG_ID = BigInteger().with_variant(Integer(), "sqlite")  # SQLite autoincrements INTEGER PRIMARY KEY only

BLOCK_OVERLAP_CONSTRAINT = "ex_number_block_span"
CHUNK_OVERLAP_CONSTRAINT = "ex_number_chunk_span"
NUMBER_UNIQUE_CONSTRAINT = "uq_telephone_number_digits"
POOL_NAME_CONSTRAINT = "uq_number_pool_name"
TAKEN_DIGITS_TRIGRAM_INDEX = "ix_telephone_number_taken_trgm"


def _span_exclusion(name: str) -> ExcludeConstraint:
    constraint = ExcludeConstraint(
        (func.int8range(literal_column("first_digits"), literal_column("last_digits"), text("'[]'")), "&&"),
        name=name,
        using="gist",
    )
    return constraint.ddl_if(dialect="postgresql")


class NumberPoolRow(Audited, Base):
    __tablename__ = "number_pool"
    __audit_entity_type__ = "numberPool"

    id: Mapped[str] = mapped_column(id_column_type(), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    region: Mapped[str | None] = mapped_column(String(3))
    number_type: Mapped[str | None] = mapped_column(String(32))
    aging_days: Mapped[int] = mapped_column(Integer, default=90)
    category_rules: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    row_version: Mapped[int] = mapped_column(Integer, server_default=text("1"))

    __mapper_args__ = {"version_id_col": row_version}


class NumberBlockRow(Audited, Base):
    __tablename__ = "number_block"
    __audit_entity_type__ = "numberBlock"
    __table_args__ = (
        Index("ix_number_block_pool_first", "pool_id", "first_digits"),
        _span_exclusion(BLOCK_OVERLAP_CONSTRAINT),
    )

    id: Mapped[str] = mapped_column(id_column_type(), primary_key=True, default=new_id)
    pool_id: Mapped[str] = mapped_column(ForeignKey("number_pool.id", ondelete="RESTRICT"))
    first_digits: Mapped[int] = mapped_column(BigInteger, unique=True)
    last_digits: Mapped[int] = mapped_column(BigInteger, unique=True)
    size: Mapped[int] = mapped_column(BigInteger)
    country_code: Mapped[int] = mapped_column(Integer)
    digit_count: Mapped[int] = mapped_column(Integer)
    national_prefix: Mapped[str] = mapped_column(String(8), default="")
    region: Mapped[str | None] = mapped_column(String(3))
    number_type: Mapped[str | None] = mapped_column(String(32))
    max_chunk_size: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class NumberChunkRow(Base):
    """A free interval of one block: every number in it is available."""

    __tablename__ = "number_chunk"
    __table_args__ = (
        Index("ix_number_chunk_pool_first", "pool_id", "first_digits"),
        _span_exclusion(CHUNK_OVERLAP_CONSTRAINT),
    )

    id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True, autoincrement=True)
    pool_id: Mapped[str] = mapped_column(ForeignKey("number_pool.id", ondelete="CASCADE"))
    block_id: Mapped[str] = mapped_column(ForeignKey("number_block.id", ondelete="CASCADE"), index=True)
    first_digits: Mapped[int] = mapped_column(BigInteger, unique=True)
    last_digits: Mapped[int] = mapped_column(BigInteger, unique=True)


class TelephoneNumberRow(Audited, Base):
    """A number that has left ``available`` at least once (its id is also its TMF639 resource id)."""

    __tablename__ = "telephone_number"
    __audit_entity_type__ = "telephoneNumber"
    __table_args__ = (
        Index("ix_telephone_number_pool_state_digits", "pool_id", "state", "digits"),
        Index("ix_telephone_number_state_aging_until", "state", "aging_until"),
        Index("ix_telephone_number_state_hold_until", "state", "hold_until"),
        # The pattern search's count of matching numbers out of the free space (``*777*`` is LIKE '%777%'):
        # trigrams make it an index lookup instead of a scan of every touched number (issue 16: 777 ms with
        # 1M touched). Partial, so the index holds exactly the rows that count reads.
        Index(
            TAKEN_DIGITS_TRIGRAM_INDEX,
            "national",
            "value",
            postgresql_using="gin",
            postgresql_ops={"national": "gin_trgm_ops", "value": "gin_trgm_ops"},
            postgresql_where=text("state <> 'available'"),
        ).ddl_if(dialect="postgresql"),
    )

    id: Mapped[str] = mapped_column(id_column_type(), primary_key=True, default=new_id)
    digits: Mapped[int] = mapped_column(BigInteger, unique=True)
    value: Mapped[str] = mapped_column(String(16))  # "+442079460123"
    national: Mapped[str] = mapped_column(String(24), index=True)  # "02079460123", what patterns match
    pool_id: Mapped[str] = mapped_column(ForeignKey("number_pool.id", ondelete="RESTRICT"))
    block_id: Mapped[str] = mapped_column(ForeignKey("number_block.id", ondelete="RESTRICT"))
    state: Mapped[str] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(16), index=True)
    customer_id: Mapped[str | None] = mapped_column(String(128), index=True)
    service_id: Mapped[str | None] = mapped_column(String(128), index=True)
    product_id: Mapped[str | None] = mapped_column(String(128))
    reservation_id: Mapped[str | None] = mapped_column(String(64), index=True)
    reservation_item_id: Mapped[str | None] = mapped_column(String(64))
    order_item_id: Mapped[str | None] = mapped_column(String(128))
    hold_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    aging_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    was_assigned: Mapped[bool] = mapped_column(default=False)  # a released hold goes through aging if so
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    row_version: Mapped[int] = mapped_column(Integer, server_default=text("1"))

    __mapper_args__ = {"version_id_col": row_version}


class NumberHistoryRow(Base):
    """One transition of one number: when, from, to, who, for which reservation or order item, why."""

    __tablename__ = "number_history"
    __table_args__ = (Index("ix_number_history_number_id_id", "number_id", "id"),)

    id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True, autoincrement=True)
    number_id: Mapped[str] = mapped_column(ForeignKey("telephone_number.id", ondelete="CASCADE"))
    value: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    from_state: Mapped[str] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str | None] = mapped_column(String(128))
    reservation_id: Mapped[str | None] = mapped_column(String(64))
    order_item_id: Mapped[str | None] = mapped_column(String(128))
    reason: Mapped[str | None] = mapped_column(String(255))


# gin_trgm_ops needs pg_trgm (a trusted extension: the database owner may create it). The migration creates
# it too; this covers schemas built from the models (the test fixtures).
event.listen(
    TelephoneNumberRow.__table__,
    "before_create",
    DDL("CREATE EXTENSION IF NOT EXISTS pg_trgm").execute_if(dialect="postgresql"),  # type: ignore[no-untyped-call]
)
