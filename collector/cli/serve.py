"""`serve`: answer agents over mutual TLS until SIGTERM; one per home (`serve.lock`), with
`--workers N` serving processes on one port (collector/workers.py)."""
from __future__ import annotations

import functools
import logging

from farmwatch.collector.cli.shared import CommandError, Commands, open_store, positive_int, setup_logging
from farmwatch.common import lock

LOCK_NAME = "serve.lock"


def cmd_serve(args, config):
    from farmwatch.collector import workers
    from farmwatch.collector.server import CollectorServer, stop_on_signal

    count = args.workers or config.worker_processes or workers.default_count()
    workers.check_count(count)
    open_store(config).close()
    try:
        held = lock.hold(config.home / LOCK_NAME)
    except lock.LockHeld as other:
        raise CommandError(f"another farmwatch-collector serve (pid {other.holder}) already serves {config.home}; "
                           "stop it first (it may be the service: systemctl stop farmwatch-collector), or pass "
                           "another --home") from None
    with held:
        stopping = stop_on_signal()
        if count == 1:
            with workers.core_log_kept_back():
                server = CollectorServer(config)
        else:
            level = logging.getLogger().getEffectiveLevel()
            server = workers.Workers(config, count, functools.partial(setup_logging, config.log_format, level))
        server.serve_until_signal(stopping)


def register(commands: Commands) -> None:
    p = commands.command("serve", cmd_serve, "serve agents over mutual TLS until SIGTERM",
                         example="farmwatch-collector --home /srv/fw serve --listen 0.0.0.0:7443 --workers 4")
    p.add_argument("--listen", metavar="HOST:PORT",
                   help="address to listen on (default: listen in collector.toml, else 127.0.0.1:7443)")
    p.add_argument("--workers", type=positive_int, metavar="N",
                   help="serving processes sharing the port, one per core to keep every core busy (default: "
                        "worker_processes in collector.toml, else one per CPU core; 1: one process, as before)")
