"""`farmwatch-collector serve`: the gRPC service over mutual TLS.

TLS demands a client certificate chained to our CA (or the public enrollment bootstrap
certificate, good for Enroll only); a client without one, with one from another CA, expired or
not yet valid, fails the handshake and never reaches this code. Everything else — revocation,
role, the device id in the report — is checked here on every call.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import logging
import os
import signal
import threading
import uuid
from concurrent import futures
from functools import lru_cache

import grpc
from cryptography import x509
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1.health import aio as health_aio

from farmwatch.collector import enrollment, ingest, pki, query_service, threads
from farmwatch.collector.storage import describe as describe_database
from farmwatch.collector.audit import AuditLog
from farmwatch.collector.budget import Budget, DeviceBudgets, OverBudget
from farmwatch.collector.config import CollectorConfig, ConfigError
from farmwatch.collector.fleet.neighbourhood import hasher_for
from farmwatch.collector.jobs import Jobs
from farmwatch.collector.ingest import Store
from farmwatch.collector.storage import StoreFull, Unavailable
from farmwatch.collector.undecodable import RejectUndecodable
from farmwatch.common import bootstrap
from farmwatch.common.clock import utcnow
from farmwatch.common.device_id import canonical_device_id
from farmwatch.v1 import collector_pb2, collector_pb2_grpc, query_pb2_grpc

log = logging.getLogger("farmwatch.collector.server")
SERVICE_NAME = "farmwatch.v1.Collector"
ROLE_BOOTSTRAP = "enrollment"


# What one client (any stack, any intent: the bootstrap certificate is public) may hold of the
# transport. gRPC core's defaults allow unlimited streams per connection (one connection with 20,000
# open streams stalled every other agent's report for 10 s), a TCP connection that never starts TLS
# for 120 s, and an idle connection forever.
TRANSPORT_LIMITS = [
    ("grpc.max_concurrent_streams", 100),           # per connection; an agent uses one at a time
    ("grpc.server_handshake_timeout_ms", 20_000),   # TCP connected, TLS not done: closed after 20 s
    ("grpc.max_connection_idle_ms", 15 * 60_000),   # no call for 15 min: GOAWAY (clients reconnect)
    # Each connection is made again at least hourly (calls running go on until they end), so a new
    # handshake sees a rotated server certificate and its chain, as `pki` rotation expects.
    ("grpc.max_connection_age_ms", 60 * 60_000),
]


@lru_cache(maxsize=4096)
def _identity_from_pem(pem: bytes) -> pki.Identity:
    return pki.identity_of(x509.load_pem_x509_certificate(pem))


class Authenticator:
    def __init__(self, store: Store, trusted_proxies: list[str], ca_cert: x509.Certificate):
        self.store = store
        self.proxies = [ipaddress.ip_network(p, strict=False) for p in trusted_proxies]
        self.ca_cert = ca_cert
        self.bootstrap_serial = pki.identity_of(
            x509.load_pem_x509_certificate(bootstrap.certificate_pem())).serial

    def identity(self, context, refused=None) -> pki.Identity:
        """The caller's verified identity, or abort UNAUTHENTICATED. `refused(identity, reason)`, if
        given, hears first of a certificate our CA signed that may not call (any more): revoked or
        expired (the Query service audits such calls)."""
        pems = context.auth_context().get("x509_pem_cert")
        if not pems:
            context.abort(grpc.StatusCode.UNAUTHENTICATED, "a client certificate is required")
        identity = _identity_from_pem(pems[0])
        if identity.serial == self.bootstrap_serial:
            identity = pki.Identity(identity.serial, "", ROLE_BOOTSTRAP, identity.not_after)
        elif not _issued_by(pems[0], self.ca_cert):
            # Certificates are looked up by serial, so the serial must be one our CA signed: TLS also
            # accepts a chain through an intermediate (the CA's pathlen:0 is not enforced on a trust
            # anchor), and this CA never signs intermediates.
            context.abort(grpc.StatusCode.UNAUTHENTICATED,
                          "this certificate was not signed by the collector's CA itself; enroll again")
        refusal = self.refusal(identity)
        if refusal:
            if refused is not None:
                refused(identity, refusal)
            context.abort(grpc.StatusCode.UNAUTHENTICATED, refusal)
        return identity

    def refusal(self, identity: pki.Identity) -> str | None:
        """Why `identity` may not call (any more), or None. Asked on every call, and again now and
        then by a long stream: TLS checks validity at the handshake only, so a connection opened
        before the certificate expired or was revoked would otherwise keep working with it."""
        if identity.not_after <= utcnow():
            return (f"certificate {identity.serial} expired at {identity.not_after.isoformat()}; "
                    "enroll again (renew before it expires)")
        if identity.role == ROLE_BOOTSTRAP:
            return None
        status = enrollment.certificate_status(self.store, identity.serial)
        if status is None:
            return "this certificate is not one this collector issued; enroll again"
        if status[1]:
            reason = f" ({status[2]})" if status[2] else ""
            return f"certificate {identity.serial} was revoked at {status[1]}{reason}"
        return None

    def require(self, context, role: str) -> pki.Identity:
        identity = self.identity(context)
        if identity.role != role:
            context.abort(grpc.StatusCode.PERMISSION_DENIED,
                          f"{identity.role} certificates cannot make this call; it needs an {role} certificate")
        return identity

    def client_ip(self, context) -> str:
        """The caller's address; behind a trusted proxy, the address the proxy forwarded.

        X-Forwarded-For is read right to left (every header of that name, in order), skipping our
        proxies; the first other hop is the client if it is an IP address (a port after it, as some
        proxies add, is dropped). Anything else there ("unknown", a name, garbage) is no address:
        the proxy's own is used, so such a value can never become a stored peer or a rate-limit key."""
        peer = _peer_ip(context.peer())
        if not (self.proxies and _in(peer, self.proxies)):
            return peer
        forwarded = ",".join(value for key, value in context.invocation_metadata() if key == "x-forwarded-for")
        for hop in reversed([h.strip() for h in forwarded.split(",") if h.strip()]):
            address = _hop_ip(hop)
            if address is None:
                return peer
            if not _in(address, self.proxies):
                return address
        return peer


