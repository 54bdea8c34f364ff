"""Number porting (MNP/LNP): port-in and port-out requests, their lifecycle, and the port date as a
durable step of the kernel (``common.steps``), not something someone has to remember.

Port-in (a number arrives from a donor operator)::

    requested --confirm--> confirmed --(port date: step numbers.portIn)--> ported --(step
    numbers.portIn.assign)--> completed
    requested --reject (the donor's reason)--> rejected;  requested|confirmed --cancel--> cancelled

On the port date the numbers become ``portedIn`` (a number that is in none of our blocks gets a block of
its own in the request's pool: from then on it is part of our stock), then ``assigned`` to the request's
customer and service. Port-out (a number leaves to a recipient operator)::

    requested --confirm--> confirmed --(port date: step numbers.portOut)--> completed

and on the port date the numbers become ``portedOut``, released from their customer and service.

Confirming schedules the step with ``due_at`` = the port date in the confirming transaction (so the step
exists if and only if the confirmation committed); moving the date reschedules it; cancelling cancels it.
A step re-checks the request under its row lock (the kernel runs a step at least once) and records its
completion in the same transaction as its writes. When the numbers can no longer move (someone assigned
a number meanwhile) the request ends ``failed`` with the reason, nothing of it applied.

Every change of a request writes its audited row and a ``PortInRequestStateChangeEvent`` /
``PortOutRequestStateChangeEvent`` of the number inventory API; the numbers' own changes go through the
number lifecycle (history, TMF639 row, events) of ``oss.number_pool.service``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Row, Table, exists, func, select, update
from sqlalchemy.orm import Session

from common import clock, events, request_context, steps, tmf
from common.errors import Conflict, InvalidInput, NotFound, ProvisioError
from common.orm import new_id
from common.tmf import DATETIME, ListQuery, Page, column, enum_of, parse_list_query
from common.tmf.polymorphism import TypeRegistry
from common.uow import UnitOfWork
from oss.number_pool import domain, mapping
from oss.number_pool.domain import ASSIGNED, PORTED_IN, PORTED_OUT, Interval
from oss.number_pool.models import NumberBlockRow, NumberPoolRow
from oss.number_pool.porting_mapping import request_json
from oss.number_pool.porting_models import PortRequestNumberRow, PortRequestRow
from oss.number_pool.repository import Chunks, block_containing, numbers_by_digits
from oss.number_pool.service import (
    API,
    BLOCK_CREATE_EVENT,
    MAX_CHUNKS_PER_BLOCK,
    MIN_CHUNK_SIZE,
    Holder,
    _block_data,
    _change_one,
    _publish,
    _refuse_overlap,
    _transition,
)

logger = logging.getLogger(__name__)

IN, OUT = "in", "out"
REQUESTED, CONFIRMED, REJECTED, CANCELLED = "requested", "confirmed", "rejected", "cancelled"
PORTED, COMPLETED, FAILED = "ported", "completed", "failed"
PORT_IN_STATES = (REQUESTED, CONFIRMED, REJECTED, CANCELLED, PORTED, COMPLETED, FAILED)
PORT_OUT_STATES = (REQUESTED, CONFIRMED, REJECTED, CANCELLED, COMPLETED, FAILED)
CLOSED = frozenset({REJECTED, CANCELLED, COMPLETED, FAILED})
# What a client (PATCH) may ask for, from which states; ported/completed/failed are the steps' to set.
CLIENT_MOVES: Mapping[str, frozenset[str]] = {
    REQUESTED: frozenset({CONFIRMED, REJECTED, CANCELLED}),
    CONFIRMED: frozenset({CONFIRMED, CANCELLED}),  # confirmed again: a new port date
}
MAX_NUMBERS = 1000
ACTOR = "system:porting"

PORT_IN_STEP = "numbers.portIn"
PORT_IN_ASSIGN_STEP = "numbers.portIn.assign"
PORT_OUT_STEP = "numbers.portOut"

PORT_IN_CREATE_EVENT = "PortInRequestCreateEvent"
PORT_IN_STATE_EVENT = "PortInRequestStateChangeEvent"
PORT_OUT_CREATE_EVENT = "PortOutRequestCreateEvent"
PORT_OUT_STATE_EVENT = "PortOutRequestStateChangeEvent"


class NumberNotPortable(Conflict):
    """A number that cannot be ported in that direction from its current state (``details.currentState``)."""

    code = "NUMBER_NOT_PORTABLE"


class NumberInOpenPortRequest(Conflict):
    code = "NUMBER_IN_OPEN_PORT_REQUEST"


class NumberNotOfCustomer(Conflict):
    code = "NUMBER_NOT_OF_CUSTOMER"


class InvalidPortTransition(Conflict):
    """A state the request cannot move to from its current one (``details.currentState``)."""

    code = "INVALID_PORT_REQUEST_TRANSITION"


class InvalidPortRequest(InvalidInput):
    code = "INVALID_PORT_REQUEST"


class PortRequestNotFound(NotFound):
    code = "PORT_REQUEST_NOT_FOUND"


# ------------------------------------------------------------------------------------------- queries

SPEC = Path(__file__).resolve().parents[2] / "openapi" / "number_inventory.yaml"
REQUEST: Table = PortRequestRow.__table__  # type: ignore[assignment]
REQUEST_NUMBER: Table = PortRequestNumberRow.__table__  # type: ignore[assignment]


def _query_spec(direction: str) -> tmf.QuerySpec:
    states = PORT_IN_STATES if direction == IN else PORT_OUT_STATES
    own: tuple[Any, ...] = (
        (column("donorOperator", REQUEST.c.operator), column("poolId", REQUEST.c.pool_id),
         column("authorisationReference", REQUEST.c.authorisation_reference))
        if direction == IN
        else (column("recipientOperator", REQUEST.c.operator),)
    )  # fmt: skip
    return tmf.QuerySpec(
        attributes=(
            column("id", REQUEST.c.id),
            column("state", REQUEST.c.state, enum_of(*states)),
            *own,
            column("customerId", REQUEST.c.customer_id),
            column("externalReference", REQUEST.c.external_reference),
            column("requestedPortDate", REQUEST.c.requested_port_date, DATETIME),
            column("portDate", REQUEST.c.port_date, DATETIME),
            column("createdAt", REQUEST.c.created_at, DATETIME),
            column("updatedAt", REQUEST.c.updated_at, DATETIME),
        ),
        default_order=(REQUEST.c.created_at,),
        tiebreaker=REQUEST.c.id,
        members=tmf.schema_members(SPEC, "PortInRequest" if direction == IN else "PortOutRequest"),
    )


PORT_IN_QUERY = _query_spec(IN)
PORT_OUT_QUERY = _query_spec(OUT)

# The two @types of port requests (TMF630 polymorphism), with the attributes their create schemas declare:
# a document of the other direction's @type, or naming an attribute its type does not have, is a 400.
PORT_REQUEST_TYPES = TypeRegistry("PortRequest", unknown_error=InvalidPortRequest)
for _name in ("PortInRequest", "PortOutRequest"):
    PORT_REQUEST_TYPES.register(
        _name, base_type=None, attributes=tmf.schema_members(SPEC, f"{_name}_Create").members.keys()
    )
_TYPE_OF = {IN: "PortInRequest", OUT: "PortOutRequest"}
# The lists' own parameter, beside the TMF630 filters: requests naming a number.
SEARCH_PARAMETERS = ("number",)

events.register_event_types(
    API, (PORT_IN_CREATE_EVENT, PORT_IN_STATE_EVENT, PORT_OUT_CREATE_EVENT, PORT_OUT_STATE_EVENT)
)
events.register_event_schema(API, {"portInRequest": PORT_IN_QUERY.members, "portOutRequest": PORT_OUT_QUERY.members})


# ---------------------------------------------------------------------------------------------- data


@dataclass(frozen=True)
class PortRequestData:
    id: str
    direction: str
    state: str
    operator: str
    numbers: tuple[str, ...]
    requested_port_date: datetime
    created_at: datetime
    updated_at: datetime
    pool_id: str | None = None
    customer_id: str | None = None
    service_id: str | None = None
    product_id: str | None = None
    authorisation_reference: str | None = None
    external_reference: str | None = None
    port_date: datetime | None = None
    reason: str | None = None
    confirmed_at: datetime | None = None
    ported_at: datetime | None = None
    completed_at: datetime | None = None


def _data(row: PortRequestRow | Row[Any]) -> PortRequestData:
    return PortRequestData(
        id=row.id,
        direction=row.direction,
        state=row.state,
        operator=row.operator,
        numbers=tuple(row.numbers or ()),
        requested_port_date=row.requested_port_date,
        created_at=row.created_at,
        updated_at=row.updated_at,
        pool_id=row.pool_id,
        customer_id=row.customer_id,
        service_id=row.service_id,
        product_id=row.product_id,
        authorisation_reference=row.authorisation_reference,
        external_reference=row.external_reference,
        port_date=row.port_date,
        reason=row.reason,
        confirmed_at=row.confirmed_at,
        ported_at=row.ported_at,
        completed_at=row.completed_at,
    )


# ---------------------------------------------------------------------------------------- use cases


def create_port_in(uow: UnitOfWork, document: Mapping[str, Any]) -> PortRequestData:
    """Record a port-in request: ``donorOperator``, ``number`` (E.164, 1-1000), ``authorisationReference``
    (the letter of authorisation), ``requestedPortDate``, ``poolId`` (where the numbers land), and the
    ``customerId``/``serviceId`` they are assigned to. 409 ``NUMBER_NOT_PORTABLE`` for a number that is
    already ours (only an unknown number, or one we ported out, can come in)."""
    _check_type(IN, document)
    numbers = _parse_numbers(document["number"])
    requested = _future_date(document["requestedPortDate"], "requestedPortDate")
    with uow as tx:
        pool = tx.session.get(NumberPoolRow, document["poolId"])
        if pool is None:
            raise NotFound(f"No number pool with id {document['poolId']!r}.", code="NUMBER_POOL_NOT_FOUND")
        _check_port_in(tx.session, numbers)
        row = _new_request(tx.session, IN, document["donorOperator"], numbers, requested, document, pool_id=pool.id)
        request = _data(row)
        _publish_request(tx.session, request, create=True)
        tx.commit()
    logger.info("port-in %s of %d number(s) from %s requested", request.id, len(numbers), request.operator)
    return request


def create_port_out(uow: UnitOfWork, document: Mapping[str, Any]) -> PortRequestData:
    """Record a port-out request: ``recipientOperator``, ``number``, ``requestedPortDate`` (and, when the
    recipient names the subscriber, ``customerId``: every number must be that customer's). 409
    ``NUMBER_NOT_PORTABLE`` for a number that is not in service here (assigned or ported in)."""
    _check_type(OUT, document)
    numbers = _parse_numbers(document["number"])
    requested = _future_date(document["requestedPortDate"], "requestedPortDate")
    with uow as tx:
        _check_port_out(tx.session, numbers, document.get("customerId"))
        row = _new_request(tx.session, OUT, document["recipientOperator"], numbers, requested, document)
        request = _data(row)
        _publish_request(tx.session, request, create=True)
        tx.commit()
    logger.info("port-out %s of %d number(s) to %s requested", request.id, len(numbers), request.operator)
    return request


def patch_port_request(uow: UnitOfWork, direction: str, request_id: str, patch: Mapping[str, Any]) -> PortRequestData:
    """The other operator's answer or ours: ``state`` confirmed (with the agreed ``portDate``, default the
    requested one: the port step is scheduled for it), rejected (``stateReason`` required: the donor's
    reason), cancelled (the step is cancelled); a confirmed request confirmed again with another
    ``portDate`` is rescheduled. Other moves are 409 ``INVALID_PORT_REQUEST_TRANSITION``."""
    target = patch.get("state")
    port_date = _future_date(patch["portDate"], "portDate") if patch.get("portDate") is not None else None
    with uow as tx:
        row = _request_for_update(tx.session, direction, request_id)
        if target is None and port_date is not None and row.state == CONFIRMED:
            target = CONFIRMED  # a new date for a confirmed port
        if target is None:
            raise InvalidPortRequest(
                "Give a state (confirmed, rejected, cancelled), or a new portDate for a confirmed request."
            )
        if target not in CLIENT_MOVES.get(row.state, frozenset()):
            allowed = ", ".join(sorted(CLIENT_MOVES.get(row.state, ()))) or "none"
            raise InvalidPortTransition(
                f"Port request {row.id} is {row.state}: it cannot become {target} (from {row.state}: {allowed}).",
                details={"currentState": row.state, "requestedState": target},
            )
        if port_date is not None and target != CONFIRMED:
            raise InvalidPortRequest("portDate is agreed with a confirmation (state: confirmed).")
        if target == CONFIRMED:
            _confirm(tx.session, row, port_date)
        elif target == REJECTED:
            reason = patch.get("stateReason")
            if not reason:
                raise InvalidPortRequest("A rejection needs the operator's reason (stateReason).")
            _close(tx.session, row, REJECTED, str(reason))
        else:
            _close(tx.session, row, CANCELLED, patch.get("stateReason"))
            steps.cancel_step(tx.session, _step_kind(row.direction), row.id)
        tx.session.flush()
        request = _data(row)
        _publish_request(tx.session, request)
        tx.commit()
    logger.info("port request %s is %s", request.id, request.state)
    return request


def retrieve_port_request(uow: UnitOfWork, direction: str, request_id: str) -> PortRequestData:
    with uow as tx:
        row = tx.session.get(PortRequestRow, request_id)
        if row is None or row.direction != direction:
            raise PortRequestNotFound(f"No port-{direction} request with id {request_id!r}.")
        return _data(row)


def parse_query(direction: str, query_string: str) -> ListQuery:
    return parse_list_query(query_string, PORT_IN_QUERY if direction == IN else PORT_OUT_QUERY)


def list_port_requests(
    uow: UnitOfWork, direction: str, query: ListQuery, *, number: str | None = None
) -> Page[PortRequestData]:
    """Port requests of one direction (TMF630 filters, sort, paging), optionally those naming ``number``."""
    spec = PORT_IN_QUERY if direction == IN else PORT_OUT_QUERY
    condition = tmf.where_clause(query) & (REQUEST.c.direction == direction)
    if number is not None:
        # Only the shape: a search for a number no plan has finds nothing, it is not an error.
        if not re.fullmatch(r"\+[1-9][0-9]{1,14}", number):
            raise InvalidPortRequest(f"number {number!r} is not an E.164 number (+ then up to 15 digits).")
        digits = int(number[1:])
        condition = condition & exists().where(
            REQUEST_NUMBER.c.request_id == REQUEST.c.id, REQUEST_NUMBER.c.digits == digits
        )
    with uow as tx:
        connection = tx.connection
        total = connection.scalar(select(func.count()).select_from(REQUEST).where(condition)) or 0
        if query.limit == 0 or query.offset >= total:
            return Page(items=[], total=total, offset=query.offset, limit=query.limit)
        ordering = [*tmf.order_by(query, spec)] if query.sort else [REQUEST.c.created_at, REQUEST.c.id]
        page = select(REQUEST).where(condition).order_by(*ordering).offset(query.offset).limit(query.limit)
        items = [_data(row) for row in connection.execute(page)]
        return Page(items=items, total=total, offset=query.offset, limit=query.limit)


# ----------------------------------------------------------------------------------------- checks


def _check_type(direction: str, document: Mapping[str, Any]) -> None:
    expected = _TYPE_OF[direction]
    resolved = PORT_REQUEST_TYPES.resolve(document.get("@type", expected))
    if resolved.name != expected:
        raise InvalidPortRequest(f"A port-{direction} request is a {expected}, not a {resolved.name}.")
    PORT_REQUEST_TYPES.check_attributes(resolved, document)


def _parse_numbers(values: Sequence[str]) -> list[domain.E164]:
    if not 1 <= len(values) <= MAX_NUMBERS:
        raise InvalidPortRequest(f"A port request names 1 to {MAX_NUMBERS} numbers, not {len(values)}.")
    parsed = [domain.parse_e164(value, what="number") for value in values]
    seen: set[int] = set()
    for number in parsed:
        if number.digits in seen:
            raise InvalidPortRequest(f"{number.text} is named twice.")
        seen.add(number.digits)
    return sorted(parsed, key=lambda number: number.digits)


def _future_date(raw: Any, name: str) -> datetime:
    try:
        moment = clock.parse_utc(str(raw))
    except ValueError:
        raise InvalidPortRequest(f"{name} must be an ISO 8601 date-time, not {raw!r}.") from None
    if moment < clock.now():
        raise InvalidPortRequest(f"{name} {clock.isoformat(moment)} is in the past.", code="PORT_DATE_IN_PAST")
    return moment


def _check_port_in(session: Session, numbers: Sequence[domain.E164]) -> None:
    """Only a number that is not ours (in none of our blocks) or one we ported out can come in."""
    rows = {row.digits: row for row in numbers_by_digits(session, [n.digits for n in numbers])}
    for number in numbers:
        row = rows.get(number.digits)
        if row is not None and row.state != PORTED_OUT:
            raise NumberNotPortable(
                f"{number.text} is {row.state} here: only a number of another operator (or one ported out) can be "
                "ported in.",
                details={"currentState": row.state},
            )
        if row is None and block_containing(session, number.digits) is not None:
            raise NumberNotPortable(
                f"{number.text} is in one of our blocks and available: it is ours already.",
                details={"currentState": domain.AVAILABLE},
            )
    _refuse_open_requests(session, numbers)


def _check_port_out(session: Session, numbers: Sequence[domain.E164], customer_id: str | None) -> None:
    """A number leaves only from service (assigned, or ported in and not assigned yet), and only the
    subscriber's own numbers when the request names the subscriber."""
    rows = {row.digits: row for row in numbers_by_digits(session, [n.digits for n in numbers])}
    for number in numbers:
        row = rows.get(number.digits)
        state = row.state if row is not None else domain.AVAILABLE
        if row is None or state not in (ASSIGNED, PORTED_IN):
            where = "" if row is not None or block_containing(session, number.digits) else " (in none of our blocks)"
            raise NumberNotPortable(
                f"{number.text} is {state}{where}: only a number in service here can be ported out.",
                details={"currentState": state},
            )
        if customer_id is not None and row.customer_id != customer_id:
            raise NumberNotOfCustomer(f"{number.text} is not a number of customer {customer_id!r}.")
    _refuse_open_requests(session, numbers)


