"""Pools and blocks for the number pool integration tests (fictional ranges: +44 20 7946 0xxx)."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine, func, select

from common.uow import UnitOfWork
from oss.number_pool import service
from oss.number_pool.models import NumberChunkRow, TelephoneNumberRow
from server.db import make_session_factory


def uow_factory(engine: Engine) -> Callable[[], UnitOfWork]:
    factory = make_session_factory(engine)
    return lambda: UnitOfWork(factory)


def pool_with_block(
    engine: Engine, first: str = "+442079460000", last: str = "+442079460999", name: str = "London", **extra: object
) -> str:
    new = uow_factory(engine)
    pool = service.create_pool(new(), {"name": name, "agingDays": 30, **extra})
    service.create_block(new(), {"poolId": pool.id, "first": first, "last": last})
    return pool.id


def free_numbers(engine: Engine, pool_id: str) -> int:
    with engine.connect() as connection:
        total = connection.scalar(
            select(func.coalesce(func.sum(NumberChunkRow.last_digits - NumberChunkRow.first_digits + 1), 0)).where(
                NumberChunkRow.pool_id == pool_id
            )
        )
    return int(total or 0)


def states(engine: Engine, pool_id: str) -> dict[str, int]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(TelephoneNumberRow.state, func.count())
            .where(TelephoneNumberRow.pool_id == pool_id)
            .group_by(TelephoneNumberRow.state)
        )
        return {state: count for state, count in rows}
