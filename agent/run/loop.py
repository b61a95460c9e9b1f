"""The loop: `run --once` (scan → spool → drain → renew if due) and `run` (that, every jittered
interval, under the state dir's lock, enrolling first from bootstrap.toml when it appears).

A report is always written to the outbox before any attempt to send it."""
from __future__ import annotations

import logging
import random
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Callable

from farmwatch.agent.identity import IdentityError
from farmwatch.agent.state import StateDir
from farmwatch.agent.transport import CollectorError
from farmwatch.common.backoff import Backoff
from farmwatch.v1 import report_pb2

from .agent import Agent, Scanner, scan_report
from .delivery import DrainOutcome, drain
from .enrollment import enroll_from_bootstrap
from .renewal import renew_if_due

log = logging.getLogger(__name__)

BACKLOG_PAUSE = 5.0        # seconds between drains while a backlog remains
BOOTSTRAP_POLL = 60.0      # seconds between looks for bootstrap.toml while not enrolled
INTERVAL_JITTER = 0.10     # ± share of the report interval


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