def _refuse_open_requests(session: Session, numbers: Sequence[domain.E164]) -> None:
    statement = (
        select(REQUEST_NUMBER.c.value, REQUEST_NUMBER.c.request_id)
        .where(REQUEST_NUMBER.c.open.is_(True), REQUEST_NUMBER.c.digits.in_([n.digits for n in numbers]))
        .limit(1)
    )
    clash = session.connection().execute(statement).first()
    if clash is not None:
        raise NumberInOpenPortRequest(
            f"{clash.value} is in open port request {clash.request_id}.", details={"portRequest": clash.request_id}
        )


# ------------------------------------------------------------------------------------------ changes


def _new_request(
    session: Session,
    direction: str,
    operator: str,
    numbers: Sequence[domain.E164],
    requested: datetime,
    document: Mapping[str, Any],
    *,
    pool_id: str | None = None,
) -> PortRequestRow:
    now = clock.now()
    row = PortRequestRow(
        id=new_id(),
        direction=direction,
        state=REQUESTED,
        operator=operator,
        numbers=[number.text for number in numbers],
        pool_id=pool_id,
        customer_id=document.get("customerId"),
        service_id=document.get("serviceId"),
        product_id=document.get("productId"),
        authorisation_reference=document.get("authorisationReference"),
        external_reference=document.get("externalReference"),
        requested_port_date=requested,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    session.add_all(
        PortRequestNumberRow(request_id=row.id, digits=number.digits, value=number.text, open=True)
        for number in numbers
    )
    session.flush()
    return row


def _request_for_update(session: Session, direction: str, request_id: str) -> PortRequestRow:
    row = session.get(PortRequestRow, request_id, with_for_update=True, populate_existing=True)
    if row is None or row.direction != direction:
        raise PortRequestNotFound(f"No port-{direction} request with id {request_id!r}.")
    return row


def _confirm(session: Session, row: PortRequestRow, port_date: datetime | None) -> None:
    numbers = _parse_numbers(row.numbers)
    if row.state == REQUESTED:  # the numbers may have moved since the request: refuse early, not on the date
        _recheck(session, row, numbers)
    now = clock.now()
    row.state = CONFIRMED
    row.port_date = port_date or row.port_date or row.requested_port_date
    row.confirmed_at = row.confirmed_at or now
    row.updated_at = now
    steps.schedule_step(
        session, _step_kind(row.direction), key=row.id, due_at=row.port_date, payload={"portRequestId": row.id}
    )


def _recheck(session: Session, row: PortRequestRow, numbers: Sequence[domain.E164]) -> None:
    """The create-time checks again, ignoring this request's own open numbers."""
    session.execute(
        update(PortRequestNumberRow)
        .where(PortRequestNumberRow.request_id == row.id)
        .values(open=False)
        .execution_options(synchronize_session=False)
    )
    if row.direction == IN:
        _check_port_in(session, numbers)
    else:
        _check_port_out(session, numbers, row.customer_id)
    _set_open(session, row.id, True)


def _close(session: Session, row: PortRequestRow, state: str, reason: str | None) -> None:
    now = clock.now()
    row.state = state
    row.reason = reason[:2000] if reason else None
    row.updated_at = now
    if state == COMPLETED:
        row.completed_at = now
    _set_open(session, row.id, False)


def _set_open(session: Session, request_id: str, is_open: bool) -> None:
    session.execute(
        update(PortRequestNumberRow)
        .where(PortRequestNumberRow.request_id == request_id)
        .values(open=is_open)
        .execution_options(synchronize_session=False)
    )


def _step_kind(direction: str) -> str:
    return PORT_IN_STEP if direction == IN else PORT_OUT_STEP


def _publish_request(session: Session, request: PortRequestData, *, create: bool = False) -> None:
    if request.direction == IN:
        event_type, key = (PORT_IN_CREATE_EVENT if create else PORT_IN_STATE_EVENT), "portInRequest"
    else:
        event_type, key = (PORT_OUT_CREATE_EVENT if create else PORT_OUT_STATE_EVENT), "portOutRequest"
    events.publish(session, api=API, event_type=event_type, resource=request_json(request), payload_key=key)


# --------------------------------------------------------------------------------- the port date


def _holder(row: PortRequestRow, **assignment: str | None) -> Holder:
    towards = "from" if row.direction == IN else "to"
    return Holder(reason=f"port-{row.direction} {row.id} {towards} {row.operator}", actor=ACTOR, **assignment)


def _port_in_numbers(session: Session, row: PortRequestRow) -> None:
    """On the port date: every number of the request becomes portedIn (in a block of its own in the
    request's pool when it is in none of ours), all or none."""
    pool = session.get(NumberPoolRow, row.pool_id)
    if pool is None:
        raise NotFound(f"The pool {row.pool_id} of port-in {row.id} is gone.", code="NUMBER_POOL_NOT_FOUND")
    digits = [number.digits for number in _parse_numbers(row.numbers)]
    existing = {r.digits: r for r in numbers_by_digits(session, digits, lock=True)}
    for number in digits:
        current = existing.get(number)
        if current is not None:
            domain.check_transition(current.value, current.state, PORTED_IN)
    add_blocks_for(session, pool, [number for number in digits if number not in existing])
    holder = _holder(row)
    for number in digits:
        _change_one(session, number, PORTED_IN, holder, None, True)


def _assign_ported_in(session: Session, row: PortRequestRow) -> None:
    """After the port: the ported-in numbers go into service for the request's customer and service."""
    digits = [number.digits for number in _parse_numbers(row.numbers)]
    rows = numbers_by_digits(session, digits, lock=True)
    for number in rows:
        domain.check_transition(number.value, number.state, ASSIGNED)
    holder = _holder(row, customer_id=row.customer_id, service_id=row.service_id, product_id=row.product_id)
    _transition(session, rows, ASSIGNED, {}, holder)


def _port_out_numbers(session: Session, row: PortRequestRow) -> None:
    """On the port date: the numbers leave (portedOut), released from their customer and service."""
    digits = [number.digits for number in _parse_numbers(row.numbers)]
    rows = numbers_by_digits(session, digits, lock=True)
    if len(rows) != len(digits):
        raise NumberNotPortable(f"A number of port-out {row.id} is no longer in service here.")
    for number in rows:
        domain.check_transition(number.value, number.state, PORTED_OUT)
    released = {"customer_id": None, "service_id": None, "product_id": None, "order_item_id": None}
    _transition(session, rows, PORTED_OUT, {**released, "released_at": clock.now()}, _holder(row))


def add_blocks_for(session: Session, pool: NumberPoolRow, digits: Sequence[int]) -> list[str]:
    """Blocks (one per run of consecutive numbers) in ``pool`` for numbers that are in no block yet: a
    number ported in or imported from another operator's range joins our stock. Returns the block ids."""
    missing = sorted(number for number in set(digits) if block_containing(session, number) is None)
    created = []
    for run in _runs(missing):
        for span in _spans(run):
            created.append(_add_block(session, pool, span))
    return created


def _runs(digits: Sequence[int]) -> list[Interval]:
    runs: list[Interval] = []
    for number in digits:
        if runs and runs[-1].last + 1 == number:
            runs[-1] = Interval(runs[-1].first, number)
        else:
            runs.append(Interval(number, number))
    return runs


def _spans(run: Interval) -> list[domain.BlockSpan]:
    try:
        return [domain.block_span(domain.format_e164(run.first), domain.format_e164(run.last))]
    except ProvisioError:  # ends in different national ranges: a block per number
        number = [domain.parse_e164(domain.format_e164(d)) for d in range(run.first, run.last + 1)]
        return [domain.BlockSpan(n, n) for n in number]


def _add_block(session: Session, pool: NumberPoolRow, span: domain.BlockSpan) -> str:
    _refuse_overlap(session, span.first.digits, span.last.digits)
    whole = Interval(span.first.digits, span.last.digits)
    row = NumberBlockRow(
        id=new_id(),
        pool_id=pool.id,
        first_digits=whole.first,
        last_digits=whole.last,
        size=whole.size,
        country_code=span.first.country_code,
        digit_count=span.first.length,
        national_prefix=span.first.national_prefix,
        region=span.first.region,
        number_type=span.first.number_type,
        max_chunk_size=domain.max_chunk_size(whole.size, MAX_CHUNKS_PER_BLOCK, MIN_CHUNK_SIZE),
        created_at=clock.now(),
    )
    session.add(row)
    session.flush()
    Chunks(session).insert(pool.id, row.id, domain.chunk_bounds(whole, MAX_CHUNKS_PER_BLOCK, MIN_CHUNK_SIZE))
    block = _block_data(row)
    _publish(session, BLOCK_CREATE_EVENT, "numberBlock", {**mapping.block_json(block), "available": whole.size})
    return row.id


def _run_request_step(ctx: steps.StepContext, expected: str, apply: Any, after: str, follow_up: str | None) -> None:
    """One port step: under the request's row lock, if it is still ``expected``, ``apply`` the numbers'
    change, move the request to ``after`` (scheduling ``follow_up``) and record the step done, in one
    transaction. A refusal of the lifecycle ends the request ``failed`` with the reason instead."""
    request_id = str(ctx.payload["portRequestId"])
    with request_context.bind(actor=ACTOR):
        try:
            with ctx.uow() as tx:
                row = tx.session.get(PortRequestRow, request_id, with_for_update=True, populate_existing=True)
                if row is None or row.state != expected:
                    ctx.complete_in(tx.session)  # cancelled, or already done by an earlier attempt
                    tx.commit()
                    return
                if expected == CONFIRMED and row.port_date is not None and row.port_date > ctx.now:
                    ctx.wait_in(tx.session, row.port_date)  # moved later while we were claimed
                    tx.commit()
                    return
                apply(tx.session, row)
                _advance(tx.session, row, after, follow_up)
                ctx.complete_in(tx.session)
                tx.commit()
        except steps.StepSuperseded:
            raise
        except ProvisioError as error:
            _fail(ctx, request_id, expected, error)


def _advance(session: Session, row: PortRequestRow, after: str, follow_up: str | None) -> None:
    now = clock.now()
    if after == COMPLETED:
        _close(session, row, COMPLETED, None)
    else:
        row.state = after
        row.updated_at = now
    if after == PORTED:
        row.ported_at = now
    if follow_up is not None:
        steps.schedule_step(session, follow_up, key=row.id, due_at=now, payload={"portRequestId": row.id})
    session.flush()
    _publish_request(session, _data(row))


def _fail(ctx: steps.StepContext, request_id: str, expected: str, error: ProvisioError) -> None:
    with ctx.uow() as tx:
        row = tx.session.get(PortRequestRow, request_id, with_for_update=True, populate_existing=True)
        if row is not None and row.state == expected:
            _close(tx.session, row, FAILED, f"{error.code}: {error.message}")
            tx.session.flush()
            _publish_request(tx.session, _data(row))
            logger.warning("port request %s failed: %s", request_id, error.message)
        ctx.complete_in(tx.session)
        tx.commit()


def _port_in_step(ctx: steps.StepContext) -> None:
    _run_request_step(ctx, CONFIRMED, _port_in_numbers, PORTED, PORT_IN_ASSIGN_STEP)


def _port_in_assign_step(ctx: steps.StepContext) -> None:
    _run_request_step(ctx, PORTED, _assign_ported_in, COMPLETED, None)


def _port_out_step(ctx: steps.StepContext) -> None:
    _run_request_step(ctx, CONFIRMED, _port_out_numbers, COMPLETED, None)


steps.register_step(PORT_IN_STEP, _port_in_step)
steps.register_step(PORT_IN_ASSIGN_STEP, _port_in_assign_step)
steps.register_step(PORT_OUT_STEP, _port_out_step)

__all__ = [
    "IN",
    "OUT",
    "PORT_IN_ASSIGN_STEP",
    "PORT_IN_QUERY",
    "PORT_IN_STEP",
    "PORT_OUT_QUERY",
    "PORT_OUT_STEP",
    "PortRequestData",
    "add_blocks_for",
    "create_port_in",
    "create_port_out",
    "list_port_requests",
    "parse_query",
    "patch_port_request",
    "retrieve_port_request",
]
