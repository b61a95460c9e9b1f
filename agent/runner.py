"""What the agent does: enroll, and then, every interval, scan → spool → drain → renew.

A report is always written to the outbox before any attempt to send it; draining sends the
oldest first, a bounded number per cycle, and stops at the first sign that the collector is
unreachable or overloaded (then backoff decides when to try again). See transport.py for what
happens to a report the collector refuses.
"""
from __future__ import annotations

import datetime as dt
import logging
import random
import socket
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Callable

import grpc

from farmwatch.agent import __version__
from farmwatch.agent.identity import (
    IdentityError, build_csr, check_issued_certificate, load_key, load_or_create_key,
    parse_certificate, read_certificate_info, store_certificate,
)
from farmwatch.agent.spool import Spool, SpooledReport
from farmwatch.agent.state import AgentConfig, StateDir
from farmwatch.agent.transport import (
    MAX_CHOKED_ATTEMPTS, CollectorClient, CollectorError, Disposition,
    check_address, enrollment_channel, mtls_channel,
)
from farmwatch.common.backoff import Backoff
from farmwatch.common.clock import utcnow
from farmwatch.common.device_id import MAX_DEVICE_ID_LENGTH, valid_device_id
from farmwatch.common.files import write_private
from farmwatch.common.intervals import MIN_REPORT_INTERVAL
from farmwatch.v1 import collector_pb2, report_pb2

log = logging.getLogger(__name__)

Scanner = Callable[[str | None], report_pb2.AgentReport]

DRAIN_BATCH = 50           # reports sent per drain, so a backlog goes out at a bounded rate
BACKLOG_PAUSE = 5.0        # seconds between drains while a backlog remains
BOOTSTRAP_POLL = 60.0      # seconds between looks for bootstrap.toml while not enrolled
INTERVAL_JITTER = 0.10     # ± share of the report interval


class NotEnrolled(Exception):
    """The state dir holds no usable enrollment."""


def scan_report(sysroot: str | None = None) -> report_pb2.AgentReport:
    """The real scanner (farmwatch.agent.scan), imported on first use."""
    from farmwatch.agent.scan import build_report

    return build_report(sysroot=sysroot)


def hardware_serial(scanner: Scanner = scan_report, sysroot: str | None = None) -> str:
    return scanner(sysroot).host.serial_number


# -- enrollment -------------------------------------------------------------------------------

@dataclass(frozen=True)
class EnrollParams:
    collector: str
    token: str
    ca_pem: bytes
    device_id: str
    server_name: str = ""


def enroll(state: StateDir, params: EnrollParams, timeout: float = 30.0) -> AgentConfig:
    """Enroll with the collector and store certificate, CA and config in `state`.

    Raises ValueError for bad parameters, CollectorError when the collector says no,
    IdentityError when what it returned cannot be trusted.
    """
    check_address(params.collector)
    if not valid_device_id(params.device_id):
        raise ValueError(
            f"device id {params.device_id!r} is not usable: letters, digits and ._:@/+- only, "
            f"starting with a letter or digit, at most {MAX_DEVICE_ID_LENGTH} characters"
        )
    parse_certificate(params.ca_pem)  # fail here, not inside TLS, if the CA file is wrong
    state.ensure()
    key = load_or_create_key(state.key)
    request = collector_pb2.EnrollRequest(
        token=params.token, csr_pem=build_csr(key, params.device_id), device_id=params.device_id,
        hostname=socket.gethostname(), agent_version=__version__,
    )
    channel = enrollment_channel(params.collector, ca_pem=params.ca_pem, server_name=params.server_name)
    with CollectorClient(channel, timeout) as client:
        response = client.enroll(request)
    info = check_issued_certificate(
        response.certificate_pem, key=key, ca_pem=params.ca_pem, device_id=params.device_id
    )
    write_private(state.ca_certificate, params.ca_pem, replace=True)
    store_certificate(state.certificate, response.certificate_pem, info)
    config = AgentConfig(
        collector=params.collector, device_id=params.device_id, server_name=params.server_name,
        enrolled_at=utcnow().isoformat(timespec="seconds"),
    )
    if response.report_interval_seconds:
        config.report_interval_seconds = collector_interval(response.report_interval_seconds)
    if state.config_file.exists():  # keep spool bounds an admin tuned before re-enrolling
        config.spool = state.load_config().spool
    state.save_config(config)  # last: its presence marks a complete enrollment
    log.info("enrolled device_id=%s collector=%s not_after=%s", info.device_id, params.collector,
             info.not_after.isoformat())
    return config


