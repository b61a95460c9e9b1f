"""The agent's memory: what the process needs no copy of, kept out before anything loads.

* OpenSSL. gRPC speaks TLS through its own BoringSSL. Loading it also loads asyncio, which
  imports Python's `ssl` when it can, and the agent's `hashlib` loads `_hashlib`: together they
  map OpenSSL's libssl and libcrypto, ~4 MiB of the agent's 45 MiB budget (docs/performance.md).
  While gRPC and hashlib load they are told those two modules do not exist: asyncio then goes
  without TLS (the agent never runs asyncio) and hashlib uses CPython's own SHA-256. Afterwards
  both import as usual, for the rare path that needs them (`transport.certificate_names` imports
  ssl to explain a refused certificate).
* glibc's per-thread heaps. glibc gives each thread that allocates a heap ("arena") of its own
  and keeps it: the scan's probe threads and gRPC's threads held ~2.5 MiB that way on a busy
  laptop. The agent does one thing at a time, so one heap serves it.

Importing this module does both; agent/cli.py imports it first.
"""
from __future__ import annotations

import sys

_KEPT_OUT = ("ssl", "_hashlib")
_M_ARENA_MAX = -8  # glibc's malloc.h


def _one_malloc_arena() -> None:
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    try:
        ctypes.CDLL(None).mallopt(_M_ARENA_MAX, 1)
    except (OSError, AttributeError):
        pass  # no glibc (musl has no per-thread arenas to limit)


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


_one_malloc_arena()  # first: threads gRPC starts get their heap when they first allocate
_load_grpc_without_openssl()
