"""Triage through farmwatch-analyst over the Query API: the same answer as the collector's own
`triage`, recorded under the analyst certificate's name, audited, and refused for bad input."""
from __future__ import annotations

import json
import sqlite3

from test_analyst_cli import analyst, served  # noqa: F401 (fixture)
from test_collector_cli import collector


def test_an_analyst_triages_and_sees_it_in_flags(served):
    answer = json.loads(analyst(served, "triage", "PFWCWBL5", "--state", "investigating", "--assignee",
                                "alice", "--note", "JetKVM on a help-desk laptop?", "--json").stdout)
    assert (answer["state"], answer["assignee"], answer["updated_by"]) == ("investigating", "alice",
                                                                           "alice@example.com")
    assert answer["history"][-1]["via"] == "grpc" and answer["history"][-1]["note"] == "JetKVM on a help-desk laptop?"
    flags = json.loads(analyst(served, "flags", "--json").stdout)
    assert {f["triage"] for f in flags if f["device_id"] == "PFWCWBL5"} == {"investigating"}
    assert analyst(served, "triage", "PFWCWBL5", "--json").stdout == collector(served.home, "triage", "PFWCWBL5",
                                                                              "--json").stdout
    cleared = json.loads(analyst(served, "triage", "PFWCWBL5", "--assignee", "", "--json").stdout)
    assert cleared["assignee"] is None and cleared["state"] == "investigating"
    with sqlite3.connect(served.home / "farmwatch.sqlite") as conn:
        audited = conn.execute("SELECT who, via, outcome FROM audit WHERE action = 'triage' AND detail LIKE "
                               "'PFWCWBL5 state=%'").fetchall()
    assert audited == [("alice@example.com", "grpc", "ok")]


def test_bad_triage_is_refused_with_what_to_do(served):
    unknown = analyst(served, "triage", "NO-SUCH", "--state", "resolved", check=False)
    assert unknown.returncode == 1 and "no device 'NO-SUCH'" in unknown.stderr
    long_note = analyst(served, "triage", "PFWCWBL5", "--note", "x" * 4001, check=False)
    assert long_note.returncode == 1 and "keep it under 4000" in long_note.stderr