@lru_cache(maxsize=4096)
def _issued_by(pem: bytes, ca_cert: x509.Certificate) -> bool:
    """`pki.issued_by`, worked out once per certificate: a client presents the same one on every call."""
    try:
        cert = x509.load_pem_x509_certificate(pem)
    except ValueError:
        return False
    return pki.issued_by(cert, ca_cert)


def _canonical_uuid(text: str) -> str:
    """One spelling per UUID (lower case, hyphens), so that a client sending the same report id in
    upper case, in braces or without hyphens gets `duplicate` instead of a second stored copy.
    Text that is no UUID is left for validation to refuse."""
    try:
        return str(uuid.UUID(text))
    except ValueError:
        return text


def _peer_ip(peer: str) -> str:
    # "ipv4:127.0.0.1:5555", "ipv6:[::1]:5555"
    kind, _, rest = peer.partition(":")
    host = rest.rsplit(":", 1)[0] if kind in ("ipv4", "ipv6") else rest
    return host.strip("[]")


def _hop_ip(hop: str) -> str | None:
    """An X-Forwarded-For entry as an IP address: "203.0.113.5", "203.0.113.5:4711", "2001:db8::5"
    or "[2001:db8::5]:443"; None when it is none of these."""
    if hop.startswith("["):
        hop = hop[1:].partition("]")[0]
    elif hop.count(":") == 1:
        hop = hop.partition(":")[0]
    try:
        return str(ipaddress.ip_address(hop))
    except ValueError:
        return None


def _in(address: str, networks) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in networks)


class _RejectUndecodableInOurServices(RejectUndecodable):
    """RejectUndecodable for farmwatch's services, not for the standard health service: its
    servicer is asynchronous and must stay so — a Health/Watch made to run in a worker thread holds
    it for as long as the watcher stays, so a few watches (the bootstrap certificate is public) and
    no report gets a thread."""

    async def intercept_service(self, continuation, handler_call_details):
        if handler_call_details.method.startswith("/grpc.health.v1.Health/"):
            return await continuation(handler_call_details)
        return await super().intercept_service(continuation, handler_call_details)


