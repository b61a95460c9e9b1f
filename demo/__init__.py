"""`make demo` (`python -m farmwatch.demo`): a collector and agents on this machine, run as the
real programs; it drives both sides, so it lives apart from either."""
