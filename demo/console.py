"""The demo's last step: the security team's web console on the demo's collector, started for a moment
to show it answers an analyst's certificate, then how to open it in a browser."""
from __future__ import annotations

import http.client
import signal
import ssl
import subprocess
from pathlib import Path

from farmwatch.common.names import COLLECTOR_PROGRAM
from farmwatch.demo.launch import free_port, wait_for_port

ANALYST = "analyst"
CONSOLE_PORT = 8443  # the address printed for later: console_listen's default


def show_console(home: Path, run, bin_dir: Path) -> str:
    """Issue the analyst's browser bundle, serve the console, fetch its overview with that certificate;
    returns the passphrase of the .p12."""
    out = run(COLLECTOR_PROGRAM, "--home", home, "pki", "issue-analyst", ANALYST, "--p12", capture=True)
    passphrase = out.split("passphrase: ")[1].split()[0]
    port = free_port()
    print(f"$ {COLLECTOR_PROGRAM} --home {home} console --listen 127.0.0.1:{port} &", flush=True)
    console = subprocess.Popen([str(bin_dir / COLLECTOR_PROGRAM), "--home", str(home), "console", "--listen",
                                f"127.0.0.1:{port}"], stdout=subprocess.DEVNULL)
    try:
        wait_for_port(port, console)
        status, title = _overview(home, port)
        print(f"GET https://127.0.0.1:{port}/ with {ANALYST}'s certificate: HTTP {status}, {title!r}", flush=True)
    finally:
        console.send_signal(signal.SIGTERM)
        console.wait(timeout=30)
    return passphrase


def _overview(home: Path, port: int) -> tuple[int, str]:
    context = ssl.create_default_context(cafile=str(home / "pki" / "ca.crt"))
    analysts = home / "pki" / "analysts"
    context.load_cert_chain(str(analysts / f"{ANALYST}.crt"), str(analysts / f"{ANALYST}.key"))
    conn = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=30)
    try:
        conn.request("GET", "/")
        answer = conn.getresponse()
        body = answer.read().decode("utf-8")
    finally:
        conn.close()
    return answer.status, body.split("<title>")[1].split("</title>")[0] if "<title>" in body else ""


def how_to_open(home: Path, passphrase: str, kept: bool) -> str:
    address = f"https://127.0.0.1:{CONSOLE_PORT}/"
    if not kept:
        return (f"the web console: run `make demo DEMO_ARGS=\"--keep DIR\"` to keep a collector whose console you "
                f"can open at {address} (the demo prints how)")
    return (f"the web console: {address}\n"
            f"  {COLLECTOR_PROGRAM} --home {home} console --listen 127.0.0.1:{CONSOLE_PORT}\n"
            f"  then import {home / 'pki' / 'analysts' / (ANALYST + '.p12')} into your browser's certificates "
            f"(passphrase {passphrase}),\n  trust {home / 'pki' / 'ca.crt'} as a certificate authority, and open "
            f"{address}")
