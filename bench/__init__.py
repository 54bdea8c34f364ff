"""Benchmarks: ``python -m bench [GROUP ...]`` (``make bench BENCH=resource``). See bench/__main__.py."""
