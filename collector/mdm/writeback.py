"""Write-back: each device's farmwatch verdict, and a link to its evidence page, onto its record in
the MDM, where admins build smart groups and policies on it (opt-in per MDM: `write_back = true`).

- Only on change: `mdm_writes` keeps what was last written per device; a device never written is
  written once it is not clean (`due_writes` says why).
- Bounded rate: at most `writes_per_minute` per MDM, paced evenly.
- Every write is audited before it is made (`audit` table, via "mdm", who "farmwatch-collector"),
  and completed with its outcome; a write that cannot be audited is not made.
- Nothing destructive, ever: farmwatch writes a text field or a tag. It never locks, wipes, retires
  or deletes a device; there is no `mdm lock` (docs/deploy.md says why).
A failed write is recorded and retried at the next run; the others go on. A device the MDM has
nowhere to write to (an Intune device without an Entra device) is reported, not attempted.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from farmwatch.collector.audit import AuditLog
from farmwatch.collector.mdm.http import MdmError
from farmwatch.collector.storage import mdm as storage
from farmwatch.common.clock import now_rfc3339

log = logging.getLogger("farmwatch.collector.mdm")
WHO = "farmwatch-collector"
VIA = "mdm"


@dataclass
class WriteBackOutcome:
    source: str
    due: int = 0
    written: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # "SERIAL: why"; retried at the next run
    skipped: list[str] = field(default_factory=list)  # "SERIAL: why"; the MDM has nowhere to write it

    def describe(self) -> list[str]:
        left = self.due - len(self.written) - len(self.failed) - len(self.skipped)
        lines = [f"{self.source} write-back: {len(self.written)} written, {len(self.failed)} failed, "
                 f"{len(self.skipped)} cannot be written, {left} left for the next run"]
        return lines + [f"  failed {failure}" for failure in self.failed] + \
            [f"  cannot write {reason}" for reason in self.skipped]

    def to_dict(self) -> dict:
        return {"source": self.source, "due": self.due, "written": self.written, "failed": self.failed,
                "skipped": self.skipped}


def due_writes(store, source: str, mdm) -> list[dict]:
    """The devices the next write-back to `source` would write, each with its evidence `link`.

    A device is due when its verdict or link differs from what was last written. A device never
    written is due only once it is not clean: admins build groups on relay and suspicious, and
    writing "clean" to the whole fleet at the first sync would be thousands of writes. A device
    once written is due again on any change, so a cleared verdict reaches the MDM."""
    due = []
    for row in storage.verdicts_and_writes(store.reader(), source):
        link = mdm.evidence_url(row["device_id"])
        if row["written"] is None and row["verdict"] == "clean":
            continue
        if (row["written"], row["written_link"] or "") != (row["verdict"], link):
            due.append({**row, "link": link})
    return due


def write_back(store, client, *, mdm, limit: int | None = None, sleep=time.sleep, clock=time.monotonic,
               stop=None) -> WriteBackOutcome:
    """Write the verdicts that changed since the last write to `client`'s MDM: at most `limit`,
    until `stop` (a threading.Event) is set."""
    settings = client.settings
    due = due_writes(store, settings.source, mdm)
    outcome = WriteBackOutcome(settings.source, len(due))
    pace, next_at = 60.0 / settings.writes_per_minute, clock()
    audit = AuditLog(store.path)
    try:
        for target in due:
            reason = client.unwritable(target)
            if reason:  # no request, no audit row: nothing is written
                outcome.skipped.append(f"{target['serial']}: {reason}")
                continue
            if limit is not None and len(outcome.written) + len(outcome.failed) >= limit:
                break
            wait = next_at - clock()
            if wait > 0:
                sleep(wait)
            if stop is not None and stop.is_set():
                break
            next_at = max(next_at, clock()) + pace
            _write_one(store, client, audit, target, outcome)
    finally:
        audit.close()
    return outcome


def _write_one(store, client, audit: AuditLog, target: dict, outcome: WriteBackOutcome) -> None:
    settings, link = client.settings, target["link"]
    values = {"verdict_attribute": target["verdict"], "link_attribute": link}
    detail = (f"{settings.kind} device {target['mdm_id']} serial {target['serial']}: verdict "
              f"{target['written'] or 'unset'} -> {target['verdict']}" + (f", link {link}" if link else ""))
    try:
        with audit.record(who=WHO, via=VIA, action=f"mdm write-back {settings.kind}", detail=detail) as entry:
            client.write(target, values)
            entry.rows = 1
    except MdmError as exc:
        outcome.failed.append(f"{target['serial']}: {exc}")
        log.warning("event=mdm_write_failed mdm=%s serial=%s error=%r", settings.source, target["serial"], str(exc))
        return
    with store.transaction() as conn:
        storage.record_write(conn, settings.source, target["serial"], target["verdict"], link, now_rfc3339())
    outcome.written.append(target["serial"])
