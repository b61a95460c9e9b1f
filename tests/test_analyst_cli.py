"""`farmwatch-analyst` as an analyst runs it: a separate process on the real bundle from
`pki issue-analyst`, over real mTLS to a running collector on 127.0.0.1, printing what the
collector's own commands print on the same data."""
from __future__ import annotations

import json
import os
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from collector_process import name_database
from conftest import RunningCollector, make_report, scenario_report
from test_collector_cli import BIN, collector, write_report


def analyst(served, *args, bundle: Path | bool | None = None, check: bool = True, env: dict | None = None):
    """farmwatch-analyst against `served`, with alice's bundle unless `bundle` names another (False: none)."""
    environment = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "FARMWATCH_ANALYST")}
    identity = ["--identity", str(bundle or served.bundle)] if bundle is not False else []
    result = subprocess.run([str(BIN / "farmwatch-analyst"), "--connect", served.address, *identity,
                             *map(str, args)], capture_output=True, text=True, timeout=120,
                            env={**environment, "GRPC_VERBOSITY": "NONE", **(env or {})})
    if check:
        assert result.returncode == 0, result.stderr
    return result


def fleet_home(tmp: Path, database_url: str = "") -> Path:
    """A collector home with relays, a suspicious laptop, a clean one and a cluster; its `[storage] url`
    `database_url` when given (then every command and server on the home uses that database)."""
    home = tmp / "home"
    collector(home, "pki", "init", "--san", "127.0.0.1", "--san", "localhost")
    if database_url:
        name_database(home, database_url)
    now = datetime.now(timezone.utc)
    files = [write_report(tmp / f"{device}.json", scenario_report(scenario, device))
             for device, scenario in (("PFWCWBL5", "relay/win_jetkvm"), ("C027VREFFHAR",
                                      "suspicious/mac_anydesk_idle_with_astrill"),
                                      ("SN-OFFICE", "clean/linux_office_plain"))]
    for device in ("SN-FARM-1", "SN-FARM-2"):
        for day in (3, 2, 1):
            at = (now - timedelta(days=day)).isoformat().replace("+00:00", "Z")
            files.append(write_report(tmp / f"{device}-{day}.json", make_report(device, 4 - day),
                                      {"received_at": at, "peer_ip": "38.104.12.77"}))
    collector(home, "ingest", *files)
    collector(home, "correlate")
    return home


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """`fleet_home` served on 127.0.0.1, and analyst alice's bundle as `pki issue-analyst` writes it."""
    home = fleet_home(tmp_path_factory.mktemp("analyst"))
    collector(home, "pki", "issue-analyst", "alice@example.com")
    running = RunningCollector(home)
    running.bundle = home / "pki" / "analysts" / "alice@example.com.pem"
    yield running
    running.stop()


@pytest.fixture(scope="module")
def cluster_id(served) -> str:
    [cluster] = json.loads(collector(served.home, "clusters", "--json").stdout)
    return cluster["cluster_id"]


@pytest.mark.parametrize("command", [["devices"], ["devices", "--verdict", "relay"], ["flags"], ["clusters"],
                                     ["clusters", "--all", "--min-score", "1"], ["device", "PFWCWBL5"],
                                     ["device", "SN-FARM-1"], ["cluster", "CLUSTER"]])
@pytest.mark.parametrize("fmt", ["--json", "--csv", None])
def test_every_read_command_prints_what_the_collector_prints(served, cluster_id, command, fmt):
    argv = [cluster_id if a == "CLUSTER" else a for a in command] + ([fmt] if fmt else [])
    remote, local = analyst(served, *argv).stdout, collector(served.home, *argv).stdout
    assert remote == local
    if fmt == "--json":
        assert json.loads(remote)  # not an empty answer that happens to match


def test_devices_filters_and_json_types(served, cluster_id):
    members = json.loads(analyst(served, "devices", "--cluster", cluster_id, "--json").stdout)
    assert sorted(d["device_id"] for d in members) == ["SN-FARM-1", "SN-FARM-2"]
    assert all(isinstance(d["score"], int) and isinstance(d["reports"], int) for d in members)


def test_query_answers_sql_and_refuses_a_write(served):
    rows = json.loads(analyst(served, "query", "SELECT device_id, score FROM devices ORDER BY device_id",
                              "--json").stdout)
    assert [r["device_id"] for r in rows] == ["C027VREFFHAR", "PFWCWBL5", "SN-FARM-1", "SN-FARM-2", "SN-OFFICE"]
    assert all(isinstance(r["score"], int) for r in rows)
    refused = analyst(served, "query", "DELETE FROM devices", check=False)
    assert refused.returncode == 1 and refused.stderr.startswith("farmwatch-analyst: ")
    assert served.store.count("devices") == 5


def test_follow_streams_current_flags_as_json_lines(served):
    process = subprocess.Popen([str(BIN / "farmwatch-analyst"), "--connect", served.address, "--identity",
                                str(served.bundle), "follow"], stdout=subprocess.PIPE, text=True,
                               env={**os.environ, "GRPC_VERBOSITY": "NONE"})
    try:
        first = json.loads(process.stdout.readline())
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert first["event"] == "new" and first["device_id"] in {"PFWCWBL5", "C027VREFFHAR"}