def enroll_from_bootstrap(state: StateDir, scanner: Scanner = scan_report,
                          sysroot: str | None = None) -> AgentConfig | None:
    """Enroll with what the MDM left in bootstrap.toml; None when there is no such file."""
    bootstrap = state.load_bootstrap()
    if bootstrap is None:
        return None
    device_id = bootstrap.device_id or hardware_serial(scanner, sysroot)
    if not device_id:
        raise ValueError(f"this machine reports no hardware serial number; set device_id in {state.bootstrap_file}")
    params = EnrollParams(
        collector=bootstrap.collector, token=bootstrap.token, ca_pem=bootstrap.ca_cert.read_bytes(),
        device_id=device_id, server_name=bootstrap.server_name,
    )
    log.info("enrolling from bootstrap file path=%s", state.bootstrap_file)
    return enroll(state, params)


# -- the enrolled agent -------------------------------------------------------------------------

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


# gRPC's words for credentials it could not even load (a key it cannot read, a certificate that
# is not for the key, a CA it cannot parse): the agent's own files, not the network.
_LOCAL_CREDENTIALS_BROKEN = "Failed to create security handshaker"
_SERVER_NOT_OURS = "CERTIFICATE_VERIFY_FAILED"


@dataclass
class DrainOutcome:
    acked: list[str] = field(default_factory=list)
    discarded: list[str] = field(default_factory=list)
    error: CollectorError | IdentityError | sqlite3.Error | OSError | None = None
    more: bool = False  # a full batch went out and reports are still waiting

    @property
    def identity_refused(self) -> bool:
        return isinstance(self.error, IdentityError) or (
            isinstance(self.error, CollectorError) and self.error.disposition is Disposition.IDENTITY
        )


@dataclass(frozen=True)
class RunResult:
    report_id: str
    sequence: int
    delivered: bool          # the collector acknowledged the new report in this cycle
    spooled: bool            # it waits in the outbox, safe on disk
    sent: int                # reports acknowledged in this cycle, old and new
    pending: int             # reports left in the outbox
    error: str = ""
    identity_refused: bool = False

    @property
    def ok(self) -> bool:
        return self.delivered or self.spooled


def collect(agent: Agent, sysroot: str | None = None) -> report_pb2.AgentReport:
    """Scan and put the report in the outbox (which numbers it); returns the spooled report."""
    report = agent.scanner(sysroot)
    report.device_id = agent.config.device_id  # the enrolled identity, whatever the scan found
    if not report.report_id:
        report.report_id = str(uuid.uuid4())
    agent.spool.put(report)
    log.info("report spooled report_id=%s sequence=%d depth=%d", report.report_id, report.sequence,
             agent.spool.depth())
    return report


def drain(agent: Agent, stop: threading.Event | None = None, batch: int = DRAIN_BATCH) -> DrainOutcome:
    """Send spooled reports oldest first until the outbox is empty, `batch` went out, or a failure.

    When the collector answers a report with a retryable error, the report behind it is tried
    once: if that one goes through, the collector is healthy and chokes on that report alone,
    which then counts against it (see transport.py); if not, the collector is in trouble and
    draining stops with no report blamed.
    """
    outcome = DrainOutcome()
    try:
        _check_certificate(agent.state)
        return _drain(agent, outcome, stop, batch)
    except IdentityError as exc:
        agent.reconnect()
        outcome.error = exc
        log.error("cannot send: %s; reports stay spooled", exc)
        _record_failure(agent, str(exc))
        return outcome


def _drain(agent: Agent, outcome: DrainOutcome, stop: threading.Event | None, batch: int) -> DrainOutcome:
    entries = agent.spool.pending(batch)
    suspect: tuple[SpooledReport, CollectorError] | None = None
    for entry in entries:
        if stop is not None and stop.is_set():
            return outcome
        try:
            ack = agent.client.report(entry.report)
        except CollectorError as exc:
            if exc.code is grpc.StatusCode.UNAVAILABLE and _LOCAL_CREDENTIALS_BROKEN in exc.details:
                raise IdentityError(f"the key, certificate and CA in {agent.state.root} cannot be used "
                                    f"together ({exc.details}); enroll again") from None
            if exc.disposition is Disposition.REJECT:
                _discard(agent, entry, str(exc), outcome)
                continue
            agent.spool.record_failure(str(exc))
            if (suspect is None and exc.collector_answered and exc.disposition is Disposition.RETRY
                    and not exc.about_load):  # load is no fault of this report: back off instead
                suspect = (entry, exc)
                continue
            outcome.error = exc
            _stop_draining(agent, exc)
            return outcome
        _delivered(agent, entry, ack, outcome)
        if suspect is not None:
            _blame(agent, *suspect, outcome)
            suspect = None
    if suspect is not None:  # nothing behind it to tell the two cases apart: treat as trouble
        outcome.error = suspect[1]
        _stop_draining(agent, suspect[1])
    outcome.more = len(entries) == batch and agent.spool.depth() > 0
    return outcome


