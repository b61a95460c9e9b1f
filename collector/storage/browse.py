"""The web console's reads: a page of devices (filtered, searched, sorted), the overview's counts,
where a device has been and what changed on it. Everything else the console shows comes from
`queries` (the same reads as the CLIs)."""
from __future__ import annotations

from dataclasses import dataclass

from sqlite_utils.db import DescIndex

from farmwatch.common.device_id import canonical_device_id
from farmwatch.collector.storage.queries import _FLAGGED, _JOIN_TRIAGE, _PERSON, _TRIAGE, _rows

# What the devices page may sort by: the name in the URL -> the ORDER BY it stands for.
SORTS = {"score": "d.score DESC, d.device_id", "last_seen": "d.last_seen DESC, d.device_id",
         "device_id": "d.device_id", "hostname": "d.hostname, d.device_id",
         "person": "coalesce(r.email, lower(r.user_name)), d.device_id"}


def create_schema(db) -> None:
    """What keeps the devices page fast at 100,000 devices (bench/console.py): the default order walked
    as an index (a page stops after its rows), rules and filter values found without a scan."""
    db["devices"].create_index([DescIndex("score"), "device_id"], index_name="idx_devices_score_id",
                               if_not_exists=True)
    db["devices"].create_index(["os"], if_not_exists=True)
    db["findings"].create_index(["rule", "report_id"], if_not_exists=True)
    db["roster"].create_index(["department"], if_not_exists=True)


@dataclass(frozen=True)
class DeviceFilter:
    verdict: str = ""
    rule: str = ""
    os: str = ""
    department: str = ""
    seen_since: str = ""   # RFC 3339 (or a prefix of it, e.g. a date)
    search: str = ""       # part of the serial, hostname, or the person's e-mail or name
    triage: str = ""

    def where(self) -> tuple[str, list]:
        """The WHERE clause on `devices d` (each filter a subquery, so no join is paid for unless asked)."""
        clauses, params = [], []
        for column, value in (("d.verdict", self.verdict), ("d.os", self.os)):
            if value:
                clauses.append(f"{column} = ?")
                params.append(value)
        if self.department:
            clauses.append(f"{_SERIAL} IN (SELECT serial FROM roster WHERE department = ?)")
            params.append(self.department)
        if self.triage:
            clauses.append(f"{_TRIAGE_OF_D} = ?")
            params.append(self.triage)
        if self.seen_since:
            clauses.append("d.last_seen >= ?")
            params.append(self.seen_since)
        if self.rule:  # the rule fires on the latest report, or the fleet's findings name it
            clauses.append("d.device_id IN (SELECT f.device_id FROM findings f WHERE f.rule = ? AND f.allowed = 0 "
                           "AND f.report_id = (SELECT last_report_id FROM devices l WHERE l.device_id = f.device_id) "
                           "UNION SELECT device_id FROM fleet_findings WHERE rule = ?)")
            params += [self.rule, self.rule]
        if self.search:  # device ids are kept in their one spelling, upper case (common.device_id)
            like = f"%{_literal(self.search.strip().lower())}%"
            clauses.append(f"(d.device_id LIKE ? {_ESCAPE} OR lower(d.hostname) LIKE ? {_ESCAPE} OR {_SERIAL} IN "
                           f"(SELECT serial FROM roster WHERE lower(email) LIKE ? {_ESCAPE} OR lower(user_name) "
                           f"LIKE ? {_ESCAPE}))")
            params += [canonical_device_id(like), like, like, like]
        return (f"WHERE {' AND '.join(clauses)}" if clauses else ""), params


_ESCAPE = "ESCAPE '\\'"  # a search for "a_b" or "50%" means those characters, not LIKE's wildcards


