"""correlate(): clusters, per-device fleet findings and combined verdicts, in one transaction.

    from farmwatch.collector.fleet import correlate
    result = correlate(store, config)          # config: CollectorConfig (its `fleet` settings)
    result.to_dict()

Reads happen in one snapshot without the write lock; the writes (clusters, members, history,
findings, recombined verdicts) in one short write transaction, which also reads each device's
own findings so a report ingested meanwhile is combined correctly. Run it on its own `Store`
(connection) when ingest is running on another. The reads and writes are the storage's
(`storage.correlation`: `fleet_snapshot()` and `fleet_writes()`).

Cost: everything is read from small per-device tables — `device_locations` (a few rows per
device, kept by ingest), `devices`, `roster` — never from the reports themselves, and only the
keys two devices share reach Python. Findings are replaced wholesale; verdicts are recombined
only for devices whose fleet findings changed.
"""
from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from farmwatch.collector.fleet import device_rules
from farmwatch.collector.fleet.clusters import Cluster, find_clusters
from farmwatch.collector.fleet.device_rules import FleetFinding
from farmwatch.collector.fleet.keys import KIND_NAMES
from farmwatch.collector.fleet.replays import replay_findings
from farmwatch.collector.fleet.settings import FleetSettings
from farmwatch.collector.fleet.verdict import combine
from farmwatch.common.clock import rfc3339

_SILENT_MIN_INTERVALS = 3


@dataclass
class CorrelationResult:
    computed_at: str
    seconds: float
    clusters: list[dict]
    findings: Counter = field(default_factory=Counter)   # per fleet rule
    events: list[dict] = field(default_factory=list)     # cluster changes recorded by this run
    verdict_changes: list[dict] = field(default_factory=list)
    skipped_keys: Counter = field(default_factory=Counter)  # shared keys that are not clusters, by reason

    def to_dict(self) -> dict:
        return {"computed_at": self.computed_at, "seconds": round(self.seconds, 3), "clusters": self.clusters,
                "findings": dict(self.findings), "events": self.events, "verdict_changes": self.verdict_changes,
                "skipped_keys": dict(self.skipped_keys)}


def correlate(store, config, now: datetime | None = None) -> CorrelationResult:
    """Correlate the fleet as of `now` (default: the current time) and store the outcome.

    `config` is a CollectorConfig (its `fleet` settings and `report_interval_seconds`) or a
    FleetSettings alone.
    """
    started = time.perf_counter()
    settings, interval = _settings(config)
    now = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    stamp = rfc3339(now)
    with store.fleet_snapshot() as reads:  # read without holding the write lock ingest needs
        window_start = rfc3339(now - timedelta(days=settings.window_days))
        clusters, skipped = find_clusters(reads, settings, window_start)
        findings = [
            *device_rules.cluster_findings(reads, clusters, settings.min_days_at_location),
            *device_rules.roster_findings(reads, now, timedelta(days=settings.never_reported_grace_days)),
            *device_rules.silent_findings(reads, now, _silence_allowed(settings, interval)),
            *replay_findings(reads, window_start),
        ]
    with store.fleet_writes() as writes:
        # hashed neighbourhoods are kept for the window only, and not at all once turned off
        writes.forget_scans(window_start[:13] if settings.wifi_neighbourhood else None)
        events = _write_clusters(writes, clusters, stamp)
        changed = _write_findings(writes, findings, stamp)
        verdict_changes = _recombine(writes, changed, stamp)
    return CorrelationResult(stamp, time.perf_counter() - started, [cluster_summary(c) for c in clusters],
                             Counter(f.rule for f in findings), events, verdict_changes, skipped)


def _settings(config) -> tuple[FleetSettings, int]:
    if isinstance(config, FleetSettings):
        return config, 300
    return config.fleet, config.report_interval_seconds


def _silence_allowed(settings: FleetSettings, interval_seconds: int) -> timedelta:
    return max(timedelta(hours=settings.silent_after_hours),
               timedelta(seconds=_SILENT_MIN_INTERVALS * interval_seconds))


def cluster_summary(cluster: Cluster) -> dict:
    return {"cluster_id": cluster.cluster_id, "kind": cluster.kind, "value": cluster.value,
            "score": cluster.score, "severity": cluster.severity, "people": cluster.people,
            "household": cluster.household, "first_seen": cluster.first_seen, "last_seen": cluster.last_seen,
            "devices": [m.device_id for m in cluster.members]}


# -- writing -------------------------------------------------------------------------------