def _own_fault(context, event: str, subject: str, task: str, outcome: str) -> None:
    """A fault of the collector's own (its database, its disk), not the caller's: logged, and an
    answer the agent can act on instead of gRPC's UNKNOWN 'Exception calling application'."""
    log.exception("event=%s subject=%r", event, subject)
    context.abort(grpc.StatusCode.INTERNAL, f"the collector failed to {task} (its log says why); {outcome}")


class CollectorService(collector_pb2_grpc.CollectorServicer):
    def __init__(self, config: CollectorConfig, store: Store, ca: pki.CertificateAuthority,
                 queue: ingest.IngestQueue, classify):
        self.config, self.queue, self.classify = config, queue, classify
        self.auth = Authenticator(store, config.trusted_proxies, ca.cert)
        self.enrollment = enrollment.Enrollment(
            store, ca, cert_lifetime=dt.timedelta(days=config.client_cert_days))
        self.ca_pem = ca.cert_pem
        self.budgets = device_budgets(config)

    def Enroll(self, request, context):
        self.auth.identity(context)  # any of ours or the bootstrap one; the token decides
        peer = self.auth.client_ip(context)
        try:
            pem = self.enrollment.enroll(token=request.token, csr_pem=request.csr_pem,
                                         device_id=request.device_id, peer_ip=peer)
        except enrollment.EnrollmentRefused as exc:
            log.warning("event=enroll_refused device_id=%r peer=%s reason=%r", request.device_id, peer, str(exc))
            context.abort(getattr(grpc.StatusCode, exc.code), str(exc))
        except Exception:
            _own_fault(context, "enroll_failed", request.device_id, "enroll this device",
                       "no certificate was issued and the token was not spent: try again later")
        log.info("event=enrolled device_id=%s peer=%s", request.device_id, peer)
        cert = x509.load_pem_x509_certificate(pem)
        response = collector_pb2.EnrollResponse(
            device_id=pki.identity_of(cert).subject, certificate_pem=pem, ca_certificate_pem=self.ca_pem,
            report_interval_seconds=self.config.report_interval_seconds)
        response.not_after.FromDatetime(cert.not_valid_after_utc)
        return response

    def Report(self, request, context):
        identity = self.auth.require(context, pki.ROLE_AGENT)
        if not request.device_id:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT,
                          f"device_id is empty; set it to this certificate's device id, {identity.subject}")
        if canonical_device_id(request.device_id) != canonical_device_id(identity.subject):
            log.warning("event=report_refused reason=device_mismatch cert=%s report=%r",
                        identity.subject, request.device_id)
            context.abort(grpc.StatusCode.PERMISSION_DENIED,
                          f"this certificate speaks for device {identity.subject}, "
                          f"not {request.device_id}")
        request.device_id = identity.subject  # one spelling in storage: the one certified
        given_id = request.report_id
        request.report_id = _canonical_uuid(given_id)
        with self._admitted(identity.subject, request.ByteSize(), context):
            result, refusal = self._store(request, identity, context)
        if refusal:  # answered once the device's next report may come in
            context.abort(*refusal)
        return collector_pb2.ReportAck(report_id=given_id, report_interval_seconds=self.config.report_interval_seconds,
                                       **result.ack_fields())

    def _store(self, request, identity: pki.Identity, context):
        """(IngestResult, None) once the report is stored, or (None, (code, details)) to answer."""
        try:
            store = self.queue.store
            item = ingest.prepare(request, peer_ip=self.auth.client_ip(context), cert_serial=identity.serial,
                                  classify=self.classify, states=store.states)
            ingest.prepare_write(item, store.wifi)  # here, in parallel, not in the writer's turn
            return self.queue.submit(item).result(), None
        except ingest.InvalidReport as exc:
            log.warning("event=report_refused reason=invalid device_id=%s error=%r", identity.subject, str(exc))
            return None, (grpc.StatusCode.INVALID_ARGUMENT, str(exc))
        except ingest.Overloaded as exc:
            return None, (grpc.StatusCode.RESOURCE_EXHAUSTED, str(exc))
        except (StoreFull, Unavailable) as exc:
            why = "storage full" if isinstance(exc, StoreFull) else "its database cannot be reached"
            return None, (grpc.StatusCode.UNAVAILABLE,
                          f"the collector cannot store reports right now ({why}); keep them spooled")
        except Exception:
            log.exception("event=report_failed subject=%r", request.report_id)
            return None, (grpc.StatusCode.INTERNAL, "the collector failed to store this report (its log says why); "
                          "nothing was stored: keep it spooled and send it again later")

    def _admitted(self, device_id: str, size: int, context):
        """The device's budget for this report (`budget.DeviceBudgets`), or RESOURCE_EXHAUSTED. The
        answer says "busy": agents back off on that word and keep the report spooled, without
        counting the refusal against the report (agent/transport.py `about_load`)."""
        try:
            return self.budgets.admit(device_id, size)
        except OverBudget as exc:
            log.warning("event=report_refused reason=over_budget device_id=%s detail=%r", device_id, str(exc))
            context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, f"the collector is busy for device {device_id}: "
                          f"{exc}; keep the report spooled and retry with backoff")

    def Renew(self, request, context):
        identity = self.auth.identity(context)
        if identity.role not in (pki.ROLE_AGENT, pki.ROLE_ANALYST):
            context.abort(grpc.StatusCode.PERMISSION_DENIED, "enroll first; the bootstrap identity cannot renew")
        try:
            pem = self.enrollment.renew(identity, request.csr_pem, self.auth.client_ip(context))
        except enrollment.EnrollmentRefused as exc:
            context.abort(getattr(grpc.StatusCode, exc.code), str(exc))
        except Exception:
            _own_fault(context, "renew_failed", identity.subject, "renew this certificate",
                       "the current certificate still works: try again later")
        response = collector_pb2.RenewResponse(certificate_pem=pem)
        response.not_after.FromDatetime(x509.load_pem_x509_certificate(pem).not_valid_after_utc)
        return response


