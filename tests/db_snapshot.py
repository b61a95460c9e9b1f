"""Row counts of every table, to show that a refused call stored nothing anywhere."""
from __future__ import annotations

# The audit log records refused questions on purpose; everything else must stay untouched.
RECORDS_REFUSALS = frozenset({"audit"})
# Written by the collector's own timers (on PostgreSQL: correlation's claim), whenever they run, not by a call.
TIMERS = frozenset({"job_runs"})


def table_counts(store, ignore: frozenset[str] = RECORDS_REFUSALS) -> dict[str, int]:
    conn = store.reader()
    names = [name for name in store.db.table_names() if not name.startswith("sqlite_")]  # either engine
    return {name: conn.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]
            for name in names if name not in ignore | TIMERS}
