"""Delivery: send the outbox oldest first, a bounded number per drain, and stop at the first
sign that the collector is unreachable or overloaded (the loop's backoff then decides when to
try again). See transport.py for what happens to a report the collector refuses."""
from __future__ import annotations

import logging
import sqlite3
import threading
from dataclasses import dataclass, field

import grpc

from farmwatch.agent.identity import IdentityError, read_certificate_info
from farmwatch.agent.spool import DeltaBase, SpooledReport
from farmwatch.agent.state import StateDir
from farmwatch.agent.transport import MAX_CHOKED_ATTEMPTS, CollectorError, Disposition
from farmwatch.common import delta
from farmwatch.common.clock import utcnow
from farmwatch.v1 import collector_pb2

from .agent import Agent
from .enrollment import collector_interval

log = logging.getLogger(__name__)

DRAIN_BATCH = 50           # reports sent per drain, so a backlog goes out at a bounded rate

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
            ack = _send(agent, entry)
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


def _send(agent: Agent, entry: SpooledReport):
    """Send `entry` as a delta on the last acknowledged report when the collector takes deltas
    and the delta is worth it, else in full. A delta the collector cannot prove was not stored: the
    same report goes again at once, in full (docs/design.md, "Delta reports")."""
    base = agent.spool.delta_base()
    if base is not None and base.deltas_accepted and base.report.report_id != entry.report_id:
        change = delta.make_delta(delta.DeviceState.of(base.report), base.report.report_id,
                                  base.report.sequence, entry.report)
        if delta.worth_sending(change, entry.report):
            ack = agent.client.report(change)
            if ack.send_full == collector_pb2.FULL_REPORT_UNNEEDED:
                return ack
            log.info("collector asked for the full report report_id=%s reason=%s", entry.report_id,
                     collector_pb2.FullReportReason.Name(ack.send_full))
    return agent.client.report(entry.report)


def _delivered(agent: Agent, entry: SpooledReport, ack, outcome: DrainOutcome) -> None:
    agent.spool.ack(entry.report_id, DeltaBase(_newer(agent.spool.delta_base(), entry), ack.deltas_accepted))
    outcome.acked.append(entry.report_id)
    if ack.report_interval_seconds:
        agent.interval = float(collector_interval(ack.report_interval_seconds))
    log.info("report delivered report_id=%s sequence=%d duplicate=%s", entry.report_id,
             entry.sequence, ack.duplicate)


def _newer(base: DeltaBase | None, entry: SpooledReport):
    """The next delta's base: the acknowledged report, unless it is older than the base (sent late,
    after a newer one went through): the collector's state stays the newer one, and so does ours."""
    return base.report if base is not None and base.report.sequence > entry.sequence else entry.report


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
