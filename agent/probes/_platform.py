"""Pick a probe's implementation for the machine's OS."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TypeVar

from .context import ProbeContext

T = TypeVar("T")


def dispatch(ctx: ProbeContext, empty: Callable[[], T], **by_os: Callable[[ProbeContext], T] | str) -> T:
    """Run the implementation for ``ctx.os``; on an OS without one, record the gap and
    return ``empty()`` so the rest of the report stands.

    An implementation named as a module of this package ("macos.usb") is that module's
    ``collect``, imported only when a scan needs it: the agent then carries no other OS's
    probe code (~0.6 MiB of its RSS, docs/performance.md)."""
    implementation = by_os.get(ctx.os)
    if implementation is None:
        ctx.gap(f"not implemented on {ctx.os}")
        return empty()
    if isinstance(implementation, str):
        implementation = importlib.import_module(f"{__package__}.{implementation}").collect
    return implementation(ctx)
