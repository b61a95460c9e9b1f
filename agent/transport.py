"""Talking to the collector: gRPC channels that trust only our CA, one call at a time with a
deadline, and failures sorted by what the agent should do next (the backoff between retries is
farmwatch.common.backoff).

What happens to a report the collector did not take:

* RETRY — the collector is unreachable, overloaded or failing (UNAVAILABLE, DEADLINE_EXCEEDED,
  RESOURCE_EXHAUSTED, INTERNAL, UNKNOWN, …): the report stays spooled and draining pauses, with
  backoff. A collector that answers one report with such an error but takes the report behind
  it is healthy and chokes on that one (e.g. it is over the collector's size limit); after
  `MAX_CHOKED_ATTEMPTS` such cycles the report is dropped (and counted), so it cannot block the
  queue forever, while an overloaded or broken collector never costs a report: a deadline or the
  collector's "busy" never counts against a report (`CollectorError.about_load`).
* REJECT — the collector says the report itself is wrong (INVALID_ARGUMENT, FAILED_PRECONDITION,
  OUT_OF_RANGE): resending it can never succeed, so it is dropped (and counted) and draining
  goes on with the next one.
* IDENTITY — our certificate was refused (UNAUTHENTICATED, PERMISSION_DENIED: revoked, expired,
  device id mismatch): nothing is wrong with the reports, they stay spooled, and the agent says
  it must be enrolled again.
"""
from __future__ import annotations

import enum
import re

import grpc

from farmwatch.agent import __version__
from farmwatch.common import bootstrap
from farmwatch.common.names import COLLECTOR_PROGRAM
from farmwatch.v1 import collector_pb2, collector_pb2_grpc, report_pb2

DEFAULT_TIMEOUT = 30.0
MAX_CHOKED_ATTEMPTS = 5

_ADDRESS = re.compile(r"^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):(\d{1,5})$")


class Disposition(enum.Enum):
    RETRY = "retry"
    REJECT = "reject"
    IDENTITY = "identity"


_REJECT = {grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.OUT_OF_RANGE}
_IDENTITY = {grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED}
# Codes that mean no collector answered at all; these never count against a report.
_UNREACHED = {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED}


def classify(code: grpc.StatusCode) -> Disposition:
    if code in _REJECT:
        return Disposition.REJECT
    if code in _IDENTITY:
        return Disposition.IDENTITY
    return Disposition.RETRY


class CollectorError(Exception):
    """A call to the collector that failed, with the gRPC status it failed with."""

    def __init__(self, code: grpc.StatusCode, details: str):
        super().__init__(f"{code.name}: {details}")
        self.code = code
        self.details = details

    @property
    def disposition(self) -> Disposition:
        return classify(self.code)

    @property
    def collector_answered(self) -> bool:
        return self.code not in _UNREACHED

    @property
    def about_load(self) -> bool:
        """The collector is short of time or room whichever report comes: a deadline, or its
        RESOURCE_EXHAUSTED "busy" (not gRPC's own RESOURCE_EXHAUSTED for a message too large)."""
        return self.code is grpc.StatusCode.DEADLINE_EXCEEDED or (
            self.code is grpc.StatusCode.RESOURCE_EXHAUSTED and "busy" in self.details)


_WRONG_NAME = ("hostname verification", "not in peer certificate")  # grpcio's words, new and old


def explain_wrong_name(error: CollectorError, address: str, ca_pem: bytes, server_name: str = "") -> CollectorError:
    """`error` as is, unless the collector's certificate (from our CA) does not name the host we
    asked for: then an error naming the names it has and the command that fixes them."""
    if error.code is not grpc.StatusCode.UNAVAILABLE or not any(w in error.details.lower() for w in _WRONG_NAME):
        return error
    wanted = server_name or _host(address)
    names = certificate_names(address, ca_pem)
    has = f"it names {', '.join(names)}" if names else "its names could not be read"
    keep = "".join(f" --san {name}" for name in names or ["..."])
    return CollectorError(error.code, (
        f"the collector's certificate is not valid for {wanted} ({has}). On the collector, reissue it with "
        f"every name agents use: `{COLLECTOR_PROGRAM} --home HOME pki issue-server --san {wanted}{keep}`; "
        "or reach it by one of its names (--server-name NAME)"))


