"""Fleet correlation's reads (one snapshot) and writes (one transaction).

Everything is read from small per-device tables — `device_locations` (a few rows per device,
kept by ingest), `devices`, `roster` — never from the reports themselves, and only the keys two
devices share reach Python. Rows come back as tuples in the column order each method names.
"""
from __future__ import annotations

import json

# Starts from the keys two or more devices were ever seen at (location_keys, kept by a trigger),
# then reads those keys' rows in the window: one statement, and only shared keys reach Python.
# CROSS JOIN keeps that order: shared keys first, then each key's range of the clustered table.
# A device counts at a key when it stayed there: reports on `min_days` UTC days inside the window
# (`days` counts all time, so it only pre-filters), the first and last of them at least
# `min_days - 1` whole days apart. A two-day conference on the American west coast touches three
# UTC days (09:00-18:00 PST is 17:00-02:00 UTC) but lasts some 33 hours.
_SHARED = (
    "SELECT l.kind, l.value, l.device_id, l.first_seen, l.last_seen, l.reports, l.peer_ip, l.gateway_mac, "
    "l.wifi_bssid "
    "FROM location_keys k CROSS JOIN device_locations l ON l.kind = k.kind AND l.value = k.value "
    "WHERE k.devices >= 2 AND l.last_seen >= :start AND l.days >= :min_days "
    "AND julianday(l.last_seen) - julianday(max(l.first_seen, :start)) >= :min_days - 1 "
    "AND (SELECT count(*) FROM device_location_days d WHERE d.kind = l.kind AND d.value = l.value "
    "AND d.device_id = l.device_id AND d.day >= substr(:start, 1, 10)) >= :min_days")
# A person is their e-mail address. A row without one (an export that left it out, say for a
# replacement laptop) takes the address of the person's other rows, found by the same user name
# when exactly one address goes with it; else the user name stands in.
_PERSON = ("coalesce(r.email, (SELECT min(o.email) FROM roster o WHERE lower(o.user_name) = lower(r.user_name) "
           "AND o.email IS NOT NULL HAVING count(DISTINCT o.email) = 1), lower(r.user_name))")
_ON_ROSTER = "FROM devices d JOIN roster r ON r.serial = upper(trim(d.device_id)) WHERE r.country IS NOT NULL"


