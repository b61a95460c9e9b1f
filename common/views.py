"""How one device and one cluster are shown: the fields, then the sections as tables. Both CLIs
(`farmwatch-collector device|cluster`, `farmwatch-analyst device|cluster`) print through `show`, so
what an analyst sees remotely is what the collector's host shows."""
from __future__ import annotations

import sys
from dataclasses import dataclass

from farmwatch.common import output


@dataclass(frozen=True)
class View:
    fields: tuple[str, ...]
    sections: tuple[tuple[str, str, tuple[str, ...]], ...]  # (title, key in the record, columns)


DEVICE = View(
    ("device_id", "hostname", "os", "os_version", "hardware_model", "verdict", "score", "first_seen", "last_seen",
     "last_peer_ip", "report_count"),
    (("findings (latest report)", "findings", ("severity", "rule", "summary", "allowed")),
     ("fleet findings", "fleet_findings", ("severity", "rule", "summary", "cluster_id")),
     ("clusters", "clusters", ("cluster_id", "kind", "value", "score", "status", "first_seen", "last_seen")),
     ("verdict changes", "verdict_changes", ("changed_at", "old_verdict", "new_verdict", "score")),
     ("triage", "triage_history", ("at", "who", "state", "assignee", "note")),
     ("recent reports", "reports", ("received_at", "sequence", "peer_ip", "verdict", "score", "replay"))))

CLUSTER = View(
    ("cluster_id", "kind", "value", "score", "severity", "people", "devices", "first_seen", "last_seen", "status"),
    (("members", "members", ("device_id", "hostname", "person", "verdict", "own_verdict", "city", "region",
                             "country", "first_seen", "last_seen")),
     ("history", "events", ("at", "event", "device_id", "detail"))))

TRIAGE = View(("device_id", "state", "assignee", "updated_at", "updated_by"),
              (("history", "history", ("at", "who", "via", "previous_state", "state", "assignee", "note")),))


def show(info: dict, view: View, fmt: str, out=None) -> None:
    """One record: JSON or CSV as `output.emit` writes one object; a table as `name: value` lines and
    each section as a table."""
    out = out or sys.stdout
    if fmt != "table":
        output.emit(info, (), fmt, out)
        return
    out.write(output.fields(info, view.fields))
    for title, name, columns in view.sections:
        out.write(f"\n{title}:\n")
        output.emit(info[name], columns, "table", out)