def test_identity_defaults_to_FARMWATCH_ANALYST_and_calls_are_audited_under_the_name(served):
    result = analyst(served, "flags", "--json", bundle=False, env={"FARMWATCH_ANALYST": str(served.bundle)})
    assert json.loads(result.stdout)
    [who] = served.store.rows("SELECT who FROM audit WHERE action = 'flags' AND via = 'grpc' ORDER BY id DESC "
                              "LIMIT 1")
    assert who == {"who": "alice@example.com"}


def test_a_bundle_folder_works_like_the_file(served, tmp_path):
    folder = tmp_path / "alice"
    folder.mkdir()
    analysts = served.home / "pki" / "analysts"
    for name, target in (("alice@example.com.key", "alice.key"), ("alice@example.com.crt", "alice.crt")):
        (folder / target).write_bytes((analysts / name).read_bytes())
    (folder / "ca.crt").write_bytes(served.ca_pem)
    assert json.loads(analyst(served, "devices", "--json", bundle=folder).stdout)


def test_missing_bundle_says_where_to_get_one(served, tmp_path):
    none = analyst(served, "devices", bundle=False, check=False)
    assert none.returncode == 1 and "--identity" in none.stderr and "pki issue-analyst" in none.stderr
    missing = analyst(served, "devices", bundle=tmp_path / "nope.pem", check=False)
    assert missing.returncode == 1 and "nope.pem" in missing.stderr and "pki issue-analyst" in missing.stderr
    (tmp_path / "half.pem").write_bytes(served.bundle.read_bytes().split(b"-----END PRIVATE KEY-----")[0])
    half = analyst(served, "devices", bundle=tmp_path / "half.pem", check=False)
    assert half.returncode == 1 and "not an analyst bundle" in half.stderr


def test_unreachable_collector_names_the_address(served, tmp_path):
    import socket

    with socket.socket() as closed:  # a port nobody listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    result = subprocess.run([str(BIN / "farmwatch-analyst"), "--connect", f"127.0.0.1:{port}", "--identity",
                             str(served.bundle), "devices"], capture_output=True, text=True, timeout=120,
                            env={**os.environ, "GRPC_VERBOSITY": "NONE"})
    assert result.returncode == 1
    assert f"cannot reach the collector at 127.0.0.1:{port}" in result.stderr and "running" in result.stderr


def test_a_collector_of_another_ca_is_not_trusted(served, tmp_path):
    other = tmp_path / "other"
    collector(other, "pki", "init", "--san", "127.0.0.1")
    collector(other, "pki", "issue-analyst", "alice@example.com")
    result = analyst(served, "devices", bundle=other / "pki" / "analysts" / "alice@example.com.pem", check=False)
    assert result.returncode == 1 and "CA in your bundle did not sign" in result.stderr
    assert "check --connect" in result.stderr


def test_a_certificate_of_another_ca_is_refused_in_the_handshake(served, tmp_path):
    other = tmp_path / "other"
    collector(other, "pki", "init", "--san", "127.0.0.1")
    collector(other, "pki", "issue-analyst", "eve")
    analysts = other / "pki" / "analysts"
    (tmp_path / "eve.pem").write_bytes((analysts / "eve.key").read_bytes() + (analysts / "eve.crt").read_bytes()
                                       + served.ca_pem)
    result = analyst(served, "devices", bundle=tmp_path / "eve.pem", check=False)
    assert result.returncode == 1 and "refused your certificate" in result.stderr
    assert "pki issue-analyst" in result.stderr


def test_an_agent_certificate_is_refused(served, tmp_path):
    creds = served.enroll("SN-NOSY")
    (tmp_path / "agent.pem").write_bytes(creds.key_pem + creds.cert_pem + creds.ca_pem)
    result = analyst(served, "devices", bundle=tmp_path / "agent.pem", check=False)
    assert result.returncode == 1 and "agent" in result.stderr and "pki issue-analyst" in result.stderr


def test_a_revoked_analyst_is_refused_and_audited(served):
    collector(served.home, "pki", "issue-analyst", "mallory")
    bundle = served.home / "pki" / "analysts" / "mallory.pem"
    assert analyst(served, "flags", bundle=bundle).returncode == 0
    collector(served.home, "pki", "revoke", "mallory", "--reason", "left the company")
    result = analyst(served, "flags", bundle=bundle, check=False)
    assert result.returncode == 1 and "revoked" in result.stderr and "pki issue-analyst" in result.stderr
    [last] = served.store.rows("SELECT who, action, outcome FROM audit ORDER BY id DESC LIMIT 1")
    assert last["who"] == "mallory" and last["outcome"].startswith("refused")


def test_usage_errors_exit_2_and_help_documents_the_exit_codes(served):
    assert analyst(served, "no-such-command", check=False).returncode == 2
    assert subprocess.run([str(BIN / "farmwatch-analyst"), "devices"], capture_output=True).returncode == 2
    text = subprocess.run([str(BIN / "farmwatch-analyst"), "--help"], capture_output=True, text=True).stdout
    assert "exit codes: 0 success; 1" in text and "2 bad usage" in text


def test_the_analyst_cli_needs_neither_the_collector_nor_its_extras():
    """Runs where only `pip install farmwatch` was done: nothing of farmwatch.collector or sqlite-utils loads."""
    probe = ("import sys, farmwatch.analyst.cli as cli; cli.build_parser(); "
             "print(sorted(m for m in sys.modules if m.startswith(('farmwatch.collector', 'sqlite_utils'))))")
    result = subprocess.run([str(BIN / "python"), "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
