"""Per-device fleet findings: what one device's place in the fleet and the roster say about it.

Rules (finding `rule` ids; severities weigh in through detect's scoring):
  fleet-cluster            the device is a member of a cluster; severity is the cluster's
  fleet-moved-to-cluster   medium: it reported for days from its own place (one it shared with no
                           other person), then from a cluster's
  fleet-timezone-vs-roster low: its time zone is not used in the roster's ship-to country
  fleet-language-vs-roster low: an input language (Korean IME …) foreign to the ship-to country
  fleet-silent             low: no report for longer than its interval allows, after reporting
  fleet-not-on-roster      medium: it reports, but the roster (when one is imported) lacks it
  fleet-never-reported     medium: on the roster, past its grace period, never reported
Time zone and language are weak and common among honest staff (docs/detection.md L6): low, so they
corroborate and never flag alone. A laptop on holiday goes silent too: low for the same reason.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from farmwatch.collector.fleet.clusters import Cluster, Member
from farmwatch.collector.fleet.keys import CLUSTER_KINDS, KIND_NAMES
from farmwatch.collector.fleet.timezones import countries_of
from farmwatch.common.clock import rfc3339

# Where an input language the catalogue flags (collector/signatures/context.json) is at home.
LANGUAGE_HOME_COUNTRIES = {"korean": frozenset({"KR", "KP"})}
_EVIDENCE_MEMBERS = 50  # members named in a cluster finding's evidence (all are in `devices`)


@dataclass
class FleetFinding:
    device_id: str
    rule: str
    severity: str
    summary: str
    evidence: dict = field(default_factory=dict)
    cluster_id: str | None = None

    def to_dict(self) -> dict:
        return {"rule": self.rule, "severity": self.severity, "summary": self.summary, "evidence": self.evidence}


# -- clusters --------------------------------------------------------------------------------

def cluster_findings(reads, clusters: list[Cluster], min_days: int) -> list[FleetFinding]:
    """One finding per member device for its strongest cluster (the others listed in it), and a
    move finding when the device came to a cluster from a place of its own."""
    by_device: dict[str, list[tuple[Cluster, Member]]] = {}
    for cluster in clusters:
        for member in cluster.members:
            by_device.setdefault(member.device_id, []).append((cluster, member))
    places = _places_of(reads, sorted(by_device))
    findings = []
    for device_id, memberships in sorted(by_device.items()):
        _strongest_first(memberships)
        findings.append(_membership_finding(device_id, memberships))
        moved = _first_move(device_id, memberships, places.get(device_id, []), min_days)
        if moved:
            findings.append(moved)
    return findings


def _strongest_first(memberships: list[tuple[Cluster, Member]]) -> None:
    """Highest score first; among equals the place the device was at most recently (a farm that
    moved house is shown where it is now), then the strongest key kind."""
    memberships.sort(key=lambda cm: CLUSTER_KINDS.index(cm[0].kind))
    memberships.sort(key=lambda cm: cm[1].last_seen[:10], reverse=True)
    memberships.sort(key=lambda cm: -cm[0].score)


def _membership_finding(device_id: str, memberships: list[tuple[Cluster, Member]]) -> FleetFinding:
    cluster, member = memberships[0]
    others = cluster.people - 1
    summary = (f"Shares {KIND_NAMES[cluster.kind]} {cluster.value} with {len(cluster.members) - 1} other "
               f"device(s) of {others} other {'person' if others == 1 else 'people'} since {cluster.first_seen[:10]}, "
               f"this one since {member.first_seen[:10]} (cluster {cluster.cluster_id})")
    evidence = {
        "cluster_id": cluster.cluster_id, "key": {"kind": cluster.kind, "value": cluster.value},
        "cluster_score": cluster.score, "devices": [m.device_id for m in cluster.members],
        "members": [{"device_id": m.device_id, "person": m.person, "on_roster": m.on_roster,
                     "here_since": m.first_seen, "last_seen_here": m.last_seen}
                    for m in cluster.members[:_EVIDENCE_MEMBERS]],
        "people": cluster.people, "household": cluster.household,
        "relay_members": cluster.members_with("relay"), "suspicious_members": cluster.members_with("suspicious"),
        "here_since": member.first_seen, "last_seen_here": member.last_seen,
        "also_in": [c.cluster_id for c, _ in memberships[1:]],
    }
    return FleetFinding(device_id, "fleet-cluster", cluster.severity, summary, evidence, cluster.cluster_id)


def _first_move(device_id: str, memberships, places: list[tuple], min_days: int) -> FleetFinding | None:
    # a place shared with other people (a cluster itself: the farm's previous house) is not its own
    shared = {(cluster.kind, cluster.value) for cluster, _ in memberships}
    own = [place for place in places if (place[0], place[1]) not in shared]
    for cluster, member in sorted(memberships, key=lambda cm: CLUSTER_KINDS.index(cm[0].kind)):
        usual = _usual_place(own, cluster.kind, cluster.value, member.first_seen, min_days)
        if usual:
            _, value, first_seen, last_seen, reports, _ = usual
            summary = (f"Moved from its usual {KIND_NAMES[cluster.kind]} {value} ({reports} reports since "
                       f"{first_seen[:10]}) to cluster {cluster.cluster_id}")
            evidence = {"from": {"kind": cluster.kind, "value": value, "first_seen": first_seen,
                                 "last_seen": last_seen, "reports": reports},
                        "to": {"cluster_id": cluster.cluster_id, "value": cluster.value, "since": member.first_seen}}
            return FleetFinding(device_id, "fleet-moved-to-cluster", "medium", summary, evidence, cluster.cluster_id)
    return None


def _usual_place(places: list[tuple], kind: str, value: str, arrived: str, min_days: int) -> tuple | None:
    """The place of this kind the device reported from most, for days, and left before arriving."""
    earlier = [p for p in places if p[0] == kind and p[1] != value and p[5] >= min_days and p[2] < arrived
               and p[3][:10] <= arrived[:10]]
    return min(earlier, key=lambda p: (-p[4], p[1]), default=None)


def _places_of(reads, devices: list[str]) -> dict[str, list[tuple]]:
    """device → its (kind, value, first_seen, last_seen, reports, days) rows."""
    found: dict[str, list[tuple]] = {}
    for device_id, *place in reads.places_of(devices):
        found.setdefault(device_id, []).append(tuple(place))
    return found


# -- roster ----------------------------------------------------------------------------------

def roster_findings(reads, now: datetime, grace: timedelta) -> list[FleetFinding]:
    if not reads.has_roster():
        return []  # no roster imported: nothing to compare with
    return [*_not_on_roster(reads), *_never_reported(reads, now, grace), *_locale_mismatches(reads)]


def _not_on_roster(reads) -> list[FleetFinding]:
    cursor = reads.not_on_roster()
    return [FleetFinding(device_id, "fleet-not-on-roster", "medium",
                         f"Reports (as {hostname or device_id}, since {(first or '')[:10]}) "
                         "but is not on the MDM roster",
                         {"hostname": hostname, "first_seen": first})
            for device_id, hostname, first in cursor]


def _never_reported(reads, now: datetime, grace: timedelta) -> list[FleetFinding]:
    cutoff = (now - grace).strftime("%Y-%m-%d")
    # Device ids are almost always stored as the roster spells serials: look those up by key,
    # and normalise only the few that are not.
    unusual = reads.unusual_device_ids()
    cursor = reads.never_reported(cutoff)
    return [FleetFinding(serial, "fleet-never-reported", "medium",
                         f"On the roster ({person or 'no user'}, issued {issued or 'on an unknown date'}) "
                         f"but has never reported",
                         {"assigned_to": person, "issue_date": issued, "roster_imported_at": imported,
                          "grace_days": grace.total_seconds() / 86400})
            for serial, person, issued, imported in cursor if serial not in unusual]


def _locale_mismatches(reads) -> list[FleetFinding]:
    return [*_zone_mismatches(reads), *_language_mismatches(reads)]


def _zone_mismatches(reads) -> list[FleetFinding]:
    # A fleet has a few hundred (zone, country) pairs: judge the pairs, then fetch only the
    # devices in the zones of the pairs that disagree.
    pairs = reads.zone_country_pairs()
    wrong = {(zone, country) for zone, country in pairs if countries_of(zone) and country not in countries_of(zone)}
    zones = sorted({zone for zone, _ in wrong})
    if not zones:
        return []
    cursor = reads.devices_in_zones(zones)
    return [FleetFinding(device_id, "fleet-timezone-vs-roster", "low",
                         f"Time zone {zone} is not used in {country}, where the roster shipped it",
                         {"timezone": zone, "timezone_countries": sorted(countries_of(zone)),
                          "roster_country": country})
            for device_id, zone, country in cursor if (zone, country) in wrong]


def _language_mismatches(reads) -> list[FleetFinding]:
    cursor = reads.device_languages()
    findings = []
    for device_id, languages, country in cursor:
        for language in languages.split(","):
            home = LANGUAGE_HOME_COUNTRIES.get(language)
            if home and country not in home:
                findings.append(FleetFinding(
                    device_id, "fleet-language-vs-roster", "low",
                    f"{language.capitalize()} input configured on a laptop shipped to {country}",
                    {"language": language, "language_countries": sorted(home), "roster_country": country}))
    return findings


# -- silence ---------------------------------------------------------------------------------

def silent_findings(reads, now: datetime, allowed: timedelta) -> list[FleetFinding]:
    cutoff = rfc3339(now - allowed)
    cursor = reads.silent_since(cutoff)
    hours = allowed.total_seconds() / 3600
    return [FleetFinding(device_id, "fleet-silent", "low",
                         f"Silent since {last_seen} (more than {hours:g} h) after {reports} report(s)",
                         {"last_seen": last_seen, "silent_after_hours": hours, "reports": reports})
            for device_id, last_seen, reports in cursor]


