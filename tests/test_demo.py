"""`make demo` (`python -m farmwatch.demo`) as a newcomer runs it: --help, --keep DIR, the farm's people."""
from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys

import pytest

DEMO = [sys.executable, "-m", "farmwatch.demo"]
ENV = {**os.environ, "GRPC_VERBOSITY": "ERROR"}


def test_help_explains_and_runs_nothing(tmp_path):
    result = subprocess.run([*DEMO, "--help"], capture_output=True, text=True, timeout=120, cwd=tmp_path, env=ENV)
    assert result.returncode == 0 and result.stdout.startswith("usage: python -m farmwatch.demo")
    assert "--keep DIR" in result.stdout and "==" not in result.stdout and list(tmp_path.iterdir()) == []


def test_keep_refuses_a_folder_with_something_in_it(tmp_path):
    (tmp_path / "mine.txt").write_text("not the demo's")
    result = subprocess.run([*DEMO, "--keep", str(tmp_path)], capture_output=True, text=True, timeout=120, env=ENV)
    assert result.returncode == 1 and "must be a new or empty folder" in result.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["mine.txt"]


@pytest.mark.slow
def test_the_demo_keeps_its_folder_and_names_the_farms_people(tmp_path):
    kept = tmp_path / "demo"
    result = subprocess.run([*DEMO, "--keep", str(kept)], capture_output=True, text=True, timeout=600, env=ENV)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "roster import" in result.stdout and "unknown:" not in result.stdout
    assert f"everything is kept in {kept.resolve()}" in result.stdout
    assert "with analyst's certificate: HTTP 200, 'Overview · farmwatch console'" in result.stdout
    assert result.stdout.rstrip().endswith("open https://127.0.0.1:8443/")  # the demo ends with the console
    home = kept / "collector"
    listed = subprocess.run([os.path.join(os.path.dirname(sys.executable), "farmwatch-collector"), "--home",
                             str(home), "clusters", "--json"], capture_output=True, text=True, timeout=120, env=ENV)
    [farm, *_] = json.loads(listed.stdout)
    with sqlite3.connect(home / "farmwatch.sqlite") as db:
        people = dict(db.execute("SELECT serial, user_name FROM roster WHERE serial LIKE 'FARM-%'").fetchall())
        not_on_roster = db.execute("SELECT count(*) FROM fleet_findings WHERE rule = 'fleet-not-on-roster'").fetchone()
    assert people == {"FARM-WIN-01": "Riley Chen", "FARM-MAC-02": "Jordan Patel", "FARM-LNX-03": "Sam Okoro"}
    assert farm["people"] == 3 and not_on_roster == (0,)  # every laptop of the demo is on its roster
