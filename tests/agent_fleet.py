"""Enrolled agents for fault tests: real state dirs, spools and runner code; only the scan is made up.

Certificates come from the collector's own `Enrollment` against its database, as `enroll` would
get them, but without the per-address rate limit that 50 agents on 127.0.0.1 would trip.
"""
from __future__ import annotations

import itertools
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from conftest import make_report
from farmwatch.agent import identity, run as runner
from farmwatch.agent.state import AgentConfig, StateDir
from farmwatch.collector import enrollment, pki
from farmwatch.collector.config import CollectorConfig
from farmwatch.collector.ingest import Store
from farmwatch.common.files import write_private


def provision(collector_home: Path, collector_address: str, states: Path, device_ids: list[str],
              database=None) -> list[StateDir]:
    """One enrolled state dir per device id, each with its own key and certificate (`database`:
    the collector's, when not the one its home's settings name)."""
    store = Store(database or CollectorConfig.load(collector_home).database)
    ca = pki.CertificateAuthority.load(collector_home / "pki")
    signer = enrollment.Enrollment(store, ca, cert_lifetime=pki.DEFAULT_CLIENT_LIFETIME,
                                   limiter=enrollment.RateLimiter(limit=len(device_ids) + 1))
    token = enrollment.create_token(store, uses=len(device_ids)).secret
    made = []
    try:
        for device_id in device_ids:
            state = StateDir(states / device_id)
            state.ensure()
            key = identity.load_or_create_key(state.key)
            cert = signer.enroll(token=token, csr_pem=identity.build_csr(key, device_id), device_id=device_id,
                                 peer_ip="127.0.0.1")
            write_private(state.certificate, cert, replace=True)
            write_private(state.ca_certificate, ca.cert_pem, replace=True)
            state.save_config(AgentConfig(collector=collector_address, device_id=device_id))
            made.append(state)
    finally:
        store.close()
    return made


def scanner_for(device_id: str, processes: int = 3):
    """Stands in for the machine scan (the edge): a small report from `device_id`."""
    return lambda sysroot=None: make_report(device_id, processes=processes)


def changing_scanner(device_id: str, processes: int = 40):
    """Like `scanner_for`, with a laptop's churn: one short-lived process new in every scan, so the
    agent's delta reports (against its last acknowledged report) carry a change each time."""
    scans = itertools.count(1)

    def scan(sysroot=None):
        report = make_report(device_id, processes=processes)
        report.processes.add(pid=10_000 + next(scans), name="git", exe="/usr/bin/git", username="alice")
        return report
    return scan


@dataclass
class AgentLog:
    """What one agent did: every report it made, and how many delivery cycles failed."""

    generated: list[str] = field(default_factory=list)
    failed_drains: int = 0


def drain_until_empty(agent: runner.Agent, log: AgentLog, deadline: float, pause: float = 0.05) -> None:
    while agent.spool.depth() and time.monotonic() < deadline:
        if runner.drain(agent).error is not None:
            log.failed_drains += 1
            time.sleep(pause)


def run_agent(state: StateDir, reports: int, log: AgentLog, acked: "Counter", deadline: float,
              interval: float = 0.02) -> None:
    """Make `reports` reports (scan → spool → drain, like `run`), then deliver what is left."""
    agent = runner.Agent(state, changing_scanner(state.load_config().device_id), timeout=5)
    try:
        for _ in range(reports):
            log.generated.append(runner.collect(agent).report_id)
            outcome = runner.drain(agent)
            acked.add(len(outcome.acked))
            if outcome.error is not None:
                log.failed_drains += 1
            time.sleep(interval)
        drain_until_empty(agent, log, deadline)
    finally:
        agent.close()


def agents_across(states: list[StateDir], reports_each: int, strike) -> tuple[list[AgentLog], int]:
    """An agent per state dir sends `reports_each` reports; `strike()` (a kill, say) comes once a
    third of them are acknowledged. Returns every agent's log once all have finished, and how many
    reports were acknowledged before the strike."""
    logs, acked = [AgentLog() for _ in states], Counter()
    deadline = time.monotonic() + 90
    threads = [threading.Thread(target=run_agent, args=(state, reports_each, log, acked, deadline))
               for state, log in zip(states, logs)]
    for thread in threads:
        thread.start()
    assert acked.wait_for(len(states) * reports_each // 3, timeout=60), "agents never got going"
    struck_at = acked.value
    strike()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    return logs, struck_at


class Counter:
    """A thread-safe count the test can wait on."""

    def __init__(self):
        self.value = 0
        self._changed = threading.Condition()

    def add(self, amount: int) -> None:
        with self._changed:
            self.value += amount
            self._changed.notify_all()

    def wait_for(self, at_least: int, timeout: float) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: self.value >= at_least, timeout)
