"""Who waits how long to write one SQLite file: several processes, in turns and on busy-retry alone.

    python bench/writers.py [--writers 3] [--seconds 5] [--hold-ms 2] [--json]

Each writer is a process with the collector's own storage (`SqliteStorage`: WAL, synchronous=FULL,
busy_timeout 10 s) committing one-row transactions in a closed loop for the window, holding the
write lock `--hold-ms` per transaction as an ingest batch holds it for its work, and timing how
long each transaction waited for the lock. Once with write turns (storage/write_turns.py, what
`serve --workers N` runs on) and once on SQLite's busy-retry alone (what they replaced). Printed
per mode: transactions of the busiest and the idlest writer, and the wait p50/p99/max over all.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchlib.stats import table
from farmwatch.collector.storage.sqlite import SqliteStorage

MODES = ("turns", "busy-retry")


class _NoTurns:
    def turn(self):
        return contextlib.nullcontext()


def write(database: Path, mode: str, start: float, seconds: float, hold: float) -> list[float]:
    """One writer: the waits (seconds) of every transaction it committed in the window."""
    storage = SqliteStorage(database)
    if mode == "busy-retry":
        storage.turns = _NoTurns()
    waits = []
    time.sleep(max(0.0, start - time.time()))
    while time.time() < start + seconds:
        asked = time.perf_counter()
        with storage.transaction() as conn:
            waits.append(time.perf_counter() - asked)
            conn.execute("INSERT INTO bench_writes (at) VALUES (?)", (time.time(),))
            time.sleep(hold)
    storage.close()
    return waits


def one_mode(workdir: Path, mode: str, writers: int, seconds: float, hold: float) -> dict:
    database = workdir / f"{mode}.sqlite"
    storage = SqliteStorage(database)  # the schema, made once before the writers open it
    storage.conn.execute("CREATE TABLE bench_writes (at REAL)")
    storage.close()
    start = time.time() + 3  # every writer has opened the file by then
    processes = [subprocess.Popen([sys.executable, __file__, "--writer", str(database), mode, str(start),
                                   str(seconds), str(hold)], stdout=subprocess.PIPE, text=True)
                 for _ in range(writers)]
    waits = [json.loads(process.communicate()[0]) for process in processes]
    every = sorted(w for one in waits for w in one)

    def at(share):
        return round(every[min(len(every) - 1, int(share * len(every)))] * 1000, 1)

    counts = sorted(len(one) for one in waits)
    return {"mode": mode, "transactions": sum(counts), "idlest_writer": counts[0], "busiest_writer": counts[-1],
            "wait_p50_ms": at(0.5), "wait_p99_ms": at(0.99), "wait_max_ms": round(every[-1] * 1000, 1)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 2)[2],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--writers", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--hold-ms", type=float, default=2.0)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--writer", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.writer:
        database, mode, start, seconds, hold = args.writer
        print(json.dumps(write(Path(database), mode, float(start), float(seconds), float(hold))))
        return 0
    with tempfile.TemporaryDirectory(prefix="farmwatch-writers-") as tmp:
        results = [one_mode(Path(tmp), mode, args.writers, args.seconds, args.hold_ms / 1000) for mode in MODES]
    if args.json:
        print(json.dumps({"writers": args.writers, "seconds": args.seconds, "hold_ms": args.hold_ms,
                          "results": results}))
        return 0
    print(f"{args.writers} writer processes, {args.seconds:g} s, {args.hold_ms:g} ms held per transaction, "
          "synchronous=FULL")
    keys = ("transactions", "idlest_writer", "busiest_writer", "wait_p50_ms", "wait_p99_ms", "wait_max_ms")
    print(table(["mode", "transactions", "idlest writer", "busiest writer", "wait p50 ms", "wait p99 ms",
                 "wait max ms"], [[r["mode"], *(f"{r[k]:,}" for k in keys)] for r in results]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
