"""pgbench figures beside our own, so a number compares across machines (``pgbench.update.c1`` / ``.c16``).

TPC-B without the branch/teller updates (``-N``: one UPDATE of ``pgbench_accounts`` plus a SELECT, an UPDATE
of nothing contended and an INSERT per transaction), prepared statements, over TCP to the benchmark's own
PostgreSQL, in a scratch database ``<db>_pgbench`` created and dropped here. A throughput a reader can
reproduce on any machine with ``pgbench -i -s 16`` and ``pgbench -N -M prepared -c 16 -j 2 -T 10``.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess

from sqlalchemy.engine import make_url

logger = logging.getLogger(__name__)

SCALE = 16
SECONDS = 10
CLIENTS = ((1, 1), (16, 2))  # (-c, -j)
_TPS = re.compile(r"^tps = ([0-9.]+)", re.MULTILINE)


def _libpq_args(url: str, database: str) -> list[str]:
    parsed = make_url(url)
    args = ["-h", parsed.host or "127.0.0.1", "-p", str(parsed.port or 5432), "-U", parsed.username or "postgres"]
    return [*args, database]


def _environment(url: str) -> dict[str, str]:
    password = make_url(url).password
    return {**os.environ, **({"PGPASSWORD": str(password)} if password else {})}


def _run(arguments: list[str], url: str) -> str:
    completed = subprocess.run(
        arguments, env=_environment(url), capture_output=True, text=True, check=True, timeout=600
    )
    return completed.stdout


def parse_tps(output: str) -> float:
    """The ``tps = ...`` line of pgbench's report (pgbench 15 prints one, without connection time)."""
    found = _TPS.search(output)
    if found is None:
        raise ValueError(f"no 'tps = ' line in pgbench output: {output[-300:]!r}")
    return float(found.group(1))


def measure(url: str) -> dict[str, float]:
    """``{"pgbench.update.c1": tps, "pgbench.update.c16": tps}`` on the PostgreSQL of ``url``; {} without pgbench."""
    if make_url(url).get_backend_name() != "postgresql" or shutil.which("pgbench") is None:
        logger.warning("pgbench figures need PostgreSQL and the pgbench binary: skipped")
        return {}
    scratch = f"{make_url(url).database}_pgbench"
    admin = _libpq_args(url, "postgres")[:-1]
    _run(["dropdb", "--if-exists", *admin, scratch], url)
    _run(["createdb", *admin, scratch], url)
    try:
        _run(["pgbench", "-i", "-q", "-s", str(SCALE), *_libpq_args(url, scratch)], url)
        figures = {}
        for clients, threads in CLIENTS:
            output = _run(
                [
                    "pgbench",
                    "-N",
                    "-M",
                    "prepared",
                    "-c",
                    str(clients),
                    "-j",
                    str(threads),
                    "-T",
                    str(SECONDS),
                    *_libpq_args(url, scratch),
                ],
                url,
            )
            figures[f"pgbench.update.c{clients}"] = parse_tps(output)
        return figures
    finally:
        _run(["dropdb", "--if-exists", *admin, scratch], url)