def cannot_listen(listen: str) -> ConfigError:
    return ConfigError(f"cannot listen on {listen}: the port is in use (another collector?) or the address is not "
                       "one of this machine's; pick another with --listen")


def device_budgets(config: CollectorConfig) -> DeviceBudgets:
    return DeviceBudgets(Budget(config.device_report_burst, config.device_reports_per_hour / 3600),
                         Budget(config.device_byte_burst, config.device_bytes_per_day / 86400))


def server_credentials(ca: pki.CertificateAuthority) -> grpc.ServerCredentials:
    """mTLS credentials that pick up a replaced server certificate at the next handshake."""
    roots = ca.cert_pem + bootstrap.ca_pem()
    cert_path = ca.directory / ca.SERVER_CERT
    loaded = {"mtime": None}

    def configuration():
        loaded["mtime"] = os.stat(cert_path).st_mtime_ns
        return grpc.ssl_server_certificate_configuration([ca.server_credentials_pem()], roots)

    def fetch():
        try:
            changed = os.stat(cert_path).st_mtime_ns != loaded["mtime"]
            return configuration() if changed else None
        except OSError:
            log.exception("event=server_cert_reload_failed")
            return None

    return grpc.dynamic_ssl_server_credentials(configuration(), fetch, require_client_authentication=True)


class _EventLoop:
    """An asyncio event loop on a thread of its own: the home of the grpc.aio server, which reads
    requests and writes responses there; servicers run in the worker pool (`threads.InThreads`)."""

    def __init__(self):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="grpc-aio", daemon=True)
        self.thread.start()

    def run(self, coroutine, timeout: float | None = None):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join()
        self.loop.close()


