"""Run the console: the gate, the audit log and the app on uvicorn, until SIGINT or SIGTERM."""
from __future__ import annotations

from farmwatch.collector import pki
from farmwatch.collector.audit import AuditLog
from farmwatch.collector.console import app, tls
from farmwatch.collector.console.access import Gate
from farmwatch.collector.server import Authenticator


def run(config, store, host: str, port: int) -> None:
    ca = pki.CertificateAuthority.load(config.pki_dir)
    gate = Gate(Authenticator(store, [], ca.cert), config.console_trusted_proxies, config.console_identity_header)
    audit = AuditLog(config.database)
    try:
        tls.server(app.build(config, store, gate, audit), config.pki_dir, host, port).run()
    finally:
        audit.close()
