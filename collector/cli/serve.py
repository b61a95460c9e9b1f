"""`serve`: answer agents over mutual TLS until SIGTERM; one per home (`serve.lock`)."""
from __future__ import annotations

import contextlib
import os
import tempfile

from farmwatch.collector.cli.shared import CommandError, Commands, open_store
from farmwatch.common import lock

LOCK_NAME = "serve.lock"


def cmd_serve(args, config):
    from farmwatch.collector.server import CollectorServer

    open_store(config).close()
    try:
        held = lock.hold(config.home / LOCK_NAME)
    except lock.LockHeld as other:
        raise CommandError(f"another farmwatch-collector serve (pid {other.holder}) already serves {config.home}; "
                           "stop it first (it may be the service: systemctl stop farmwatch-collector), or pass "
                           "another --home") from None
    with held:
        with _core_log_kept_back():
            server = CollectorServer(config)
        server.serve_until_signal()


@contextlib.contextmanager
def _core_log_kept_back():
    """gRPC's C core writes a failed bind to file descriptor 2 ("E… add_port.cc … Address already in
    use") before CollectorServer can say it in one line; keep what is written there meanwhile (in
    memory: the service may have no writable temporary folder), and pass it on when the server was made."""
    try:
        kept = _memory_file()
    except OSError:  # nowhere to keep it: let it through
        yield
        return
    with kept:
        saved = os.dup(2)
        os.dup2(kept.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        kept.seek(0)  # reached only when the server was made
        os.write(2, kept.read())

def _memory_file():
    if hasattr(os, "memfd_create"):  # Linux
        return os.fdopen(os.memfd_create("farmwatch-serve-stderr"), "w+b")
    return tempfile.TemporaryFile()


def register(commands: Commands) -> None:
    p = commands.command("serve", cmd_serve, "serve agents over mutual TLS until SIGTERM",
                         example="farmwatch-collector --home /srv/fw serve --listen 0.0.0.0:7443")
    p.add_argument("--listen", metavar="HOST:PORT",
                   help="address to listen on (default: listen in collector.toml, else 127.0.0.1:7443)")
