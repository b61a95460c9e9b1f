"""Who may use the console, decided on every request.

Two ways in, no other:
- an analyst certificate our CA signed, presented in the TLS handshake (`tls`): the role must be
  analyst, and the certificate neither expired nor revoked — checked per request, as the gRPC
  Query service does (`server.Authenticator`), so a revocation takes effect on the next page;
- an identity header (`console_identity_header`, e.g. oauth2-proxy's X-Forwarded-Email) on a
  request whose TCP peer is one of `console_trusted_proxies`: the SSO in front vouches for the
  person. The same header from any other address is forged, and refused.
A certificate from another CA never gets this far: TLS refuses it in the handshake.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from cryptography import x509

from farmwatch.collector import pki

VIA_CERTIFICATE = "console"
VIA_PROXY = "console-proxy"


@dataclass(frozen=True)
class Viewer:
    who: str
    via: str
    peer: str
    cert_serial: str = ""


class Refused(Exception):
    """The request may not go on: `status` for the answer, the message for the page and the audit."""

    def __init__(self, status: int, reason: str, who: str = "", cert_serial: str = ""):
        super().__init__(reason)
        self.status, self.who, self.cert_serial = status, who, cert_serial


class Gate:
    def __init__(self, authenticator, proxies: list[str], identity_header: str):
        self.authenticator = authenticator  # server.Authenticator: our CA, revocation
        self.proxies = [ipaddress.ip_network(p, strict=False) for p in proxies]
        self.header = identity_header.lower()

    def admit(self, peer: str, cert_der: bytes | None, headers) -> Viewer:
        claimed = (headers.get(self.header) or "").strip()
        if claimed or self._is_proxy(peer):
            return self._through_proxy(peer, claimed)
        if not cert_der:
            raise Refused(401, "this console needs an analyst certificate (import NAME.p12 from "
                               "`farmwatch-collector pki issue-analyst NAME --p12` in your browser) or sign-in "
                               "through your company's proxy")
        return self._by_certificate(peer, cert_der)

    def _through_proxy(self, peer: str, claimed: str) -> Viewer:
        if not self._is_proxy(peer):
            raise Refused(403, f"an identity header came from {peer}, which is not a trusted proxy "
                               "(console_trusted_proxies)", who=claimed)
        if not claimed:
            raise Refused(401, f"the proxy at {peer} sent no {self.header} header: sign in through it again")
        return Viewer(claimed, VIA_PROXY, peer)

    def _by_certificate(self, peer: str, cert_der: bytes) -> Viewer:
        cert = x509.load_der_x509_certificate(cert_der)
        identity = pki.identity_of(cert)
        if not pki.issued_by(cert, self.authenticator.ca_cert):
            raise Refused(403, "this certificate was not signed by the collector's CA", identity.subject)
        if identity.role != pki.ROLE_ANALYST:
            raise Refused(403, f"{identity.role or 'unknown'} certificates cannot use the console; it needs an "
                               "analyst certificate", identity.subject, identity.serial)
        refusal = self.authenticator.refusal(identity)
        if refusal:
            raise Refused(403, refusal, identity.subject, identity.serial)
        return Viewer(identity.subject, VIA_CERTIFICATE, peer, identity.serial)

    def _is_proxy(self, peer: str) -> bool:
        try:
            address = ipaddress.ip_address(peer)
        except ValueError:
            return False
        return any(address in net for net in self.proxies)