class FleetReads:
    """The reads of one correlation run, inside one snapshot."""

    def __init__(self, conn):
        self.conn = conn

    # -- clusters ---------------------------------------------------------------------------
    def shared_key_rows(self, start: str, min_days: int) -> list[tuple]:
        """(kind, value, device_id, first_seen, last_seen, reports, peer_ip, gateway_mac, wifi_bssid)
        of every device that stayed at a key two or more devices were seen at."""
        return self.conn.execute(_SHARED, {"start": start, "min_days": min_days}).fetchall()

    def days_at(self, devices: set[str], start: str) -> list[tuple]:
        """(device_id, kind, value, day): the UTC days in the window each device reported from each key."""
        return self.conn.execute(
            "SELECT l.device_id, l.kind, l.value, d.day FROM device_locations l JOIN device_location_days d "
            "ON d.kind = l.kind AND d.value = l.value AND d.device_id = l.device_id AND d.day >= substr(:start, 1, 10) "
            "WHERE l.device_id IN (SELECT value FROM json_each(:devices)) AND l.last_seen >= :start",
            {"start": start, "devices": json.dumps(sorted(devices))}).fetchall()

    def roster_people(self, serials: list[str]) -> list[tuple]:
        """(serial, person, country, region, city, postal_code) of roster rows with these serials."""
        found = []
        for start in range(0, len(serials), 500):
            chunk = serials[start:start + 500]
            found += self.conn.execute(f"SELECT serial, {_PERSON}, country, region, city, postal_code FROM roster r "
                                       f"WHERE serial IN ({', '.join('?' * len(chunk))})", chunk).fetchall()
        return found

    def own_verdicts(self, devices: set[str]) -> dict[str, str]:
        ids = list(devices)
        found = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            found.update(self.conn.execute(
                f"SELECT device_id, own_verdict FROM devices WHERE device_id IN ({', '.join('?' * len(chunk))})",
                chunk).fetchall())
        return found

    def scans_since(self, start_slot: str) -> list[tuple]:
        """(device_id, slot, first_seen, last_seen, reports, peer_ip, gateway_mac, wifi_bssid, heard JSON)
        of every device's Wi-Fi neighbourhood slots from `start_slot` on, by device and slot."""
        return self.conn.execute(
            "SELECT device_id, slot, first_seen, last_seen, reports, peer_ip, gateway_mac, wifi_bssid, heard "
            "FROM device_scans WHERE slot >= ? ORDER BY device_id, slot", (start_slot,)).fetchall()

    # -- per-device rules -------------------------------------------------------------------
    def places_of(self, devices: list[str]) -> list[tuple]:
        """(device_id, kind, value, first_seen, last_seen, reports, days) of these devices."""
        return self.conn.execute(
            "SELECT device_id, kind, value, first_seen, last_seen, reports, days FROM device_locations "
            "WHERE device_id IN (SELECT value FROM json_each(?))", (json.dumps(devices),)).fetchall()

    def has_roster(self) -> bool:
        return self.conn.execute("SELECT 1 FROM roster LIMIT 1").fetchone() is not None

    def not_on_roster(self) -> list[tuple]:
        """(device_id, hostname, first_seen) of reporting devices the roster lacks."""
        # the inner scan reads only the device_id index, not the wide device rows
        return self.conn.execute(
            "SELECT device_id, hostname, first_seen FROM devices WHERE device_id IN (SELECT device_id FROM devices d "
            "WHERE NOT EXISTS (SELECT 1 FROM roster r WHERE r.serial = upper(trim(d.device_id))))").fetchall()

    def unusual_device_ids(self) -> set[str]:
        """Device ids not stored as the roster spells serials, normalised."""
        return {row[0] for row in self.conn.execute(
            "SELECT upper(trim(device_id)) FROM devices WHERE device_id != upper(trim(device_id))")}

    def never_reported(self, issued_by: str) -> list[tuple]:
        """(serial, person, issue_date, imported_at) of roster rows issued by the day `issued_by`
        whose serial no device reported as."""
        return self.conn.execute(
            "SELECT serial, coalesce(email, user_name), issue_date, imported_at FROM roster r "
            "WHERE coalesce(issue_date, substr(imported_at, 1, 10)) <= ? "
            "AND NOT EXISTS (SELECT 1 FROM devices d WHERE d.device_id = r.serial)", (issued_by,)).fetchall()

    def zone_country_pairs(self) -> list[tuple]:
        return self.conn.execute(
            f"SELECT DISTINCT d.timezone, r.country {_ON_ROSTER} AND d.timezone IS NOT NULL").fetchall()

    def devices_in_zones(self, zones: list[str]) -> list[tuple]:
        """(device_id, timezone, roster country) of devices on the roster in these zones."""
        return self.conn.execute(f"SELECT d.device_id, d.timezone, r.country {_ON_ROSTER} AND d.timezone IN "
                                 f"({', '.join('?' * len(zones))}) ORDER BY d.device_id", zones).fetchall()

    def device_languages(self) -> list[tuple]:
        """(device_id, input_languages, roster country) of devices with a flagged input language."""
        return self.conn.execute(
            f"SELECT d.device_id, d.input_languages, r.country {_ON_ROSTER} AND d.input_languages > ''").fetchall()

    def silent_since(self, cutoff: str) -> list[tuple]:
        """(device_id, last_seen, reports) of devices last seen before `cutoff`."""
        return self.conn.execute("SELECT device_id, last_seen, reports FROM devices WHERE last_seen < ?",
                                 (cutoff,)).fetchall()

    def replays_since(self, start: str) -> list[tuple]:
        """(device_id, replays, latest received_at) of devices with replays received since `start`."""
        return self.conn.execute("SELECT device_id, count(*), max(received_at) FROM reports "
                                 "WHERE replay = 1 AND received_at >= ? GROUP BY device_id ORDER BY device_id",
                                 (start,)).fetchall()


_UPSERT_CLUSTER = (
    "INSERT INTO clusters (cluster_id, kind, value, status, first_seen, last_seen, devices, people, households, "
    "relay_members, suspicious_members, score, severity, created_at, updated_at) "
    "VALUES (?, ?, ?, 'active', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(cluster_id) DO UPDATE SET "
    "status = 'active', first_seen = min(clusters.first_seen, excluded.first_seen), last_seen = excluded.last_seen, "
    "devices = excluded.devices, people = excluded.people, households = excluded.households, "
    "relay_members = excluded.relay_members, suspicious_members = excluded.suspicious_members, "
    "score = excluded.score, severity = excluded.severity, updated_at = excluded.updated_at")
_UPSERT_MEMBER = (
    "INSERT INTO cluster_members (cluster_id, device_id, person, on_roster, first_seen, last_seen, reports, "
    "own_verdict, joined_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(cluster_id, device_id) DO UPDATE SET "
    "person = excluded.person, on_roster = excluded.on_roster, first_seen = excluded.first_seen, "
    "last_seen = excluded.last_seen, reports = excluded.reports, own_verdict = excluded.own_verdict")
