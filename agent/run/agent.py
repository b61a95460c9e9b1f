"""The enrolled agent: its config, its outbox and its channel to the collector, and the scan
it runs (farmwatch.agent.scan unless a test gives its own)."""
from __future__ import annotations

from typing import Callable

from farmwatch.agent.identity import IdentityError
from farmwatch.agent.spool import Spool
from farmwatch.agent.state import StateDir
from farmwatch.agent.transport import CollectorClient, mtls_channel
from farmwatch.v1 import report_pb2

Scanner = Callable[[str | None], report_pb2.AgentReport]


class NotEnrolled(Exception):
    """The state dir holds no usable enrollment."""


def scan_report(sysroot: str | None = None) -> report_pb2.AgentReport:
    """The real scanner (farmwatch.agent.scan), imported on first use."""
    from farmwatch.agent.scan import build_report

    return build_report(sysroot=sysroot)


class Agent:
    """An enrolled agent: its config, its outbox and (opened when first needed) its channel."""

    def __init__(self, state: StateDir, scanner: Scanner = scan_report, timeout: float = 30.0):
        if not state.is_enrolled():
            raise NotEnrolled(f"{state.root} holds no enrollment")
        self.state = state
        self.config = state.load_config()
        self.scanner = scanner
        self.timeout = timeout
        self.interval = float(self.config.report_interval_seconds)
        self.spool = Spool(state.spool_file, self.config.spool.limits())
        self._client: CollectorClient | None = None

    @property
    def client(self) -> CollectorClient:
        if self._client is None:
            ca_pem, key_pem, cert_pem = _identity_files(self.state)
            channel = mtls_channel(
                self.config.collector, ca_pem=ca_pem, key_pem=key_pem, cert_pem=cert_pem,
                server_name=self.config.server_name,
            )
            self._client = CollectorClient(channel, self.timeout)
        return self._client

    def reconnect(self) -> None:
        """Drop the channel, so the next call presents the certificate now on disk."""
        if self._client is not None:
            self._client.close()
            self._client = None

    def reload(self) -> None:
        """Re-read agent.toml and reconnect: picks up an `enroll` run while the agent runs."""
        self.reconnect()
        self.config = self.state.load_config()

    def close(self) -> None:
        self.reconnect()
        self.spool.close()


def _identity_files(state: StateDir) -> tuple[bytes, bytes, bytes]:
    """CA, key and certificate as PEM, refused with what to do when one is damaged: gRPC given an
    empty CA trusts the system's public roots instead, given an empty key it aborts the process,
    and given a garbled one it only says UNAVAILABLE, as if the collector were down."""
    ca_pem, key_pem = state.ca_certificate.read_bytes(), state.key.read_bytes()
    cert_pem = state.certificate.read_bytes()
    if b"-----BEGIN CERTIFICATE-----" not in ca_pem:
        raise IdentityError(f"{state.ca_certificate} holds no PEM certificate (it pins the collector's CA); "
                            "enroll again with --force and --ca-cert")
    if b"PRIVATE KEY-----" not in key_pem:
        raise IdentityError(f"{state.key} holds no PEM private key; move it away and enroll again")
    if b"-----BEGIN CERTIFICATE-----" not in cert_pem:
        raise IdentityError(f"{state.certificate} is not a PEM certificate; enroll again")
    return ca_pem, key_pem, cert_pem
