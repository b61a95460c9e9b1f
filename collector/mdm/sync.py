"""One roster sync from one MDM's API: read the whole device list, then apply it in one transaction.

The listing is read completely before anything is written. A failure on the way (throttled past
the bound, a token refused twice, a timeout, a cut-short or missing page) raises MdmError and the
roster stays exactly as the previous completed sync left it; the run is recorded as failed.
Malformed records are skipped and reported (farmwatch.collector.mdm.inventory says how).
A listing that would remove more than `[mdm] max_removed_percent` of this MDM's rows (and more
than `_ALWAYS_REMOVABLE`) is refused unless the caller accepts the removals: an MDM filter or a
permission gone wrong looks exactly like the fleet vanishing.
"""
from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from farmwatch.collector.mdm.inventory import Inventory
from farmwatch.collector.mdm.http import MdmError
from farmwatch.collector.roster.entries import Problem
from farmwatch.collector.roster.sync import REMOVED, SyncPlan, apply_sync, plan_sync
from farmwatch.collector.storage import mdm as storage
from farmwatch.collector.storage import roster as roster_storage
from farmwatch.common.clock import now_rfc3339

log = logging.getLogger("farmwatch.collector.mdm")
_ALWAYS_REMOVABLE = 3  # a handful of retired laptops never needs --accept-removals


class RemovalsRefused(MdmError):
    pass


@dataclass
class SyncOutcome:
    source: str
    run_id: str
    dry_run: bool
    plan: SyncPlan | None = None
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error

    def describe(self) -> list[str]:
        """Lines for a person: the counts, then every change and every skipped record."""
        verb = "would change (dry run)" if self.dry_run else "synced"
        if not self.ok:
            return [f"{self.source}: FAILED, the roster is unchanged: {self.error}"]
        counts = self.plan.counts()
        lines = [f"{self.source}: {verb}: {counts['devices']} devices listed, {counts['new']} new, "
                 f"{counts['reassigned']} reassigned, {counts['updated']} updated, {counts['removed']} removed, "
                 f"{counts['unchanged']} unchanged, {counts['skipped']} skipped"]
        if self.plan.held_removals:
            lines.append(f"  {self.plan.held_removals} row(s) not listed were kept: a malformed record without a "
                         "readable serial may have been one of them; they go at the next clean sync")
        lines += [f"  {change.describe()}" for change in self.plan.changes]
        lines += [f"  skipped record {problem.line}: {problem.message}" for problem in self.plan.skipped]
        return lines

    def to_dict(self) -> dict:
        result = {"source": self.source, "run_id": self.run_id, "dry_run": self.dry_run, "ok": self.ok,
                  "error": self.error or None}
        if self.plan:
            result.update(self.plan.counts(), changes=[
                {"serial": c.serial, "change": c.change, "fields": list(c.fields),
                 "before": c.person(c.before) if c.before else None, "after": c.person(c.after) if c.after else None}
                for c in self.plan.changes],
                skipped=[{"record": p.line, "reason": p.message} for p in self.plan.skipped])
        return result


def sync_source(store, client, *, mdm, dry_run: bool = False, accept_removals: bool = False) -> SyncOutcome:
    """Sync one MDM (`client`: a JamfClient, IntuneClient or KandjiClient) into the roster."""
    outcome = SyncOutcome(client.settings.source, str(uuid.uuid4()), dry_run)
    with store.transaction() as conn:
        storage.start_run(conn, outcome.run_id, outcome.source, dry_run, now_rfc3339())
    try:
        listing = client.inventory()
        _apply(store, listing, outcome, client.settings.url, mdm.max_removed_percent, accept_removals)
    except MdmError as exc:
        outcome.error = str(exc)
        with store.transaction() as conn:
            storage.finish_run(conn, outcome.run_id, now_rfc3339(), "failed", {}, str(exc)[:2000])
        log.warning("event=mdm_sync_failed mdm=%s run=%s error=%r", outcome.source, outcome.run_id, str(exc))
        return outcome
    log.info("event=mdm_synced mdm=%s run=%s dry_run=%s %s", outcome.source, outcome.run_id, dry_run,
             " ".join(f"{k}={v}" for k, v in outcome.plan.counts().items()))
    return outcome


def _apply(store, listing: Inventory, outcome: SyncOutcome, origin: str, max_removed_percent: float,
           accept_removals: bool) -> None:
    entries, skipped = _one_per_serial(listing)
    with store.transaction() as conn:
        plan = plan_sync(conn, listing.source, entries, listing.provided, keep=listing.kept,
                         hold_removals=listing.hold_removals, skipped=listing.skipped + skipped)
        outcome.plan = plan
        removing = plan.count(REMOVED)
        if not accept_removals and removing > _ALWAYS_REMOVABLE and removing * 100 > max_removed_percent * plan.owned:
            raise RemovalsRefused(
                f"this listing would remove {removing} of the {plan.owned} roster rows {listing.source} holds, more "
                f"than [mdm] max_removed_percent ({max_removed_percent:g}%); if the MDM really lost them, run "
                "`farmwatch-collector mdm sync --accept-removals` (try --dry-run first to see them)")
        stamp = now_rfc3339()
        if not outcome.dry_run:
            apply_sync(conn, plan, source_file=origin, stamp=stamp, run_id=outcome.run_id)
            kept = storage.keep_devices(conn, listing.source, listing.kept)
            storage.replace_devices(conn, listing.source, kept + [_device_row(listing.source, d, stamp)
                                                                  for d in _unique(listing)])
        storage.finish_run(conn, outcome.run_id, stamp, "ok", plan.counts())


def _one_per_serial(listing: Inventory) -> tuple[list, list[Problem]]:
    """One entry per serial: an MDM can list a serial twice (a re-enrolled Mac whose old record
    stayed). The later record wins, as in a CSV import; the earlier is reported."""
    by_serial, skipped = {}, []
    for device in listing.devices:
        earlier = by_serial.get(device.entry.serial)
        if earlier:
            skipped.append(Problem(earlier.entry.line, f"serial {device.entry.serial} is listed again at record "
                                                       f"{device.entry.line}; the later record is used"))
        by_serial[device.entry.serial] = device
    return [d.entry for d in by_serial.values()], skipped


def _unique(listing: Inventory) -> list:
    return list({d.entry.serial: d for d in listing.devices}.values())


def _device_row(source: str, device, stamp: str) -> dict:
    return {"source": source, "serial": device.entry.serial, "mdm_id": device.mdm_id,
            "device_name": device.device_name, "os": device.os, "groups": device.groups,
            "directory_id": device.directory_id, "seen_at": stamp}


def last_runs(store) -> list[dict]:
    return storage.last_runs(roster_storage.database(store))
