"""The public enrollment identity an agent presents before it has a certificate of its own.

See the header of `enroll_bootstrap.pem` for why it exists and why it is not a secret.
"""
from __future__ import annotations

import re
from functools import cache
from importlib import resources

_PEM_BLOCK = re.compile(rb"-----BEGIN ([A-Z ]+)-----.+?-----END \1-----\n", re.S)


@cache
def _blocks() -> list[bytes]:
    data = resources.files("farmwatch.common").joinpath("enroll_bootstrap.pem").read_bytes()
    return [m.group(0) for m in _PEM_BLOCK.finditer(data)]


def certificate_pem() -> bytes:
    return _blocks()[0]


def key_pem() -> bytes:
    return _blocks()[1]


def ca_pem() -> bytes:
    """The bootstrap CA the collector trusts for the Enroll call only."""
    return _blocks()[2]
