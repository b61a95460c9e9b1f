"""`serve`: answer agents over mutual TLS until SIGTERM."""
from __future__ import annotations

from farmwatch.collector.cli.shared import Commands, open_store


def cmd_serve(args, config):
    from farmwatch.collector.server import CollectorServer

    open_store(config).close()
    CollectorServer(config).serve_until_signal()


def register(commands: Commands) -> None:
    p = commands.command("serve", cmd_serve, "serve agents over mutual TLS until SIGTERM",
                         example="farmwatch-collector --home /srv/fw serve --listen 0.0.0.0:7443")
    p.add_argument("--listen", metavar="HOST:PORT",
                   help="address to listen on (default: listen in collector.toml, else 127.0.0.1:7443)")
