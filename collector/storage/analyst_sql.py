"""Ad-hoc read-only SQL over the collector's database, for analysts, bounded for real.

Each statement runs in a process of its own (`analyst_worker`, which says why and how the database
refuses writes). This side bounds what that process may cost: it is killed once it runs past its
time budget or its caller goes away (whatever SQLite is doing inside one function call), its
address space is limited, no value it makes may be larger than `max_bytes`, rows stop being
fetched once they hold that many bytes, and at most `max_rows` rows come back.
"""
from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from farmwatch.collector.storage import analyst_worker, is_url
from farmwatch.collector.storage.analyst_worker import SqlError, open_readonly, too_long

__all__ = ["SqlError", "SqlResult", "open_readonly", "run"]

DEFAULT_MAX_ROWS = 10_000
DEFAULT_TIMEOUT = 10.0  # seconds
DEFAULT_MAX_BYTES = 4 * 1024 * 1024 - 1024  # what one gRPC answer carries at the default message size
MAX_STATEMENT_BYTES = 128 * 1024  # as long as one command-line argument may be on Linux
_STARTUP_SECONDS = 2.0  # the worker's own deadline stops it cleanly; the kill comes this much later
_BASE_MEMORY = 512 * 1024 * 1024  # the interpreter, SQLite's caches, sorting; plus rows (see _memory_for)


@dataclass
class SqlResult:
    columns: list[str]
    rows: list[tuple]
    truncated: bool  # more rows existed than were fetched

    def __len__(self) -> int:
        return len(self.rows)

    def dicts(self) -> list[dict]:
        return [dict(zip(self.columns, row)) for row in self.rows]


def run(database: Path | str, query: str, params=(), *, max_rows: int = DEFAULT_MAX_ROWS,
        timeout: float = DEFAULT_TIMEOUT, max_bytes: int = DEFAULT_MAX_BYTES,
        stop_on: Callable[[Callable[[], None]], object] | None = None) -> SqlResult:
    """Run one read-only statement: at most `max_rows` rows, `timeout` seconds and `max_bytes`
    bytes (no value larger; rows beyond those that hold that much are not fetched: `truncated`).

    `stop_on(stop)`, if given, is handed a function that stops the statement at once, to be called
    when the caller goes away (gRPC's `context.add_callback`: the call was cancelled or its deadline
    passed). If `stop_on` answers False (the caller is gone already), the statement stops now."""
    _check_statement(query)
    if is_url(database):  # PostgreSQL: the same bounds, kept by the server (postgres_analyst)
        command, target = ["-m", "farmwatch.collector.storage.postgres_analyst"], str(database)
    elif not Path(database).exists():
        raise SqlError(f"no database at {database}")
    else:
        command, target = [analyst_worker.__file__], str(Path(database).resolve())
    request = {"database": target, "query": query, "params": params,
               "max_rows": max_rows, "timeout": timeout, "max_bytes": max_bytes, "max_memory": _memory_for(max_bytes)}
    worker = _Worker(command)
    try:
        if stop_on is not None and stop_on(worker.stop) is False:
            worker.stop()
        answer = worker.ask(json.dumps(request).encode("ascii"), timeout + _STARTUP_SECONDS, timeout)
    finally:
        worker.stop()  # a no-op once it has answered; a Ctrl-C in the CLI must not leave it running
    if "error" in answer:
        raise SqlError(answer["error"])
    return SqlResult(answer["columns"], [tuple(row) for row in answer["rows"]], answer["truncated"])


def _check_statement(query: str) -> None:
    try:
        size = len(query.encode("utf-8"))
    except UnicodeEncodeError as exc:
        raise SqlError("the statement is not valid UTF-8 text") from exc
    if size > MAX_STATEMENT_BYTES:
        raise SqlError(f"the statement is {size} bytes; at most {MAX_STATEMENT_BYTES} are accepted "
                       "(and kept whole in the audit): shorten it")


def _memory_for(max_bytes: int) -> int:
    """Address space for one worker: rows of up to `max_bytes`, held as Python objects, then as JSON."""
    return _BASE_MEMORY + 16 * max_bytes


class _Worker:
    """The process one statement runs in."""

    def __init__(self, command: list[str]):
        self._process = subprocess.Popen([sys.executable, "-I", *command], stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.stopped = False

    def stop(self) -> None:
        """Kill the worker if it still runs (from any thread)."""
        if self._process.poll() is None:
            self.stopped = True
            self._process.kill()

    def ask(self, request: bytes, limit: float, timeout: float) -> dict:
        try:
            out, err = self._process.communicate(request, timeout=limit)
        except subprocess.TimeoutExpired:
            self.stop()
            self._process.communicate()
            raise SqlError(too_long(timeout)) from None
        if self.stopped:
            raise SqlError("the query was stopped: the caller cancelled it or its deadline passed")
        if self._process.returncode != 0:
            last = err.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no message"]
            raise SqlError(f"the query's worker process failed (exit {self._process.returncode}: {last[0]}); "
                           "narrow the query, or see the collector's log if it keeps failing")
        return json.loads(out)
