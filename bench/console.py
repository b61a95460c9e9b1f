"""Web console: the devices page at fleet scale (100,000 devices by default).

    python bench/console.py [--devices 100000] [--json]

The database is bench/fleet.py's synthetic fleet (one report per device: the devices page reads
devices, the roster, triage and the latest report's findings, not report history). A real
`farmwatch-collector console` serves it over HTTPS; an analyst certificate asks for devices pages
over one kept-alive connection, so each figure is the server's time plus a loopback round trip.
Timed, first call then median and maximum of 5 more: the first page sorted by score; relays;
a rule filter; a search by part of a serial; the last page; and the storage read alone
(`device_page`) for the same unfiltered page.
"""
from __future__ import annotations

import argparse
import http.client
import json
import signal
import ssl
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from benchlib.stats import table
from fleet import SyntheticFleet, build, timed
from farmwatch.collector.ingest import Store
from farmwatch.collector.storage.browse import DeviceFilter
from farmwatch.demo.launch import free_port, wait_for_port

BIN = Path(sys.executable).parent
PAGES = {"first page (by score)": "/devices", "relays": "/devices?verdict=relay",
         "rule filter": "/devices?rule=remote-control-running", "search serial": "/devices?search=FLT00123",
         "last page": "/devices?page=2000"}


def _collector(home: Path, *args) -> str:
    return subprocess.run([str(BIN / "farmwatch-collector"), "--home", str(home), *args], check=True,
                          capture_output=True, text=True).stdout


def run(args) -> dict:
    with tempfile.TemporaryDirectory(prefix="farmwatch-console-bench-") as tmp:
        home = Path(tmp)
        _collector(home, "pki", "init")
        fleet = SyntheticFleet(args.devices, 1, datetime.now(timezone.utc))
        built = build(home / "farmwatch.sqlite", fleet)
        _collector(home, "pki", "issue-analyst", "bench")
        store = Store(home / "farmwatch.sqlite")
        figures = {"build_seconds": built["seconds"], "devices": args.devices,
                   "storage device_page": timed(lambda: store.device_page(DeviceFilter(), "score", 0, 50)[0])}
        store.close()
        port = free_port()
        console = subprocess.Popen([str(BIN / "farmwatch-collector"), "--home", str(home), "console", "--listen",
                                    f"127.0.0.1:{port}"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            wait_for_port(port, console)
            figures.update(_time_pages(home, port))
        finally:
            console.send_signal(signal.SIGTERM)
            console.wait(timeout=30)
        return figures


def _time_pages(home: Path, port: int) -> dict:
    context = ssl.create_default_context(cafile=str(home / "pki" / "ca.crt"))
    analysts = home / "pki" / "analysts"
    context.load_cert_chain(str(analysts / "bench.crt"), str(analysts / "bench.key"))
    conn = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=60)

    def get(path):
        def call():
            conn.request("GET", path)
            answer = conn.getresponse()
            body = answer.read()
            if answer.status != 200:
                raise SystemExit(f"{path}: HTTP {answer.status}")
            return body
        return call

    try:
        return {f"page {name}": timed(get(path)) for name, path in PAGES.items()}
    finally:
        conn.close()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--devices", type=int, default=100_000)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    figures = run(args)
    figures["total_seconds"] = time.perf_counter() - started
    if args.json:
        print(json.dumps(figures, indent=2))
        return 0
    print(f"{figures['devices']} devices, database built in {figures['build_seconds']:.1f} s")
    rows = [(name, *(round(value[k], 1) for k in ("first_ms", "median_ms", "max_ms")))
            for name, value in figures.items() if isinstance(value, dict)]
    print(table(["what", "first ms", "median ms", "max ms"], rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