class CollectorServer:
    """The running service: gRPC server, health, ingest writer. `stop()` drains in-flight reports.

    `worker=True` makes one of `serve --workers N`'s processes (collector/workers.py): it shares
    the port with the others (SO_REUSEPORT) and leaves the jobs to the parent."""

    def __init__(self, config: CollectorConfig, worker: bool = False):
        self.config, self.worker = config, worker
        self.ca = pki.CertificateAuthority.load(config.pki_dir)
        self.jobs = None if worker else Jobs(config, self.ca)
        self.store = Store(config.database, wifi=hasher_for(config))
        self.queue = ingest.IngestQueue(self.store, max_pending=config.max_pending_reports,
                                        max_batch=config.max_batch_reports)
        from farmwatch.collector.detect import Policy

        classify = ingest.classifier(Policy.from_config({"allow": config.allow, "fleet": config.fleet}),
                                     ingest.DeviceGroups(self.store))
        self.audit = AuditLog(config.database)
        self.pool = futures.ThreadPoolExecutor(max_workers=config.workers, thread_name_prefix="rpc")
        analysts = Authenticator(self.store, config.trusted_proxies, self.ca.cert)
        services = (CollectorService(config, self.store, self.ca, self.queue, classify),
                    query_service.QueryService(self.store, analysts, self.audit, config.max_message_bytes))
        self.events = _EventLoop()
        try:
            self.port = self.events.run(self._build(services))
        except RuntimeError:
            self.port = 0
        if not self.port:
            self.events.close()
            self.pool.shutdown()
            self.queue.close()
            self.audit.close()
            self.store.close()
            raise cannot_listen(config.listen)

    async def _build(self, services) -> int:
        """The grpc.aio server, made on its event loop; returns the port it listens on."""
        options = [("grpc.max_receive_message_length", self.config.max_message_bytes),
                   ("grpc.max_send_message_length", self.config.max_message_bytes),
                   # A second collector on this port must fail, not share it: only the workers of one
                   # share it, once their parent has made sure the port is theirs (workers.py).
                   ("grpc.so_reuseport", int(self.worker)),
                   *TRANSPORT_LIMITS]
        # Interceptors nest: InThreads sees the handler RejectUndecodable made, and runs it in the pool.
        self.grpc = grpc.aio.server(migration_thread_pool=self.pool, options=options,
                                    interceptors=[threads.InThreads(self.pool), _RejectUndecodableInOurServices()])
        self.health = health_aio.HealthServicer()
        collector, query = services
        collector_pb2_grpc.add_CollectorServicer_to_server(collector, self.grpc)
        query_pb2_grpc.add_QueryServicer_to_server(query, self.grpc)
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.grpc)
        return self.grpc.add_secure_port(self.config.listen, server_credentials(self.ca))

    async def _start(self) -> None:
        await self.grpc.start()
        for service in ("", SERVICE_NAME, query_service.SERVICE_NAME):
            await self.health.set(service, health_pb2.HealthCheckResponse.SERVING)

    async def _stop(self, grace: float) -> None:
        await self.health.enter_graceful_shutdown()
        await self.grpc.stop(grace)

    def start(self) -> None:
        if self.jobs is not None:
            self.jobs.start()
        self.events.run(self._start())
        if self.jobs is not None:  # the one process of this collector; a worker's parent says it for all
            log.info("event=serving listen=%s port=%d database=%s", self.config.listen, self.port,
                     describe_database(self.config.database))

    def stop(self, grace: float = 10.0) -> None:
        if self.jobs is not None:
            self.jobs.stop()
        self.events.run(self._stop(grace))
        # Every call has ended; handlers still running (their call cancelled at the end of the grace
        # period) finish now — a report in hand is still stored — while the loop still runs to
        # answer anything they ask of it.
        self.pool.shutdown(wait=True)
        self.events.close()
        self.queue.close()
        self.audit.close()
        self.store.close()
        log.info("event=stopped")

    def serve_until_signal(self, stopping: threading.Event | None = None) -> None:
        serve_until_signal(self, stopping)


def stop_on_signal() -> threading.Event:
    """An event SIGTERM or SIGINT sets. Made before the server is: `serve --workers N`'s workers answer
    while their parent is still being made, and a SIGTERM then must stop it, not kill it."""
    stopping = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopping.set())
    return stopping


def serve_until_signal(server, stopping: threading.Event | None = None) -> None:
    """`server.start()`, then `server.stop()` once `stopping` (default: SIGTERM or SIGINT) is set (a
    CollectorServer, or workers.Workers)."""
    stopping = stopping or stop_on_signal()
    server.start()
    stopping.wait()
    log.info("event=stopping reason=signal")
    server.stop()