def _delivered(agent: Agent, entry: SpooledReport, ack, outcome: DrainOutcome) -> None:
    agent.spool.ack(entry.report_id)
    outcome.acked.append(entry.report_id)
    if ack.report_interval_seconds:
        agent.interval = float(collector_interval(ack.report_interval_seconds))
    log.info("report delivered report_id=%s sequence=%d duplicate=%s", entry.report_id,
             entry.sequence, ack.duplicate)


def _blame(agent: Agent, entry: SpooledReport, exc: CollectorError, outcome: DrainOutcome) -> None:
    attempts = agent.spool.record_failure(str(exc), entry.report_id)
    log.warning("collector took the next report but not this one report_id=%s attempts=%d error=%r",
                entry.report_id, attempts, str(exc))
    if attempts >= MAX_CHOKED_ATTEMPTS:
        _discard(agent, entry, f"failed {attempts} times while the collector took others; last: {exc}", outcome)


def _discard(agent: Agent, entry: SpooledReport, reason: str, outcome: DrainOutcome) -> None:
    agent.spool.discard(entry.report_id, reason)
    outcome.discarded.append(entry.report_id)


def _stop_draining(agent: Agent, exc: CollectorError) -> None:
    if not exc.collector_answered:
        # A fresh channel next time: gRPC's own reconnect backoff must not outlast ours.
        agent.reconnect()
    if exc.disposition is Disposition.IDENTITY:
        log.error("collector refused our certificate; enroll again error=%r", str(exc))
    elif _SERVER_NOT_OURS in exc.details:
        log.error("the server at %s is not signed by our pinned CA (%s); reports stay spooled. If the "
                  "collector was replaced, enroll again with its CA; otherwise something intercepts "
                  "the connection error=%r", agent.config.collector, agent.state.ca_certificate, str(exc))
    else:
        log.warning("delivery failed; reports stay spooled error=%r", str(exc))


def _check_certificate(state: StateDir) -> None:
    """IdentityError when the certificate on disk is unreadable or expired."""
    info = read_certificate_info(state.certificate)
    if info.expired(utcnow()):
        raise IdentityError(f"the certificate expired at {info.not_after.isoformat()}; enroll again")


def _record_failure(agent: Agent, message: str) -> None:
    try:
        agent.spool.record_failure(message)
    except sqlite3.Error as exc:
        log.error("cannot note the failure in the outbox error=%r", str(exc))


def renew_if_due(agent: Agent, now: dt.datetime | None = None) -> bool:
    """Swap in a fresh certificate once a third of the current one's lifetime is left."""
    info = read_certificate_info(agent.state.certificate)
    if not info.renew_due(now or utcnow()):
        return False
    key = load_key(agent.state.key)
    try:
        response = agent.client.renew(build_csr(key, agent.config.device_id))
        new = check_issued_certificate(
            response.certificate_pem, key=key, ca_pem=agent.state.ca_certificate.read_bytes(),
            device_id=agent.config.device_id,
        )
    except (CollectorError, IdentityError) as exc:
        log.warning("certificate renewal failed; will retry next cycle not_after=%s error=%r",
                    info.not_after.isoformat(), str(exc))
        return False
    store_certificate(agent.state.certificate, response.certificate_pem, new)
    agent.reconnect()
    log.info("certificate renewed not_after=%s", new.not_after.isoformat())
    return True


def run_once(agent: Agent, sysroot: str | None = None) -> RunResult:
    """One cycle: scan → spool → drain → renew if due."""
    report = collect(agent, sysroot)
    outcome = drain(agent)
    if outcome.error is None:
        renew_if_due(agent)
    delivered = report.report_id in outcome.acked
    return RunResult(
        report_id=report.report_id,
        sequence=report.sequence,
        delivered=delivered,
        spooled=not delivered and report.report_id not in outcome.discarded,
        sent=len(outcome.acked),
        pending=agent.spool.depth(),
        error=str(outcome.error or ""),
        identity_refused=outcome.identity_refused,
    )


def collector_interval(seconds: int) -> int:
    """The report interval a collector asks for, but never below MIN_REPORT_INTERVAL."""
    return max(MIN_REPORT_INTERVAL, seconds)


def jittered(seconds: float, rng: random.Random) -> float:
    return seconds * rng.uniform(1 - INTERVAL_JITTER, 1 + INTERVAL_JITTER)