def certificate_names(address: str, ca_pem: bytes, timeout: float = 5.0) -> list[str]:
    """The names (SANs) in the certificate the collector at `address` presents, if our CA signed
    it; [] when that cannot be learnt. A TLS handshake of its own, that sends nothing."""
    import socket
    import ssl

    try:
        context = ssl.create_default_context(cadata=ca_pem.decode("ascii", "replace"))
        context.check_hostname = False  # the point is to learn its names, not to match ours
        host, port = _host(address), int(address.rsplit(":", 1)[1])
        with socket.create_connection((host, port), timeout) as raw, context.wrap_socket(raw) as tls:
            return [value for _, value in tls.getpeercert().get("subjectAltName", ())]
    except (OSError, ValueError):  # ssl.SSLError is an OSError
        return []


def _host(address: str) -> str:
    return address.rsplit(":", 1)[0].strip("[]")


def check_address(address: str) -> str:
    """HOST:PORT (IPv6 in brackets), or several separated by commas (collectors sharing one
    database, docs/scale.md); ValueError with the expected shape otherwise."""
    for one in (address or "").split(","):
        match = _ADDRESS.match(one.strip())
        if not match or not 0 < int(match.group(1)) < 65536:
            raise ValueError(f"collector address {address!r} is not HOST:PORT (e.g. collector.example.com:7443), "
                             "or several of them separated by commas")
    return address


def _target(address: str) -> str:
    """The gRPC target: HOST:PORT as it is; several as one target of all their IPv4 addresses, so
    the channel uses the first that answers and moves to the next when it stops answering."""
    several = [one.strip() for one in check_address(address).split(",")]
    if len(several) == 1:
        return address
    import socket

    resolved = []
    for one in several:
        host, port = _host(one), one.rsplit(":", 1)[1]
        try:
            resolved += [f"{info[4][0]}:{port}" for info in socket.getaddrinfo(host, port, socket.AF_INET)]
        except OSError:  # a name that does not resolve now: the others still serve
            continue
    return "ipv4:" + ",".join(dict.fromkeys(resolved)) if resolved else several[0]


def mtls_channel(address: str, *, ca_pem: bytes, key_pem: bytes, cert_pem: bytes,
                 server_name: str = "") -> grpc.Channel:
    """A channel that presents our client certificate and trusts only `ca_pem`."""
    credentials = grpc.ssl_channel_credentials(
        root_certificates=ca_pem, private_key=key_pem, certificate_chain=cert_pem
    )
    return _secure_channel(address, credentials, server_name)


def enrollment_channel(address: str, *, ca_pem: bytes, server_name: str = "") -> grpc.Channel:
    """A channel for Enroll: trusts only `ca_pem` and presents the public bootstrap identity,
    because the collector's TLS port asks every client for a certificate (see common/bootstrap.py)."""
    credentials = grpc.ssl_channel_credentials(
        root_certificates=ca_pem,
        private_key=bootstrap.key_pem(),
        certificate_chain=bootstrap.certificate_pem(),
    )
    return _secure_channel(address, credentials, server_name)


def _secure_channel(address: str, credentials, server_name: str) -> grpc.Channel:
    options = [("grpc.primary_user_agent", f"farmwatch-agent/{__version__}")]
    if "," in address:  # several collectors share pki/ and so one server certificate: expect the first name
        server_name = server_name or _host(address.split(",")[0].strip())
    if server_name:
        options.append(("grpc.ssl_target_name_override", server_name))
    # Reports are text-heavy (package and process names): gzip sends a 40-110 KB report as 8-18 KB.
    # The collector's gRPC server takes gzip without being told.
    return grpc.secure_channel(_target(address), credentials, options=options,
                               compression=grpc.Compression.Gzip)


class CollectorClient:
    """The Collector service, one blocking call at a time, each with a deadline."""

    def __init__(self, channel: grpc.Channel, timeout: float = DEFAULT_TIMEOUT):
        self._channel = channel
        self._stub = collector_pb2_grpc.CollectorStub(channel)
        self.timeout = timeout

    def close(self) -> None:
        self._channel.close()

    def __enter__(self) -> "CollectorClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def enroll(self, request: collector_pb2.EnrollRequest) -> collector_pb2.EnrollResponse:
        return self._call(self._stub.Enroll, request)

    def report(self, report: report_pb2.AgentReport) -> collector_pb2.ReportAck:
        return self._call(self._stub.Report, report)

    def renew(self, csr_pem: bytes) -> collector_pb2.RenewResponse:
        return self._call(self._stub.Renew, collector_pb2.RenewRequest(csr_pem=csr_pem))

    def _call(self, method, request):
        try:
            return method(request, timeout=self.timeout)
        except grpc.RpcError as exc:
            raise CollectorError(exc.code(), exc.details() or "") from None
