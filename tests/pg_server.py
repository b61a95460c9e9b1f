"""A real PostgreSQL server for the tests: the one FARMWATCH_TEST_DATABASE_URL names, else one this
test session starts itself (initdb in a temporary folder, 127.0.0.1 on a free port), stopped at its end.

The server binaries come from Debian's `postgresql` package; `make test` installs it when missing.
PostgreSQL refuses to run as root: as root, the server runs as the package's `postgres` user.
"""
from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

URL_VARIABLE = "FARMWATCH_TEST_DATABASE_URL"


def binaries() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        raise RuntimeError("PostgreSQL's server binaries are missing: run `make test` (it installs Debian's "
                           f"postgresql package) or `apt-get install -y postgresql`, or set {URL_VARIABLE}")
    return Path(found[-1]).parent


class Server:
    """A server and an administrator URL; `new_database()` makes an empty database per test."""

    def __init__(self):
        self.folder, self._template = None, None
        self.admin_url = os.environ.get(URL_VARIABLE) or self._start()

    def _start(self) -> str:
        bin_dir = binaries()
        self.folder = Path(tempfile.mkdtemp(prefix="farmwatch-pg-"))
        as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if as_user:
            shutil.chown(self.folder, "postgres")
        data = self.folder / "data"
        port = _free_port()
        subprocess.run([*as_user, bin_dir / "initdb", "-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8"],
                       check=True, capture_output=True)
        # fsync off: a test server's durability is not what is tested; the collector's own is.
        options = f"-p {port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300"
        self._as_user, self._bin_dir, self._data, self._options = as_user, bin_dir, data, options
        self.resume()
        return f"postgresql://postgres@127.0.0.1:{port}/postgres"

    def new_database(self, schema: bool = False) -> str:
        """An empty database; with `schema`, one already at the collector's current schema: a copy of
        a database the collector opened once this session, as its first open of each would leave it."""
        import psycopg

        name = f"farmwatch_test_{uuid.uuid4().hex[:12]}"
        template = f" TEMPLATE {self._schema_template()} STRATEGY FILE_COPY" if schema else ""
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}{template}")
        return self.admin_url.rsplit("/", 1)[0] + f"/{name}"

    def _schema_template(self) -> str:
        if self._template is None:
            from farmwatch.collector.storage import open_storage

            url = self.new_database()
            open_storage(url).close()  # closed: a template must have no session open
            self._template = url.rsplit("/", 1)[1]
        return self._template

    def drop_database(self, url: str) -> None:
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {url.rsplit('/', 1)[1]} WITH (FORCE)")

    def halt(self) -> None:
        """Stop the server at once, as a crash would (only for a server this session started)."""
        subprocess.run([*self._as_user, self._bin_dir / "pg_ctl", "-D", self._data, "-m", "immediate", "stop"],
                       capture_output=True)

    def resume(self) -> None:
        subprocess.run([*self._as_user, self._bin_dir / "pg_ctl", "-D", self._data, "-o", self._options, "-l",
                        self.folder / "server.log", "-w", "start"], check=True, capture_output=True)

    def stop(self) -> None:
        if self.folder is None:  # a server this session did not start: only its own database goes
            if self._template is not None:
                self.drop_database(self.admin_url.rsplit("/", 1)[0] + f"/{self._template}")
            return
        self.halt()
        shutil.rmtree(self.folder, ignore_errors=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
