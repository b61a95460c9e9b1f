"""What `serve` does now and then besides answering calls: retention, the server certificate's
end, fleet correlation, the MDM sync. Once per collector: in the one process of `serve --workers 1`, in the
parent of `serve --workers N` (never in each worker). Several collectors on one PostgreSQL database
each run this loop; correlation and the MDM sync are claimed per interval (storage/jobs.py), so the
cluster runs them once."""
from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading

from farmwatch.collector import fleet, pki
from farmwatch.collector.config import CollectorConfig
from farmwatch.collector.ingest import Store
from farmwatch.common.clock import utcnow

log = logging.getLogger("farmwatch.collector.server")


class Jobs:
    """`start()` runs each job now and then every period until `stop()`, each on a thread and a
    database connection of its own (the ingest writer's connection belongs to the writer thread)."""

    def __init__(self, config: CollectorConfig, ca: pki.CertificateAuthority):
        self.config, self.ca = config, ca
        self._stopping, self._threads = threading.Event(), []
        self.instance = f"{socket.gethostname()}:{config.listen}:{os.getpid()}"  # who ran a cluster's job

    def start(self) -> None:
        self._every(86400, "retention", self._prune)
        self._every(86400, "server-certificate", self._check_server_certificate)
        if self.config.fleet.correlate_every_minutes > 0:
            self._every(self.config.fleet.correlate_every_minutes * 60, "correlation", self._correlate, claim=True)
        if self.config.mdm.sources and self.config.mdm.sync_every_minutes > 0:
            self._every(self.config.mdm.sync_every_minutes * 60, "mdm-sync", self._sync_mdm, claim=True)

    def stop(self) -> None:
        self._stopping.set()
        for thread in self._threads:
            thread.join()

    def _every(self, seconds: float, name: str, job, claim: bool = False) -> None:
        """`claim`: once per interval across the collectors sharing the database, not in each."""
        def loop():
            store = Store(self.config.database)
            try:
                while True:
                    try:
                        if not claim or store.claim_job(name, seconds, self.instance):
                            job(store)
                        else:
                            log.info("event=job_skipped job=%s reason=another_collector_ran_it", name)
                    except Exception:
                        log.exception("event=job_failed job=%s", name)
                    if self._stopping.wait(seconds):
                        return
            finally:
                store.close()

        thread = threading.Thread(target=loop, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _prune(self, store: Store) -> None:
        dropped = store.prune_raw(self.config.raw_report_retention_days)
        if dropped:
            log.info("event=raw_reports_pruned count=%d older_than_days=%d", dropped,
                     self.config.raw_report_retention_days)

    def _check_server_certificate(self, _store) -> None:
        """Warn well ahead of the server certificate's end: agents cannot connect after it."""
        cert = self.ca.server_certificate()
        left = cert.not_valid_after_utc - utcnow() if cert else dt.timedelta(0)
        if left < pki.SERVER_RENEW_BEFORE:
            log.warning("event=server_cert_expiring days_left=%d not_after=%s fix=%r", left.days,
                        cert and f"{cert.not_valid_after_utc:%Y-%m-%d}",
                        f"farmwatch-collector --home {self.config.home} pki issue-server")

    def _correlate(self, store: Store) -> None:
        result = fleet.correlate(store, self.config)
        log.info("event=correlated clusters=%d seconds=%.2f", len(result.clusters), result.seconds)

    def _sync_mdm(self, store: Store) -> None:
        from farmwatch.collector.mdm.schedule import run_scheduled

        run_scheduled(store, self.config, self._stopping)
