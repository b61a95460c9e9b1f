"""The real commands as subprocesses: `farmwatch-collector serve` that a test can stop or kill -9."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from farmwatch.collector.config import CollectorConfig
from farmwatch.collector.storage import open_storage
from farmwatch.demo.launch import free_port, wait_for_port

BIN = Path(sys.executable).parent
ENV = {**os.environ, "GRPC_VERBOSITY": "ERROR"}


def cli(tool: str, *args, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run([str(BIN / tool), *map(str, args)], capture_output=True, text=True, env=ENV)
    if check:
        assert result.returncode == 0, f"{tool} {args}: {result.stderr}"
    return result


class Collector:
    """`farmwatch-collector serve` on a fixed port, so a restart is found where agents expect it."""

    def __init__(self, home: Path, *serve_args, env: dict | None = None):
        self.home, self.serve_args = home, [str(arg) for arg in serve_args]
        self.env = env or ENV
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.process = None
        self.log = ""

    def start(self):
        self.process = subprocess.Popen(
            [str(BIN / "farmwatch-collector"), "--home", str(self.home), "serve", "--listen", self.address,
             *self.serve_args],
            env=self.env, stderr=subprocess.PIPE, text=True)
        wait_for_port(self.port, self.process)

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self._reap()

    def kill(self) -> int:
        """kill -9: no drain, no clean close of the database."""
        self.process.send_signal(signal.SIGKILL)
        return self._reap()

    def _reap(self) -> int:
        code = self.process.wait(timeout=30)
        self.log += self.process.stderr.read()
        return code

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def sql(self, query: str) -> list[tuple]:
        """Rows of `query` on the home's database, whichever engine its settings name."""
        store = open_storage(CollectorConfig.load(self.home).database)
        try:
            return [tuple(row) for row in store.reader().execute(query).fetchall()]
        finally:
            store.close()


def name_database(home: Path, url: str) -> None:
    """Point the home's collector.toml at `url` (`[storage] url`): every command and server on the
    home then uses that database."""
    with open(home / "collector.toml", "a") as settings:
        settings.write(f'\n[storage]\nurl = "{url}"\n')