_SELECTED = "device_id IN (SELECT value FROM json_each(?))"


class FleetWrites:
    """The writes of one correlation run, in one transaction (which also reads each device's own
    findings, so a report ingested meanwhile is combined correctly)."""

    def __init__(self, conn):
        self.conn = conn

    def cluster_statuses(self) -> dict[str, str]:
        return dict(self.conn.execute("SELECT cluster_id, status FROM clusters"))

    def cluster_members(self) -> list[tuple]:
        return self.conn.execute("SELECT cluster_id, device_id FROM cluster_members").fetchall()

    def upsert_clusters(self, rows: list[tuple]) -> None:
        self.conn.executemany(_UPSERT_CLUSTER, rows)

    def remove_members(self, events: list[dict]) -> None:
        """Drop the members `left` events (cluster_id, device_id) name."""
        self.conn.executemany("DELETE FROM cluster_members WHERE cluster_id = :cluster_id AND device_id = :device_id",
                              events)

    def upsert_members(self, rows: list[tuple]) -> None:
        self.conn.executemany(_UPSERT_MEMBER, rows)

    def close_clusters(self, stamp: str, cluster_ids: list[str]) -> None:
        self.conn.executemany("UPDATE clusters SET status = 'inactive', updated_at = ? WHERE cluster_id = ?",
                              [(stamp, cid) for cid in cluster_ids])

    def add_cluster_events(self, events: list[dict]) -> None:
        self.conn.executemany("INSERT INTO cluster_events (cluster_id, at, event, device_id, detail) VALUES "
                              "(:cluster_id, :at, :event, :device_id, :detail)", events)

    def forget_scans(self, before_slot: str | None) -> int:
        """Delete the Wi-Fi neighbourhood slots before `before_slot` (None: all of them)."""
        if before_slot is None:
            return self.conn.execute("DELETE FROM device_scans").rowcount
        return self.conn.execute("DELETE FROM device_scans WHERE slot < ?", (before_slot,)).rowcount

    def fleet_findings(self) -> list[tuple]:
        """(device_id, rule, severity, summary, evidence) of every stored fleet finding."""
        return self.conn.execute("SELECT device_id, rule, severity, summary, evidence FROM fleet_findings").fetchall()

    def replace_fleet_findings(self, rows: list[tuple]) -> None:
        """rows: (device_id, rule, severity, summary, evidence JSON, cluster_id, computed_at)."""
        self.conn.execute("DELETE FROM fleet_findings")
        self.conn.executemany("INSERT INTO fleet_findings (device_id, rule, severity, summary, evidence, cluster_id, "
                              "computed_at) VALUES (?, ?, ?, ?, ?, ?, ?)", rows)

    def fleet_findings_of(self, devices: set[str]) -> list[tuple]:
        return self.conn.execute(f"SELECT device_id, rule, severity, summary, evidence FROM fleet_findings "
                                 f"WHERE {_SELECTED}", (json.dumps(sorted(devices)),)).fetchall()

    def own_findings_of(self, devices: set[str]) -> list[tuple]:
        """(device_id, rule, severity, summary, evidence) of each device's latest report."""
        return self.conn.execute(
            "SELECT d.device_id, f.rule, f.severity, f.summary, f.evidence FROM devices d "
            f"JOIN findings f ON f.report_id = d.last_report_id WHERE d.{_SELECTED}",
            (json.dumps(sorted(devices)),)).fetchall()

    def device_verdicts(self, devices: set[str]) -> list[tuple]:
        """(device_id, verdict, own_verdict, own_score, last_report_id), by device id."""
        return self.conn.execute(f"SELECT device_id, verdict, own_verdict, own_score, last_report_id FROM devices "
                                 f"WHERE {_SELECTED} ORDER BY device_id", (json.dumps(sorted(devices)),)).fetchall()

    def set_verdicts(self, updates: list[tuple], changes: list[dict]) -> None:
        """updates: (verdict, score, verdict_source, device_id); changes: verdict_changes rows."""
        self.conn.executemany("UPDATE devices SET verdict = ?, score = ?, verdict_source = ? WHERE device_id = ?",
                              updates)
        self.conn.executemany(
            "INSERT INTO verdict_changes (device_id, changed_at, report_id, old_verdict, new_verdict, score) "
            "VALUES (:device_id, :changed_at, :report_id, :old_verdict, :new_verdict, :score)", changes)
