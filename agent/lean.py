"""gRPC loaded without OpenSSL in the agent's memory.

gRPC speaks TLS through its own BoringSSL. Loading it also loads asyncio, which imports Python's
`ssl` when it can, and the agent's `hashlib` loads `_hashlib`: together they map OpenSSL's
libssl and libcrypto, ~4 MiB of the agent's 45 MiB budget (docs/performance.md). While gRPC and
hashlib load they are told those two modules do not exist: asyncio then goes without TLS (the
agent never runs asyncio) and hashlib uses CPython's own SHA-256. Afterwards both can be
imported as usual, by the rare path that needs them (`transport.certificate_names` imports ssl
to explain a refused certificate). Importing this module does it; agent/cli.py imports it first.
"""
from __future__ import annotations

import sys

_KEPT_OUT = ("ssl", "_hashlib")


def _load_grpc_without_openssl() -> None:
    """Import grpc and hashlib with OpenSSL kept out; a no-op for what is already loaded."""
    kept_out = [name for name in _KEPT_OUT if name not in sys.modules]
    for name in kept_out:
        sys.modules[name] = None  # "import ssl" now raises ImportError, which asyncio and hashlib expect
    try:
        import hashlib  # noqa: F401
        import grpc  # noqa: F401
    finally:
        for name in kept_out:
            if sys.modules.get(name, "") is None:
                del sys.modules[name]


_load_grpc_without_openssl()
