"""A real `farmwatch-collector serve` in its own process, with a fresh home, on 127.0.0.1.

The collector trusts 127.0.0.1 as a proxy so that simulated agents can each present their own
client address in `x-forwarded-for` (see loadgen.py: one address per agent keeps the per-address
enrollment rate limit and the fleet's shared-address clusters as they would be for real laptops).
"""
from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import psutil

from farmwatch.collector import enrollment
from farmwatch.collector.config import DATABASE_NAME
from farmwatch.collector.ingest import Store
from farmwatch.demo.launch import free_port, wait_for_port

BIN = Path(sys.executable).parent
ENV = {**os.environ, "GRPC_VERBOSITY": "ERROR"}
LOOPBACK_PROXY = "127.0.0.1/32"


def init_home(home: Path, settings: dict | None = None) -> Path:
    """A collector home with its CA, server certificate and a collector.toml trusting loopback as a proxy."""
    home.mkdir(parents=True, exist_ok=True)
    subprocess.run([str(BIN / "farmwatch-collector"), "--home", str(home), "pki", "init"],
                   check=True, capture_output=True, env=ENV)
    values = {"trusted_proxies": [LOOPBACK_PROXY], **(settings or {})}
    (home / "collector.toml").write_text("[collector]\n" + "".join(
        f"{key} = {_toml(value)}\n" for key, value in values.items()))
    return home


def _toml(value) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return str(value).lower() if isinstance(value, bool) else str(value)


def cpu_seconds(pid: int) -> float:
    """CPU time of a process and of its live children (`serve --workers N`'s workers)."""
    parent = psutil.Process(pid)
    return sum(sum(process.cpu_times()[:2]) for process in (parent, *parent.children(recursive=True)))


def create_token(home: Path, uses: int, database=None) -> str:
    """An enrollment token good for `uses` enrollments, written straight into the home's database
    (`database`: a postgresql:// URL instead)."""
    store = Store(database or home / DATABASE_NAME)
    try:
        return enrollment.create_token(store, uses=uses, note="benchmark").secret
    finally:
        store.close()


class CollectorProcess:
    """`farmwatch-collector --home HOME serve` on a free loopback port; a context manager.
    `workers`: `serve --workers N` (None: serve's default, one per core)."""

    def __init__(self, home: Path, log_path: Path | None = None, workers: int | None = None,
                 serve_args: list[str] | None = None, env: dict | None = None):
        self.home, self.workers, self.serve_args = home, workers, list(serve_args or ())
        self.env = env or ENV
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.log_path = log_path or home / "serve.log"
        self.process: subprocess.Popen | None = None

    @property
    def ca_pem(self) -> bytes:
        return (self.home / "pki" / "ca.crt").read_bytes()

    @property
    def database(self) -> Path:
        return self.home / DATABASE_NAME

    @property
    def pid(self) -> int:
        return self.process.pid

    def start(self) -> "CollectorProcess":
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [str(BIN / "farmwatch-collector"), "--home", str(self.home), "serve", "--listen", self.address,
                 *(["--workers", str(self.workers)] if self.workers else []), *self.serve_args],
                env=self.env, stdout=log, stderr=log)
        wait_for_port(self.port, self.process)
        return self

    def stop(self, timeout: float = 60.0) -> int:
        """SIGTERM (the collector drains what it acknowledged), then wait; returns the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout)

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.pid)

    def stored_report_ids(self) -> list[str]:
        """Every stored report_id (duplicates, if the schema ever allowed them, would show twice)."""
        with sqlite3.connect(self.database) as conn:
            return [row[0] for row in conn.execute("SELECT report_id FROM reports")]

    def scalar(self, sql: str, params=()):
        with sqlite3.connect(self.database) as conn:
            return conn.execute(sql, params).fetchone()[0]

    def __enter__(self) -> "CollectorProcess":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
