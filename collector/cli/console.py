"""`console`: the analysts' web console over HTTPS, beside `serve`, until SIGTERM."""
from __future__ import annotations

from farmwatch.collector.cli.shared import CommandError, Commands, open_store

_MISSING = ("the web console needs the `console` extra: pip install 'farmwatch[collector,console]' "
            "(starlette, jinja2, uvicorn)")


def cmd_console(args, config):
    try:
        from farmwatch.collector.console.serve import run
    except ImportError as exc:
        raise CommandError(f"{_MISSING} ({exc})") from None
    host, _, port = (args.listen or config.console_listen).rpartition(":")
    store = open_store(config)
    print(f"console: https://{host.strip('[]') if host not in ('0.0.0.0', '::', '[::]') else 'THIS-HOST'}:{port}/  "
          f"(analysts import NAME.p12 from `pki issue-analyst NAME --p12`; every page view is audited)", flush=True)
    try:
        run(config, store, host.strip("[]"), int(port))
    except SystemExit as exc:  # uvicorn's way of saying it could not start (the reason is logged above)
        raise CommandError(f"the console could not start on {host}:{port} (see above); pass another --listen, or "
                           "stop what holds that port") from exc


def register(commands: Commands) -> None:
    p = commands.command("console", cmd_console, "serve the analysts' web console over HTTPS until SIGTERM",
                         example="farmwatch-collector --home /srv/fw console --listen 0.0.0.0:8443")
    # checked as `serve --listen` is (CollectorConfig.load takes it as the `listen` override)
    p.add_argument("--listen", metavar="HOST:PORT",
                   help="address to listen on (default: console_listen in collector.toml, else 127.0.0.1:8443)")
