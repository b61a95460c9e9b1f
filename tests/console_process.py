"""The web console as analysts meet it: `farmwatch-collector console` as a subprocess on 127.0.0.1, a
collector home with relays, a suspicious laptop, a clean one and a cluster, and HTTPS requests made
with real client certificates."""
from __future__ import annotations

import http.client
import signal
import ssl
import subprocess
from pathlib import Path

from collector_process import BIN, ENV
from test_analyst_cli import fleet_home
from test_collector_cli import collector

from farmwatch.demo.launch import free_port, wait_for_port

TRUSTED_PROXY = "127.0.0.2"  # loopback too: a test connects from it to play the SSO proxy
IDENTITY_HEADER = "X-Forwarded-Email"


def make_home(tmp: Path, database_url: str = "") -> Path:
    """`fleet_home` (relays, a suspicious laptop, a clean one, a cluster) with 127.0.0.2 as the trusted proxy."""
    home = fleet_home(tmp, database_url)
    settings = home / "collector.toml"
    settings.write_text(settings.read_text().replace("console_trusted_proxies = []",
                                                     f'console_trusted_proxies = ["{TRUSTED_PROXY}"]'))
    return home


def issue_analyst(home: Path, name: str, p12: bool = False) -> tuple[Path, Path, str]:
    """(certificate, key, p12 passphrase or "") as `pki issue-analyst` writes them."""
    out = collector(home, "pki", "issue-analyst", name, *(["--p12"] if p12 else [])).stdout
    folder = home / "pki" / "analysts"
    passphrase = out.split("passphrase: ")[1].split()[0] if p12 else ""
    return folder / f"{name}.crt", folder / f"{name}.key", passphrase


class Console:
    def __init__(self, home: Path):
        self.home, self.port = home, free_port()
        self.url = f"https://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [str(BIN / "farmwatch-collector"), "--home", str(home), "console", "--listen", f"127.0.0.1:{self.port}"],
            env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        wait_for_port(self.port, self.process)

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.communicate(timeout=30)

    def connection(self, cert: Path | None = None, key: Path | None = None, source: str = "127.0.0.1"):
        """One HTTPS connection (kept alive across requests) that trusts only our CA."""
        context = ssl.create_default_context(cafile=str(self.home / "pki" / "ca.crt"))
        if cert:
            context.load_cert_chain(str(cert), str(key))
        return http.client.HTTPSConnection("127.0.0.1", self.port, context=context, source_address=(source, 0),
                                           timeout=30)

    def get(self, path: str, cert=None, key=None, headers=None, source: str = "127.0.0.1",
            method: str = "GET", body=None) -> tuple[int, str]:
        conn = self.connection(cert, key, source)
        try:
            return request(conn, path, headers, method, body)
        finally:
            conn.close()


def request(conn, path: str, headers=None, method: str = "GET", body=None) -> tuple[int, str]:
    conn.request(method, path, body=body, headers=headers or {})
    answer = conn.getresponse()
    body = answer.read().decode("utf-8")
    assert answer.getheader("Cache-Control") == "no-store" and answer.getheader("X-Frame-Options") == "DENY"
    return answer.status, body
