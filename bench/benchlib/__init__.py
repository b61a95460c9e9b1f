"""Helpers the benchmarks share: a collector in a subprocess, realistic reports, statistics, tables.

Named so that `make bench` (which runs every `bench/*.py`) never runs it by itself.
"""
