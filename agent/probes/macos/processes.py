"""Running processes (psutil) with the bundle id of the app each one belongs to.

An executable inside ``X.app/Contents/`` (or an XPC service or system extension bundle)
belongs to the innermost such bundle; its Info.plist names it. Chrome's renderer thus
reports com.google.Chrome.helper.renderer, the browser com.google.Chrome.
"""

from __future__ import annotations

import re

from farmwatch.v1 import report_pb2

from .. import _psutil_tables
from ..context import ProbeContext
from ._plist import read_plist

# the innermost bundle: the last "<name>.<bundle suffix>/Contents/" in the path
_BUNDLE = re.compile(r"^(.*\.(?:app|xpc|appex|systemextension))/Contents/")


def collect(ctx: ProbeContext) -> list[report_pb2.Process]:
    processes = _psutil_tables.processes(ctx)
    bundle_ids: dict[str, str] = {}
    for process in processes:
        bundle = bundle_path(process.exe)
        if bundle:
            if bundle not in bundle_ids:
                info = read_plist(ctx, f"{bundle}/Contents/Info.plist") or {}
                bundle_ids[bundle] = str(info.get("CFBundleIdentifier", ""))
            process.bundle_id = bundle_ids[bundle]
    return processes


def bundle_path(exe: str) -> str:
    match = _BUNDLE.match(exe)
    return match[1] if match else ""