def _write_clusters(writes, clusters: list[Cluster], stamp: str) -> list[dict]:
    events: list[dict] = []
    stored = writes.cluster_statuses()
    members: dict[str, set[str]] = {}
    for cluster_id, device_id in writes.cluster_members():
        members.setdefault(cluster_id, set()).add(device_id)
    for cluster in clusters:
        status = stored.get(cluster.cluster_id)
        if status != "active":
            events.append(_event(cluster.cluster_id, stamp, "new" if status is None else "reopened", None,
                                 f"{cluster.people} people behind {KIND_NAMES[cluster.kind]} {cluster.value}"))
        events += _membership_events(cluster, members.get(cluster.cluster_id, set()), stamp)
    writes.upsert_clusters([_cluster_row(c, stamp) for c in clusters])
    writes.remove_members([e for e in events if e["event"] == "left"])
    writes.upsert_members([(c.cluster_id, m.device_id, m.person, int(m.on_roster), m.first_seen,
                                       m.last_seen, m.reports, m.own_verdict, stamp)
                                      for c in clusters for m in c.members])
    current = {c.cluster_id for c in clusters}
    closed = sorted(cid for cid, status in stored.items() if status == "active" and cid not in current)
    writes.close_clusters(stamp, closed)
    events += [_event(cid, stamp, "closed", None, "no longer shared within the window") for cid in closed]
    writes.add_cluster_events(events)
    return events


def _cluster_row(cluster: Cluster, stamp: str) -> tuple:
    return (cluster.cluster_id, cluster.kind, cluster.value, cluster.first_seen, cluster.last_seen,
            len(cluster.members), cluster.people, 1 if cluster.household else cluster.people,
            cluster.members_with("relay"), cluster.members_with("suspicious"), cluster.score, cluster.severity,
            stamp, stamp)


def _membership_events(cluster: Cluster, before: set[str], stamp: str) -> list[dict]:
    now_in = {m.device_id for m in cluster.members}
    return [*(_event(cluster.cluster_id, stamp, "joined", m.device_id, m.person)
              for m in cluster.members if m.device_id not in before),
            *(_event(cluster.cluster_id, stamp, "left", device_id, None) for device_id in sorted(before - now_in))]


def _event(cluster_id: str, at: str, event: str, device_id: str | None, detail: str | None) -> dict:
    return {"cluster_id": cluster_id, "at": at, "event": event, "device_id": device_id, "detail": detail}


def _write_findings(writes, findings: list[FleetFinding], stamp: str) -> set[str]:
    """Replace the stored fleet findings; returns the devices whose findings changed."""
    before = _by_device(writes.fleet_findings())
    rows = [(f.device_id, f.rule, f.severity, f.summary, json.dumps(f.evidence, sort_keys=True, default=str),
             f.cluster_id, stamp) for f in findings]
    after = _by_device(row[:5] for row in rows)
    writes.replace_fleet_findings(rows)
    return {d for d in before.keys() | after.keys() if before.get(d) != after.get(d)}


def _by_device(rows) -> dict[str, list[tuple]]:
    grouped: dict[str, list[tuple]] = {}
    for device_id, *finding in rows:
        grouped.setdefault(device_id, []).append(tuple(finding))
    return {device: sorted(items) for device, items in grouped.items()}


def _recombine(writes, devices: set[str], stamp: str) -> list[dict]:
    fleet = _findings_by_device(writes.fleet_findings_of(devices))
    own = _findings_by_device(writes.own_findings_of(devices))
    rows = writes.device_verdicts(devices)
    updates, changes = [], []
    for device_id, old_verdict, own_verdict, own_score, report_id in rows:
        combined = combine(own_verdict, own_score, own.get(device_id, []), fleet.get(device_id, []))
        updates.append((combined.verdict, combined.score, combined.source, device_id))
        if combined.verdict != old_verdict:
            changes.append({"device_id": device_id, "report_id": report_id, "old_verdict": old_verdict,
                            "new_verdict": combined.verdict, "score": combined.score, "source": combined.source})
    writes.set_verdicts(updates, [{**change, "changed_at": stamp} for change in changes])
    return changes


def _findings_by_device(cursor) -> dict[str, list[dict]]:
    grouped: dict[str, list[dict]] = {}
    for device_id, rule, severity, summary, evidence in cursor:
        grouped.setdefault(device_id, []).append(
            {"rule": rule, "severity": severity, "summary": summary, "evidence": evidence})
    return grouped
