"""The porting tables: port-in and port-out requests, and the numbers each one names.

One table for both directions (``direction`` ``in``/``out``): the two resources of the API share their
lifecycle shape (requested -> confirmed | rejected | cancelled -> ... -> completed) and their columns;
``operator`` is the donor of a port-in and the recipient of a port-out.

``number_port_request_number`` is the index of a request's numbers (the request row keeps them as its
``numbers`` list too, so the request's audit record shows them): it answers "which request names this
number" and, through a partial unique index on the numbers of open requests, makes the database refuse
two open requests for one number even when two creates race. It is not ``Audited``: it is written once
with the audited request row and says nothing that row does not.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from common.audit import Audited
from common.orm import Base, JSONType, UTCDateTime, id_column_type, new_id

OPEN_NUMBER_CONSTRAINT = "uq_number_port_request_number_open"
_BIG_ID = BigInteger().with_variant(Integer(), "sqlite")


class PortRequestRow(Audited, Base):
    __tablename__ = "number_port_request"
    __audit_entity_type__ = "portRequest"
    __table_args__ = (Index("ix_number_port_request_direction_state", "direction", "state"),)

    id: Mapped[str] = mapped_column(id_column_type(), primary_key=True, default=new_id)
    direction: Mapped[str] = mapped_column(String(3))  # "in" | "out"
    state: Mapped[str] = mapped_column(String(16))
    operator: Mapped[str] = mapped_column(String(128), index=True)  # donor (in) / recipient (out)
    numbers: Mapped[list[str]] = mapped_column(JSONType, default=list)
    pool_id: Mapped[str | None] = mapped_column(ForeignKey("number_pool.id", ondelete="RESTRICT"))
    customer_id: Mapped[str | None] = mapped_column(String(128), index=True)
    service_id: Mapped[str | None] = mapped_column(String(128))
    product_id: Mapped[str | None] = mapped_column(String(128))
    authorisation_reference: Mapped[str | None] = mapped_column(String(128))  # letter of authorisation
    external_reference: Mapped[str | None] = mapped_column(String(128))  # the other operator's case id
    requested_port_date: Mapped[datetime] = mapped_column(UTCDateTime)
    port_date: Mapped[datetime | None] = mapped_column(UTCDateTime)  # confirmed
    reason: Mapped[str | None] = mapped_column(Text)  # rejection, cancellation or failure
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ported_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    row_version: Mapped[int] = mapped_column(Integer, server_default=text("1"))

    __mapper_args__ = {"version_id_col": row_version}


class PortRequestNumberRow(Base):
    """One number of one port request; ``open`` while the request can still move it."""

    __tablename__ = "number_port_request_number"
    __table_args__ = (
        Index(
            OPEN_NUMBER_CONSTRAINT,
            "digits",
            unique=True,
            sqlite_where=text("open = 1"),
            postgresql_where=text("open"),
        ),
        Index("ix_number_port_request_number_digits", "digits"),
    )

    id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True, autoincrement=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("number_port_request.id", ondelete="CASCADE"), index=True)
    digits: Mapped[int] = mapped_column(BigInteger)
    value: Mapped[str] = mapped_column(String(16))
    open: Mapped[bool] = mapped_column(Boolean, default=True)
