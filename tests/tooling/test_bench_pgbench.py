"""The pgbench helper of the benchmarks reads the figure pgbench 15 prints."""

import pytest

from bench.pgbench_figures import parse_tps

PGBENCH_15_REPORT = """\
pgbench (15.10 (Debian 15.10-0+deb12u1))
transaction type: <builtin: simple update>
scaling factor: 16
query mode: prepared
number of clients: 16
number of threads: 2
maximum number of tries: 1
duration: 10 s
number of transactions actually processed: 18879
number of failed transactions: 0 (0.000%)
latency average = 8.474 ms
initial connection time = 11.420 ms
tps = 1887.904648 (without initial connection time)
"""


def test_parse_tps_reads_the_tps_line_of_a_pgbench_15_report():
    assert parse_tps(PGBENCH_15_REPORT) == pytest.approx(1887.904648)


def test_parse_tps_refuses_output_without_a_tps_line():
    with pytest.raises(ValueError, match="tps"):
        parse_tps("pgbench: error: connection to server failed")
