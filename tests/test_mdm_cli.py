"""`farmwatch-collector mdm …` as IT runs it, against the Jamf stand-in, and serve's scheduled sync."""
from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import RunningCollector
from farmwatch.collector import pki
from tests.mdm_helpers import standins, tls  # noqa: F401 (fixtures)


def collector(home: Path, *args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "farmwatch.collector.cli", "--home", str(home), *args],
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def jamf(standins):
    stand_in = standins("jamf")
    stand_in.devices = [stand_in.computer(n, f"C02CLI{n:04d}", f"Person {n}", f"p{n}@acme.example")
                        for n in range(1, 4)]
    return stand_in


@pytest.fixture
def home(tmp_path, jamf, tls) -> Path:
    home = tmp_path / "collector"
    pki.CertificateAuthority.create(home / "pki").issue_server(["localhost", "127.0.0.1"])
    secret = tmp_path / "jamf-secret"
    secret.write_text(jamf.secret + "\n")
    (home / "collector.toml").write_text(
        f'[mdm]\nsync_every_minutes = 60\n\n[mdm.jamf]\nurl = "{jamf.url}"\nclient_id = "{jamf.client_id}"\n'
        f'client_secret_file = "{secret}"\nca_file = "{tls.ca_file}"\n')
    return home


def test_sync_dry_run_then_sync_then_status_and_history(home, jamf):
    dry = collector(home, "mdm", "sync", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "jamf-api: would change (dry run): 3 devices listed, 3 new" in dry.stdout
    done = collector(home, "mdm", "sync", "--json")
    assert done.returncode == 0
    result = json.loads(done.stdout)
    assert result[0]["new"] == 3 and result[0]["ok"] and jamf.secret not in done.stdout + done.stderr

    jamf.devices[0]["userAndLocation"].update(realname="Person 2", email="p2@acme.example")
    again = collector(home, "mdm", "sync")
    assert "C02CLI0001: reassigned from p1@acme.example to p2@acme.example" in again.stdout

    status = json.loads(collector(home, "mdm", "status", "--json").stdout)
    assert [(s["source"], s["outcome"], s["reassigned"]) for s in status][0] == ("jamf-api", "ok", 1)
    history = json.loads(collector(home, "mdm", "history", "c02cli0001", "--json").stdout)
    assert [(h["change"], h["email"]) for h in history] == [("new", "p1@acme.example"), ("reassigned", "p2@acme.example")]
    table = collector(home, "mdm", "status")
    assert "jamf-api: 3 devices listed at the last sync, 0 with a verdict written back" in table.stdout


def test_a_failed_sync_exits_1_and_says_the_roster_is_unchanged(home, jamf):
    jamf.tokens.clear()
    jamf.secret = "rotated"  # the secret file now holds an old secret
    failed = collector(home, "mdm", "sync")
    assert failed.returncode == 1
    assert "jamf-api: FAILED, the roster is unchanged" in failed.stdout and "HTTP 401" in failed.stdout


def test_sync_without_any_mdm_configured_says_where_to_add_one(tmp_path):
    home = tmp_path / "bare"
    pki.CertificateAuthority.create(home / "pki")
    failed = collector(home, "mdm", "sync")
    assert failed.returncode == 1 and "[mdm.jamf]" in failed.stderr and "docs/deploy.md" in failed.stderr


def test_a_secret_written_into_collector_toml_is_refused(home):
    text = (home / "collector.toml").read_text().replace("client_secret_file", "client_secret")
    (home / "collector.toml").write_text(text)
    failed = collector(home, "mdm", "status")
    assert failed.returncode == 1 and "client_secret may not be written in collector.toml" in failed.stderr


def test_serve_syncs_the_roster_on_its_schedule(home, jamf):
    running = RunningCollector(home)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not running.store.rows("SELECT serial FROM roster"):
            time.sleep(0.1)
        assert {r["serial"] for r in running.store.rows("SELECT serial FROM roster")} == \
            {"C02CLI0001", "C02CLI0002", "C02CLI0003"}
    finally:
        running.stop()


def test_a_relay_reaches_the_mdm_record_within_one_sync(home, jamf, tls):
    """The issue's "done when": IT configures the client, a relay verdict lands on the device's
    record in Jamf at the next sync."""
    scenario = Path(__file__).parent / "scenarios" / "relay" / "win_pikvm.json"
    assert collector(home, "ingest", str(scenario)).returncode == 0
    jamf.devices.append(jamf.computer(9, "PFKDNT1G", "Ann Ames", "ann@acme.example"))
    with open(home / "collector.toml", "a") as settings:
        settings.write('write_back = true\nverdict_attribute = "42"\nlink_attribute = "43"\n')
    text = (home / "collector.toml").read_text().replace(
        "sync_every_minutes = 60\n", 'sync_every_minutes = 60\nconsole_url = "https://farmwatch.acme.example"\n')
    (home / "collector.toml").write_text(text)
    done = collector(home, "mdm", "sync")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "jamf-api write-back: 1 written" in done.stdout
    assert jamf.attributes["9"] == {"42": ["relay"],
                                    "43": ["https://farmwatch.acme.example/devices/PFKDNT1G/evidence"]}
    assert "jamf-api: 4 devices listed at the last sync, 1 with a verdict written back" in \
        collector(home, "mdm", "status").stdout
