"""uvicorn over TLS that asks for a client certificate (optional: a trusted proxy may come without one)
and checks it against our CA in the handshake; each request gets the peer's certificate in
`request.state.peer_cert` (DER, or None) for `access.Gate`.

The handshake is ours, not the event loop's: uvicorn listens on plain TCP and each connection is
upgraded with `loop.start_tls`, so a refused handshake (a certificate from another CA, plain HTTP
on the HTTPS port) is seen with the client's address and written to the audit trail — rate-limited
(`RefusedHandshakes`), as a scanner can fail handshakes as fast as it can connect."""
from __future__ import annotations

import asyncio
import functools
import logging
import ssl
import time

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from farmwatch.collector.audit import AuditUnavailable
from farmwatch.collector.pki import CertificateAuthority

PEER_CERT = "peer_cert"
HANDSHAKE_SECONDS = 30.0
ACTION = "console-tls"
log = logging.getLogger("farmwatch.collector.console")


class RefusedHandshakes:
    """Which refused handshakes get an audit row: at most one per client address a minute, and
    `per_minute` in all; the ones passed over are counted into the next row written."""

    def __init__(self, audit, per_minute: int = 60, window: float = 60.0):
        self.audit, self.per_minute, self.window = audit, per_minute, window
        self._last_row_by_peer: dict[str, float] = {}
        self._window_start, self._rows_in_window, self.passed_over = float("-inf"), 0, 0

    def allow(self, peer: str, now: float) -> bool:
        if now - self._window_start >= self.window:
            self._window_start, self._rows_in_window = now, 0
            self._last_row_by_peer = {p: t for p, t in self._last_row_by_peer.items() if now - t < self.window}
        last = self._last_row_by_peer.get(peer)
        if self._rows_in_window >= self.per_minute or (last is not None and now - last < self.window):
            self.passed_over += 1
            return False
        self._rows_in_window += 1
        self._last_row_by_peer[peer] = now
        return True

    async def refused(self, peer: str, exc: ssl.SSLError) -> None:
        if not self.allow(peer, time.monotonic()):
            return
        reason = f"TLS handshake refused: {why(exc)}"
        if self.passed_over:
            reason += f" ({self.passed_over} more refused handshake(s) not audited, rate limit)"
            self.passed_over = 0
        log.warning("event=console_handshake_refused peer=%s reason=%r", peer, reason)
        try:
            await asyncio.to_thread(self.audit.refused, who="unknown", via="console", action=ACTION, reason=reason,
                                    peer=peer)
        except AuditUnavailable as exc:  # turned away all the same
            log.error("event=audit_unavailable reason=%r", str(exc))


def why(exc: ssl.SSLError) -> str:
    """The handshake's failure in words an auditor can act on."""
    if getattr(exc, "verify_message", None):
        return f"the client certificate failed verification: {exc.verify_message} (not issued by this collector's CA)"
    if exc.reason == "HTTP_REQUEST":
        return "plain HTTP sent to the HTTPS port"
    return exc.reason or str(exc)


class PeerCertificateProtocol(H11Protocol):
    """HTTP/1.1 as uvicorn speaks it, over a TLS handshake of its own (see the module's note), with the
    TLS peer's certificate in each request's state."""

    def __init__(self, *args, tls: ssl.SSLContext, handshakes: RefusedHandshakes, **kwargs):
        super().__init__(*args, **kwargs)
        self.tls, self.handshakes, self.handshake = tls, handshakes, None
        self.upgraded = self.lost = False
        self._early: list[bytes] = []  # what the TLS layer passed up before our task resumed after the handshake

    def connection_made(self, transport) -> None:
        transport.pause_reading()  # the ClientHello is for start_tls, not for HTTP
        self.handshake = self.loop.create_task(self._upgrade(transport))  # held: the loop keeps tasks weakly

    async def _upgrade(self, raw) -> None:
        peer = (raw.get_extra_info("peername") or ("",))[0]
        try:
            tls = await self.loop.start_tls(raw, self, self.tls, server_side=True,
                                            ssl_handshake_timeout=HANDSHAKE_SECONDS)
        except ssl.SSLError as exc:  # start_tls has closed the connection
            await self.handshakes.refused(peer, exc)
            return
        except (OSError, asyncio.TimeoutError):  # the client went away, or never finished: nothing was claimed
            return
        if self.lost:  # gone between the handshake and now: never registered, so nothing to close
            return
        der = tls.get_extra_info("ssl_object").getpeercert(binary_form=True)
        self.app_state = {**self.app_state, PEER_CERT: der}  # this connection's copy; uvicorn copies it per request
        self.upgraded = True
        super().connection_made(tls)
        for data in self._early:
            super().data_received(data)
        self._early.clear()

    def data_received(self, data: bytes) -> None:
        if self.upgraded:
            super().data_received(data)
        else:
            self._early.append(data)

    def connection_lost(self, exc) -> None:
        if self.upgraded:
            super().connection_lost(exc)
        else:  # a failed handshake ends `_upgrade` by itself; one that succeeded must not go on
            self.lost = True


def client_certificate_context(pki_dir) -> ssl.SSLContext:
    """Our server certificate; a client certificate asked for and, when sent, checked against our CA."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(pki_dir / CertificateAuthority.SERVER_CERT),
                            str(pki_dir / CertificateAuthority.SERVER_KEY))
    context.load_verify_locations(str(pki_dir / CertificateAuthority.CA_CERT))
    context.verify_mode = ssl.CERT_OPTIONAL
    return context


def server(app, pki_dir, host: str, port: int, audit) -> uvicorn.Server:
    """A uvicorn server for `app` on host:port with the collector's own server certificate."""
    protocol = functools.partial(PeerCertificateProtocol, tls=client_certificate_context(pki_dir),
                                 handshakes=RefusedHandshakes(audit))
    config = uvicorn.Config(app, host=host, port=port, http=protocol, lifespan="off", log_level="warning",
                            proxy_headers=False, server_header=False)
    return uvicorn.Server(config)
