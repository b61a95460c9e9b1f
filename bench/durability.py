"""What `synchronous=FULL` adds to an ingest commit (WAL), on the disk holding bench/.

    python bench/durability.py

400 commits of a 64-row insert (one batch's worth of report rows, ~37 kB), NORMAL and FULL in
turn, three runs each; prints the median per commit and the difference per report (÷ 64).
"""
import os
import sqlite3
import tempfile
import time
from pathlib import Path

def run(mode, commits=400, rows=64):
    with tempfile.TemporaryDirectory(dir=Path(__file__).parent) as d:
        conn = sqlite3.connect(Path(d) / "db.sqlite", isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={mode}")
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, raw BLOB)")
        blob = os.urandom(600)
        cpu0, wall0 = time.process_time(), time.perf_counter()
        for _ in range(commits):
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany("INSERT INTO t (raw) VALUES (?)", [(blob,)] * rows)
            conn.execute("COMMIT")
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        conn.close()
        return cpu / commits * 1e6, wall / commits * 1e6

res = {"NORMAL": [], "FULL": []}
for _ in range(3):
    for mode in res:
        res[mode].append(run(mode))
for mode, vals in res.items():
    cpus, walls = sorted(v[0] for v in vals), sorted(v[1] for v in vals)
    print(f"{mode:6} per commit: cpu {cpus[1]:7.1f} us [{cpus[0]:.1f}-{cpus[2]:.1f}]  "
          f"wall {walls[1]:7.1f} us [{walls[0]:.1f}-{walls[2]:.1f}]")
d_cpu = sorted(f[0] for f in res["FULL"])[1] - sorted(n[0] for n in res["NORMAL"])[1]
d_wall = sorted(f[1] for f in res["FULL"])[1] - sorted(n[1] for n in res["NORMAL"])[1]
print(f"FULL - NORMAL per report in batches of 64: cpu {d_cpu/64:+.1f} us, wall {d_wall/64:+.1f} us")