def _literal(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


_SERIAL = "upper(trim(d.device_id))"  # the roster's spelling of a device id
_TRIAGE_OF_D = _TRIAGE.replace("t.state", "(SELECT state FROM triage WHERE triage.device_id = d.device_id)")


def device_page(conn, where: DeviceFilter, sort: str, offset: int, limit: int) -> tuple[list[dict], int]:
    """One page of devices and how many match in all: the page's ids from `devices` alone (in index order
    where the sort allows), then the people and triage of those few. Unfiltered, the count is the table's
    and the page stops after its rows; filtered, one pass finds the page and counts the matches."""
    clause, params = where.where()
    person_join = "LEFT JOIN roster r ON r.serial = upper(trim(d.device_id)) " if sort == "person" else ""
    count = "count(*) OVER ()" if clause else "NULL"
    found = conn.execute(f"SELECT d.device_id, {count} FROM devices d {person_join}{clause} "
                         f"ORDER BY {SORTS[sort]} LIMIT ? OFFSET ?", [*params, limit, offset]).fetchall()
    if not found or not clause:  # unfiltered, or past the last page: the count alone
        total = conn.execute(f"SELECT count(*) FROM devices d {clause}", params).fetchone()[0]
    else:
        total = found[0][1]
    if not found:
        return [], total
    ids = [row[0] for row in found]
    rows = _rows(conn,
        f"SELECT d.device_id, d.hostname, d.os, d.verdict, d.score, d.last_seen, d.last_peer_ip, "
        f"{_PERSON} AS person, r.department, {_TRIAGE} AS triage, t.assignee FROM devices d "
        f"LEFT JOIN roster r ON r.serial = upper(trim(d.device_id)) {_JOIN_TRIAGE} "
        f"WHERE d.device_id IN ({', '.join('?' * len(ids))})", ids)
    order = {device_id: n for n, device_id in enumerate(ids)}
    return sorted(rows, key=lambda row: order[row["device_id"]]), total


def choices(conn) -> dict[str, list[str]]:
    """The values the devices page's filters offer."""
    def column(sql):
        return [row[0] for row in conn.execute(sql) if row[0]]

    return {"os": column("SELECT DISTINCT os FROM devices ORDER BY os"),
            "department": column("SELECT DISTINCT department FROM roster ORDER BY department"),
            "rule": column("SELECT rule FROM findings WHERE allowed = 0 UNION SELECT rule FROM fleet_findings "
                           "ORDER BY rule")}


def overview(conn, days: int, since: str) -> dict:
    """Devices by verdict, devices newly flagged per UTC day since `since`, the rules firing on most devices."""
    per_day = conn.execute(
        f"SELECT substr(changed_at, 1, 10) AS day, count(DISTINCT device_id) FROM verdict_changes "
        f"WHERE new_verdict IN ({_FLAGGED}) AND (old_verdict IS NULL OR old_verdict NOT IN ({_FLAGGED})) "
        "AND changed_at >= ? GROUP BY substr(changed_at, 1, 10) ORDER BY day", (since,)).fetchall()
    top = conn.execute(
        "SELECT rule, count(DISTINCT device_id) AS n FROM ("
        f"SELECT f.rule, d.device_id FROM devices d JOIN findings f ON f.report_id = d.last_report_id "
        f"WHERE f.allowed = 0 AND d.verdict IN ({_FLAGGED}) "
        "UNION ALL SELECT rule, device_id FROM fleet_findings) AS fired GROUP BY rule ORDER BY n DESC, rule LIMIT 10"
    ).fetchall()
    verdicts = dict(conn.execute("SELECT verdict, count(*) FROM devices GROUP BY verdict").fetchall())
    return {"verdicts": verdicts, "flags_per_day": per_day, "top_rules": top, "days": days}


def places(conn, device_id: str) -> list[dict]:
    """Where the device has been: each public address, gateway and Wi-Fi it reported from, latest first."""
    return _rows(conn, "SELECT kind, value, first_seen, last_seen, days, reports FROM device_locations "
                       "WHERE device_id = ? ORDER BY last_seen DESC, kind LIMIT 100", (device_id,))


def inventory_changes(conn, device_id: str, limit: int = 50) -> dict[str, list[dict]]:
    """USB devices plugged and unplugged, applications installed and removed, newest first."""
    return {
        "usb_devices": _rows(conn, "SELECT vendor_id, product_id, manufacturer, product, first_seen, last_seen, "
                                   "present FROM usb_devices WHERE device_id = ? ORDER BY last_seen DESC LIMIT ?",
                             (device_id, limit)),
        "applications": _rows(conn, "SELECT name, version, path, first_seen, last_seen, present FROM applications "
                                    "WHERE device_id = ? ORDER BY first_seen DESC LIMIT ?", (device_id, limit)),
    }


def roster_facts(conn, serial: str) -> dict | None:
    """Who the roster says the laptop was issued to and where it was shipped."""
    found = _rows(conn, "SELECT * FROM roster WHERE serial = upper(trim(?))", (serial,))
    return found[0] if found else None