def run_forever(state: StateDir, stop: threading.Event, *, interval: float | None = None,
                sysroot: str | None = None, scanner: Scanner = scan_report,
                rng: random.Random | None = None, bootstrap_poll: float = BOOTSTRAP_POLL) -> None:
    """Report every (jittered) interval until `stop` is set; the send in progress finishes first.

    Not enrolled yet: looks for bootstrap.toml every `bootstrap_poll` seconds and enrolls when
    it appears.
    Certificate refused: keeps spooling and re-reads the state dir, so `enroll` fixes it live.
    """
    rng = rng or random.Random()
    state.ensure()
    lock = state.lock_for_run()  # AlreadyRunning: a second `run` on this folder stops here
    try:
        agent = _wait_for_enrollment(state, stop, scanner, sysroot, lambda: jittered(bootstrap_poll, rng))
        if agent is None:
            return
        try:
            _report_until_stopped(agent, stop, interval, sysroot, rng)
        finally:
            agent.close()
    finally:
        if lock is not None:
            lock.close()


def _wait_for_enrollment(state: StateDir, stop: threading.Event, scanner: Scanner,
                         sysroot: str | None, pause: Callable[[], float]) -> Agent | None:
    while not stop.is_set():
        agent = _open_agent(state, scanner, sysroot)
        if agent is not None:
            return agent
        stop.wait(pause())
    return None


def _open_agent(state: StateDir, scanner: Scanner, sysroot: str | None) -> Agent | None:
    try:
        if not state.is_enrolled() and enroll_from_bootstrap(state, scanner, sysroot) is None:
            log.info("not enrolled and no bootstrap file yet path=%s", state.bootstrap_file)
            return None
        return Agent(state, scanner)
    except (CollectorError, IdentityError, ValueError, OSError, sqlite3.Error) as exc:
        log.error("cannot start reporting; trying again shortly state_dir=%s error=%r%s", state.root, str(exc),
                  _LOCAL_ADVICE if isinstance(exc, (OSError, sqlite3.Error)) else "")
        return None


def _report_until_stopped(agent: Agent, stop: threading.Event, interval: float | None,
                          sysroot: str | None, rng: random.Random) -> None:
    """The schedule: scans on the interval, drains right after each scan and, after a failure,
    again when the backoff says so (or, with our certificate refused, after the next scan)."""
    backoff = Backoff(cap=min(120.0, interval or agent.interval), rng=rng)
    next_scan = next_drain = time.monotonic()
    while not stop.is_set():
        now = time.monotonic()
        if now >= next_scan:
            _collect_logging_errors(agent, sysroot)
            next_scan = now + jittered(interval or agent.interval, rng)
            next_drain = now
        if now >= next_drain:
            outcome = _drain_logging_errors(agent, stop)
            if outcome.identity_refused:
                _reload_logging_errors(agent)
                next_drain = next_scan
            elif outcome.error is not None:
                next_drain = now + backoff.next_delay()
            else:
                backoff.reset()
                _renew_logging_errors(agent)
                next_drain = now + jittered(BACKLOG_PAUSE, rng) if outcome.more else next_scan
        stop.wait(max(0.0, min(next_scan, next_drain) - time.monotonic()))


_LOCAL_ADVICE = " (check free disk space and that the state dir is writable by the agent's user)"


def _drain_logging_errors(agent: Agent, stop: threading.Event) -> DrainOutcome:
    """drain(), where a full disk or an unwritable state dir is one log line and a backoff, not
    the end of the agent (a service manager would restart it into the same wall, forever)."""
    try:
        return drain(agent, stop)
    except (sqlite3.Error, OSError) as exc:
        log.error("cannot use the outbox; reports stay where they are error=%r%s", str(exc), _LOCAL_ADVICE)
        return DrainOutcome(error=exc)


def _renew_logging_errors(agent: Agent) -> None:
    try:
        renew_if_due(agent)
    except (IdentityError, OSError, sqlite3.Error) as exc:
        log.error("certificate renewal failed; will retry next cycle error=%r", str(exc))


def _reload_logging_errors(agent: Agent) -> None:
    try:
        agent.reload()
    except (OSError, ValueError) as exc:
        log.error("cannot re-read the state dir error=%r", str(exc))


def _collect_logging_errors(agent: Agent, sysroot: str | None) -> None:
    try:
        collect(agent, sysroot)
    except sqlite3.Error as exc:
        log.error("cannot spool the new report; it is lost, the outbox keeps what it had path=%s error=%r%s",
                  agent.state.spool_file, str(exc), _LOCAL_ADVICE)
    except Exception:  # a failed scan must not stop the agent; the next interval tries again
        log.exception("scan failed; trying again next interval")
