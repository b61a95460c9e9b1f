"""What the agent does: enroll, and then, every interval, scan → spool → drain → renew.

A report is always written to the outbox before any attempt to send it; draining sends the
oldest first, a bounded number per cycle, and stops at the first sign that the collector is
unreachable or overloaded (then backoff decides when to try again). See transport.py for what
happens to a report the collector refuses.

One module per job: agent.py (the enrolled agent and its scanner), enrollment.py, delivery.py
(draining the outbox), renewal.py (the certificate) and loop.py (`run` and `run --once`). The
names below are the package's public face, for callers that use several of them.
"""
from __future__ import annotations

from .agent import Agent, NotEnrolled, Scanner, scan_report
from .delivery import DRAIN_BATCH, DrainOutcome, drain
from .enrollment import EnrollParams, collector_interval, enroll, enroll_from_bootstrap, hardware_serial
from .loop import BACKLOG_PAUSE, BOOTSTRAP_POLL, INTERVAL_JITTER, RunResult, collect, jittered, run_forever, run_once
from .renewal import renew_if_due

__all__ = [
    "BACKLOG_PAUSE", "BOOTSTRAP_POLL", "DRAIN_BATCH", "INTERVAL_JITTER", "Agent", "DrainOutcome", "EnrollParams",
    "NotEnrolled", "RunResult", "Scanner", "collect", "collector_interval", "drain", "enroll", "enroll_from_bootstrap",
    "hardware_serial", "jittered", "renew_if_due", "run_forever", "run_once", "scan_report",
]
