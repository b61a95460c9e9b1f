"""`farmwatch-collector`'s entry point: one line saying what to install when the collector's extra is missing.

`pip install farmwatch` brings the agent's needs only; the collector's storage (SQLite and PostgreSQL)
and health-check libraries are the `collector` extra (pyproject.toml). Without them every command,
even `--help`, would end in an import traceback.
"""
from __future__ import annotations

import sys

# The `collector` extra in pyproject.toml: import name -> distribution name.
EXTRA_MODULES = {"sqlite_utils": "sqlite-utils", "grpc_health": "grpcio-health-checking", "psycopg": "psycopg",
                 "zstandard": "zstandard"}
INSTALL_HINT = "pip install 'farmwatch[collector]'"


def main(argv: list[str] | None = None) -> int:
    try:
        from farmwatch.collector.cli import main as run

        return run(argv)
    except ModuleNotFoundError as exc:
        missing = (exc.name or "").split(".")[0]
        if missing not in EXTRA_MODULES:
            raise
        print(f"farmwatch-collector: the collector's libraries are not installed ({EXTRA_MODULES[missing]} is "
              f"missing); install them into this Python with: {INSTALL_HINT}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
