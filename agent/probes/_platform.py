"""Pick a probe's implementation for the machine's OS."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from .context import ProbeContext

T = TypeVar("T")


def dispatch(ctx: ProbeContext, empty: Callable[[], T], **by_os: Callable[[ProbeContext], T]) -> T:
    """Run the implementation for ``ctx.os``; on an OS without one, record the gap and
    return ``empty()`` so the rest of the report stands."""
    implementation = by_os.get(ctx.os)
    if implementation is None:
        ctx.gap(f"not implemented on {ctx.os}")
        return empty()
    return implementation(ctx)
