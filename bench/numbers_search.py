"""Number pool figures (issue 16 "Benchmark"): the pattern search of a 10-million block, in process.

How it runs (``make bench BENCH=numbers``; PostgreSQL when DATABASE_URL points at one, else SQLite), on a
fresh migrated database of its own (``bench.resource.fresh_database``), in process through the use cases
(``oss.number_pool.service``), not over HTTP: these figures are about the range store; an HTTP request adds
the ~1 ms of the request path that the ``resource.*`` figures measure.

Each metric has one owner: ``bench/numbers.py`` records the figures the issue names through HTTP
(``numbers.block10m.*``, ``numbers.search.pattern.p95/.p50``); this module only what it alone measures.

- The block +44 20 7000 0000 .. +44 20 7999 9999 (10,000,000 numbers) is created in a new pool, and
  1,000,000 of its numbers are touched: ``telephone_number`` rows written set-wise (Core, ``reserved``) and
  their digits carved out of the chunks as "any number" holds take them (from each chunk's start), then the
  table is analysed (as autovacuum would).
- ``numbers.search.pattern.inprocess.p95`` (ms): "10 available numbers matching ``*777*``"
  (``search_available``, X-Total-Count included) in that block, through the use case without the request
  path. 50 searches after 5 warm-ups.
- ``numbers.search.pattern.fragmented.p95`` (ms): the same search after 10,000 further specific-number holds
  spread evenly over the block (10,000 more chunks: the worst shape a pool gets).
"""

from __future__ import annotations

import logging
import time

from sqlalchemy import insert, text

from bench.common import Record, percentile

logger = logging.getLogger(__name__)

FIRST, LAST = "+442070000000", "+442079999999"
TOUCHED = 1_000_000
FRAGMENTS = 10_000
SEARCHES, WARMUP = 50, 5


def measure(url: str) -> dict[str, float]:
    from common.uow import UnitOfWork
    from oss.number_pool import service
    from oss.number_pool.domain import Interval, split
    from oss.number_pool.repository import NUMBER, Chunks, interval_of
    from server.db import make_engine, make_session_factory

    engine = make_engine(url)
    factory = make_session_factory(engine)

    def new() -> UnitOfWork:
        return UnitOfWork(factory)

    pool = service.create_pool(new(), {"name": "London 020 bench"})
    block = service.create_block(new(), {"poolId": pool.id, "first": FIRST, "last": LAST})

    # 1M touched numbers: rows (set-wise) and the chunks shrunk from their starts, as "any number" holds do.
    with new() as tx:
        chunks = Chunks(tx.session)
        rows = chunks.of_block(block.id)
        per_chunk = TOUCHED // len(rows)
        taken: list[int] = []
        for row in rows:
            interval = interval_of(row)
            _, after = split(interval, Interval(interval.first, interval.first + per_chunk - 1))
            assert after is not None
            chunks.set_bounds(row.id, after)
            taken.extend(range(interval.first, interval.first + per_chunk))
        now = time.time()
        from common import clock

        moment = clock.now()
        for start in range(0, len(taken), 50_000):
            tx.session.connection().execute(
                insert(NUMBER),
                [
                    {
                        "id": f"b{d}",
                        "digits": d,
                        "value": f"+{d}",
                        "national": "0" + str(d)[2:],
                        "pool_id": pool.id,
                        "block_id": block.id,
                        "state": "reserved",
                        "category": "standard",
                        "created_at": moment,
                        "updated_at": moment,
                        "was_assigned": False,
                    }
                    for d in taken[start : start + 50_000]
                ],
            )
        tx.commit()
    logger.info("touched %d numbers in %.1f s", len(taken), time.time() - now)
    with engine.connect() as connection:  # fresh statistics, as autovacuum gives a table this size
        connection.execute(text("ANALYZE"))
        connection.commit()

    def p95() -> float:
        samples = []
        for index in range(WARMUP + SEARCHES):
            begun = time.perf_counter()
            page = service.search_available(new(), pool_id=pool.id, pattern="*777*", limit=10)
            if index >= WARMUP:
                samples.append(time.perf_counter() - begun)
            assert len(page.items) == 10
        return percentile(samples, 95) * 1000

    search = p95()
    with new() as tx:  # fragment: 10,000 specific numbers spread evenly, each splitting its chunk
        chunks = Chunks(tx.session)
        step = (int(LAST[1:]) - int(FIRST[1:])) // FRAGMENTS
        for index in range(FRAGMENTS):
            digits = int(FIRST[1:]) + index * step + step // 2
            holding = chunks.lock_containing(digits)
            if holding is None:
                continue
            left, right = split(interval_of(holding), Interval(digits, digits))
            if left is None:
                chunks.delete(holding.id)
            else:
                chunks.set_bounds(holding.id, left)
            if right is not None:
                chunks.insert(holding.pool_id, holding.block_id, [right])
        tx.commit()
    fragmented = p95()
    engine.dispose()
    return {"search": search, "fragmented": fragmented}


def run(record: Record) -> None:
    from bench.resource import fresh_database

    with fresh_database() as url:
        figures = measure(url)
    logger.info("numbers: %s", figures)
    record("numbers.search.pattern.inprocess.p95", figures["search"], "ms", higher_is_better=False)
    record("numbers.search.pattern.fragmented.p95", figures["fragmented"], "ms", higher_is_better=False)
