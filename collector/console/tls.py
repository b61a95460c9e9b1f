"""uvicorn over TLS that asks for a client certificate (optional: a trusted proxy may come without one)
and checks it against our CA in the handshake; each request gets the peer's certificate in
`request.state.peer_cert` (DER, or None) for `access.Gate`."""
from __future__ import annotations

import ssl

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from farmwatch.collector.pki import CertificateAuthority

PEER_CERT = "peer_cert"


class PeerCertificateProtocol(H11Protocol):
    """HTTP/1.1 as uvicorn speaks it, plus the TLS peer's certificate in each request's state."""

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        ssl_object = transport.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
        self.app_state = {**self.app_state, PEER_CERT: der}  # this connection's copy; uvicorn copies it per request


def server(app, pki_dir, host: str, port: int) -> uvicorn.Server:
    """A uvicorn server for `app` on host:port with the collector's own server certificate."""
    config = uvicorn.Config(
        app, host=host, port=port, http=PeerCertificateProtocol, lifespan="off", log_level="warning",
        ssl_certfile=str(pki_dir / CertificateAuthority.SERVER_CERT),
        ssl_keyfile=str(pki_dir / CertificateAuthority.SERVER_KEY),
        ssl_ca_certs=str(pki_dir / CertificateAuthority.CA_CERT), ssl_cert_reqs=ssl.CERT_OPTIONAL,
        proxy_headers=False, server_header=False)
    return uvicorn.Server(config)
