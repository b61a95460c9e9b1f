"""`farmwatch-collector` as a person or a script runs it: separate processes, real files."""
from __future__ import annotations

import csv
import io
import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from google.protobuf import json_format

from conftest import make_report

BIN = Path(sys.executable).parent


def collector(home: Path, *args, check: bool = True, env: dict | None = None) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    result = subprocess.run([str(BIN / "farmwatch-collector"), "--home", str(home), *map(str, args)],
                            capture_output=True, text=True,
                            env={**environment, "GRPC_VERBOSITY": "ERROR", **(env or {})})
    if check:
        assert result.returncode == 0, result.stderr
    return result


@pytest.fixture(scope="module")
def initialised_home(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("pki-init") / "home"
    collector(home, "pki", "init", "--san", "collector.example.com", "--san", "10.0.0.5")
    return home


@pytest.fixture
def home(initialised_home, tmp_path) -> Path:
    """A home as `pki init` made it, each test its own: a copy (modes kept) of one made once per module,
    where a `pki init` per test cost a process start each."""
    return Path(shutil.copytree(initialised_home, tmp_path / "home"))


def write_report(path: Path, report, envelope: dict | None = None) -> Path:
    data = json_format.MessageToDict(report, preserving_proto_field_name=True)
    path.write_text(json.dumps({**envelope, "report": data} if envelope else data))
    return path


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_pki_init_keeps_keys_private_and_refuses_to_overwrite(home):
    assert mode(home / "pki" / "ca.key") == 0o600
    assert mode(home / "pki" / "server.key") == 0o600
    again = collector(home, "pki", "init", check=False)
    assert again.returncode == 1
    assert "--force" in again.stderr
    assert collector(home, "pki", "init", "--force").returncode == 0


def test_pki_init_writes_the_documented_settings_once(home):
    import tomllib

    settings = tomllib.loads((home / "collector.toml").read_text())
    assert settings["collector"]["server_names"] == ["collector.example.com", "10.0.0.5"]
    assert settings["collector"]["listen"] == "127.0.0.1:7443"
    (home / "collector.toml").write_text('[collector]\nworkers = 4\n')
    collector(home, "pki", "init", "--force")
    assert (home / "collector.toml").read_text() == '[collector]\nworkers = 4\n'  # an admin's edits stay


def test_server_certificate_carries_the_requested_names(home):
    from cryptography import x509

    cert = x509.load_pem_x509_certificate((home / "pki" / "server.crt").read_bytes())
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert [str(n.value) for n in names] == ["collector.example.com", "10.0.0.5"]


def test_token_create_prints_the_token_last_and_list_never_shows_it(home):
    created = collector(home, "token", "create", "--uses", "3", "--expires", "2d", "--note", "laptops batch 7")
    token = created.stdout.strip().splitlines()[-1]
    assert token.startswith("fwt_")
    listed = json.loads(collector(home, "token", "list", "--json").stdout)
    assert [(t["uses_allowed"], t["note"]) for t in listed] == [(3, "laptops batch 7")]
    assert token not in json.dumps(listed)


@pytest.mark.parametrize("duration", ["soon", "0d", "0m", "100y"])
def test_token_create_rejects_a_bad_duration_as_a_usage_error(home, duration):
    result = collector(home, "token", "create", "--expires", duration, check=False)
    assert result.returncode == 2  # like --uses 0: the command line is wrong, nothing was tried
    assert "like 30m, 12h, 7d" in result.stderr
    assert json.loads(collector(home, "token", "list", "--json").stdout) == []


@pytest.mark.parametrize("argv, complaint", [
    (["--days", "0"], "at least 1"), (["--days", "-5"], "at least 1"), (["--days", "soon"], "at least 1")])
def test_issue_analyst_refuses_a_lifetime_that_is_not_a_positive_number_of_days(home, argv, complaint):
    result = collector(home, "pki", "issue-analyst", "alice", *argv, check=False)
    assert result.returncode == 2 and complaint in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("name", ["../evil", "/tmp/evil", ".hidden", "a b", "x" * 65, ""])
def test_issue_analyst_names_cannot_leave_the_analysts_folder(home, name):
    result = collector(home, "pki", "issue-analyst", name, check=False)
    assert result.returncode == 2 and "is not a name of letters" in result.stderr
    assert sorted(p.name for p in (home / "pki").iterdir()) == ["ca.crt", "ca.key", "server.crt", "server.key"]


def test_issue_analyst_writes_the_key_private_and_the_bundle(home):
    printed = collector(home, "pki", "issue-analyst", "alice@example.com", "--days", "30").stdout
    analysts = home / "pki" / "analysts"
    assert mode(analysts / "alice@example.com.key") == 0o600
    bundle = analysts / "alice@example.com.pem"
    assert mode(bundle) == 0o600 and str(bundle) in printed and "farmwatch-analyst --identity" in printed
    assert bundle.read_bytes() == b"".join((analysts / f"alice@example.com.{part}").read_bytes()
                                           for part in ("key", "crt")) + (home / "pki" / "ca.crt").read_bytes()


def test_ingest_reports_and_envelopes_idempotently(home, tmp_path):
    first = write_report(tmp_path / "a.json", make_report("SN-A"))
    second = write_report(tmp_path / "b.json", make_report("SN-B"),
                          {"received_at": "2026-11-20T10:00:00Z", "peer_ip": "203.0.113.9"})
    assert "stored 2, duplicates 0, failed 0" in collector(home, "ingest", first, second).stdout
    assert "stored 0, duplicates 2, failed 0" in collector(home, "ingest", first, second).stdout
    devices = json.loads(collector(home, "devices", "--json").stdout)
    assert {d["device_id"]: d["last_peer_ip"] for d in devices} == {"SN-A": "", "SN-B": "203.0.113.9"}


def test_ingest_names_a_malformed_file_and_still_stores_the_rest(home, tmp_path):
    good = write_report(tmp_path / "good.json", make_report("SN-G"))
    bad = tmp_path / "bad.json"
    bad.write_text('{"report_id": "x", "processes": "not a list"}')
    result = collector(home, "ingest", bad, good, check=False)
    assert result.returncode == 1
    assert "bad.json" in result.stderr
    assert "stored 1" in result.stdout


def test_devices_csv_has_a_header_and_one_row_per_device(home, tmp_path):
    collector(home, "ingest", write_report(tmp_path / "a.json", make_report("SN-CSV")))
    rows = list(csv.DictReader(io.StringIO(collector(home, "devices", "--csv").stdout)))
    assert [r["device_id"] for r in rows] == ["SN-CSV"]


def test_classify_prints_one_contract_object_per_file(home, tmp_path):
    paths = [write_report(tmp_path / f"{i}.json", make_report(f"SN-{i}")) for i in range(3)]
    paths.append(write_report(tmp_path / "env.json", make_report("SN-E"), {"received_at": "2026-11-20T10:00:00Z", "peer_ip": ""}))
    lines = collector(home, "classify", *paths).stdout.splitlines()
    assert len(lines) == 4
    for line, expected in zip(lines, ["SN-0", "SN-1", "SN-2", "SN-E"]):
        verdict = json.loads(line)
        assert set(verdict) == {"device_id", "verdict", "score", "findings"}
        assert verdict["device_id"] == expected
        assert verdict["verdict"] in ("clean", "suspicious", "relay")
        assert 0 <= verdict["score"] <= 100
    assert collector(home, "classify", paths[0], "--json").stdout.splitlines() == lines[:1]


def test_unknown_device_says_where_to_look(home):
    result = collector(home, "device", "NOPE", check=False)
    assert result.returncode == 1
    assert "`devices`" in result.stderr


def test_commands_without_a_collector_say_how_to_start(tmp_path):
    result = collector(tmp_path / "empty", "devices", check=False)
    assert result.returncode == 1
    assert "pki init" in result.stderr


@pytest.mark.parametrize("command", [[], ["pki"], ["token"], ["serve"], ["ingest"], ["classify"], ["devices"],
                                     ["correlate"], ["clusters"], ["cluster"], ["roster"], ["reclassify"],
                                     ["device"], ["flags"]])
def test_every_command_has_help(tmp_path, command):
    result = collector(tmp_path, *command, "--help")
    assert "usage: farmwatch-collector" in result.stdout


def test_usage_error_exits_2(tmp_path):
    assert collector(tmp_path, "no-such-command", check=False).returncode == 2


def test_correlate_then_clusters_and_cluster_show_a_shared_home(home, tmp_path):
    from datetime import datetime, timedelta, timezone

    now = datetime.now(timezone.utc)
    files = []
    for device in ("SN-FARM-1", "SN-FARM-2"):
        for day in (3, 2, 1):  # oldest first, as an agent's outbox delivers them
            at = (now - timedelta(days=day)).isoformat().replace("+00:00", "Z")
            files.append(write_report(tmp_path / f"{device}-{day}.json", make_report(device, 4 - day),
                                      {"received_at": at, "peer_ip": "38.104.12.77"}))
    collector(home, "ingest", *files)
    result = json.loads(collector(home, "correlate", "--json").stdout)
    assert len(result["clusters"]) == 1
    found = list(csv.DictReader(io.StringIO(collector(home, "correlate", "--csv").stdout)))
    listed = list(csv.DictReader(io.StringIO(collector(home, "clusters", "--csv").stdout)))
    assert found == listed and found[0]["status"] == "active"
    clusters = json.loads(collector(home, "clusters", "--json").stdout)
    assert [(c["kind"], c["value"], c["devices"]) for c in clusters] == [
        ("peer_ip", "38.104.12.77", ["SN-FARM-1", "SN-FARM-2"])]
    shown = collector(home, "cluster", clusters[0]["cluster_id"]).stdout
    assert "SN-FARM-1" in shown and "SN-FARM-2" in shown
    devices = json.loads(collector(home, "devices", "--cluster", clusters[0]["cluster_id"], "--json").stdout)
    assert sorted(d["device_id"] for d in devices) == ["SN-FARM-1", "SN-FARM-2"]


def test_one_device_as_json_and_csv(home, tmp_path):
    collector(home, "ingest", write_report(tmp_path / "a.json", make_report("SN-ONE")))
    info = json.loads(collector(home, "device", "SN-ONE", "--json").stdout)
    assert info["device_id"] == "SN-ONE" and isinstance(info["reports"], list)
    rows = dict(csv.reader(io.StringIO(collector(home, "device", "SN-ONE", "--csv").stdout)))
    assert rows["device_id"] == "SN-ONE"


def test_serve_refuses_a_port_in_use_and_a_bad_address(home):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        address = f"127.0.0.1:{taken.getsockname()[1]}"
        busy = collector(home, "serve", "--listen", address, check=False)
    assert busy.returncode == 1
    assert busy.stderr == (f"farmwatch-collector: cannot listen on {address}: the port is in use (another collector?) "
                           "or the address is not one of this machine's; pick another with --listen\n")  # only that
    for address in ("garbage", "127.0.0.1:99999"):
        bad = collector(home, "serve", "--listen", address, check=False)
        assert bad.returncode == 1 and "is not HOST:PORT" in bad.stderr


def test_a_second_serve_on_one_home_refuses_naming_the_first(home):
    from collector_process import Collector

    first = Collector(home)
    first.start()
    try:
        second = subprocess.run([str(BIN / "farmwatch-collector"), "--home", str(home), "serve", "--listen",
                                 "127.0.0.1:0"], capture_output=True, text=True, timeout=60)
        assert second.returncode == 1 and "Traceback" not in second.stderr
        assert f"another farmwatch-collector serve (pid {first.process.pid}) already serves {home}" in second.stderr
        assert first.running()
    finally:
        assert first.stop() == 0
    assert "event=serving" in first.log and first.log.count("event=serving") == 1


@pytest.mark.parametrize("settings, complaint", [
    ('[collector]\nworkers = "16"\n', "workers must be a whole number, like 3, not '16'"),
    ("[collector]\nserver_names = [1]\n", 'server_names must be a list of texts, like ["a", "b"], not [1]'),
    ('[fleet]\nmin_days_at_location = "three"\n', "[fleet] min_days_at_location must be a whole number, like 3, "
                                                   "not 'three'"),
    ("[fleet]\nwindow_days = true\n", "[fleet] window_days must be a number, like 7 or 1.5, not True"),
    ('[fleet]\noffice_networks = "10.0.0.0/8"\n', "[fleet] office_networks must be a list of texts"),
    ("fleet = 3\n", "fleet must be a table ([fleet]), not 3"),
])
def test_a_setting_of_the_wrong_type_is_named_with_what_it_takes(home, settings, complaint):
    (home / "collector.toml").write_text(settings)
    result = collector(home, "devices", check=False)
    assert result.returncode == 1 and result.stderr.startswith(f"farmwatch-collector: {home / 'collector.toml'}: ")
    assert complaint in result.stderr and result.stderr.count("\n") == 1


@pytest.mark.parametrize("settings, complaint", [
    ('[colector]\nworkers = 4\n', "unknown top-level key 'colector'; the file has the tables [collector], [fleet], "
                                   "[export], [storage], [mdm] and [[allow]]"),
    ('listen = "0.0.0.0:7443"\n', "`listen` is a setting of [collector]: put it under that table"),
])
def test_an_unknown_top_level_key_is_refused_naming_it_and_the_known_ones(home, settings, complaint):
    (home / "collector.toml").write_text(settings)
    result = collector(home, "devices", check=False)
    assert result.returncode == 1 and complaint in result.stderr


def test_the_shipped_example_settings_load_as_they_are(tmp_path):
    from farmwatch.collector.config import CollectorConfig

    example = Path(__file__).resolve().parent.parent / "collector" / "collector.example.toml"
    assert CollectorConfig.load(tmp_path, example).fleet.min_days_at_location == 3


def test_a_report_interval_below_the_agents_floor_is_refused(home):
    (home / "collector.toml").write_text('[collector]\nreport_interval_seconds = 5\n')
    result = collector(home, "devices", check=False)
    assert result.returncode == 1 and "report_interval_seconds must be at least 60" in result.stderr


def test_token_needs_at_least_one_use(home):
    result = collector(home, "token", "create", "--uses", "0", check=False)
    assert result.returncode == 2 and "at least 1" in result.stderr


@pytest.mark.parametrize("envelope, problem", [
    ({"received_at": "yesterday"}, "is not an RFC 3339 time"),
    ({"received_at": "2026-11-20T10:00:00"}, "is not an RFC 3339 time"),  # no zone
    ({"received_at": "2999-01-01T00:00:00Z"}, "is in the future"),
    ({"received_at": "2026-11-20T10:00:00Z", "peer_ip": "not-an-ip"}, "is not an IP address"),
])
def test_ingest_refuses_envelopes_with_impossible_facts(home, tmp_path, envelope, problem):
    path = write_report(tmp_path / "env.json", make_report("SN-BADENV"), envelope)
    result = collector(home, "ingest", path, check=False)
    assert result.returncode == 1 and problem in result.stderr and "stored 0" in result.stdout


def test_ingest_stores_envelope_times_in_utc(home, tmp_path):
    path = write_report(tmp_path / "env.json", make_report("SN-TZ"),
                        {"received_at": "2026-11-20T12:00:00+02:00", "peer_ip": "2001:DB8::1"})
    collector(home, "ingest", path)
    (device,) = json.loads(collector(home, "devices", "--json").stdout)
    assert (device["last_seen"], device["last_peer_ip"]) == ("2026-11-20T10:00:00.000Z", "2001:db8::1")


@pytest.mark.parametrize("text", ["{}", '{"foo": 1}', '{"report": "oops"}'])
def test_classify_refuses_what_is_not_a_report(home, tmp_path, text):
    path = tmp_path / "junk.json"
    path.write_text(text)
    result = collector(home, "classify", path, check=False)
    assert result.returncode == 1 and result.stdout == "" and "junk.json" in result.stderr


def display_width(text: str) -> int:
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def from_column(line: str, column: int) -> str:
    """What a terminal shows from `column` on."""
    for i in range(len(line) + 1):
        if display_width(line[:i]) >= column:
            return line[i:]
    return ""


HOSTNAMES = {"SN-WIDE": "김민준의-노트북", "SN-NL": "evil\nSN-FAKE  laptop  linux  clean",
             "SN-RLO": "lt-\u202egnp.exe", "SN-LONG": "x" * 200}


def test_tables_stay_one_aligned_line_per_row_whatever_the_values(home, tmp_path):
    files = []
    for device_id, hostname in HOSTNAMES.items():
        report = make_report(device_id)
        report.host.hostname = hostname
        files.append(write_report(tmp_path / f"{device_id}.json", report))
    collector(home, "ingest", *files)
    lines = collector(home, "devices").stdout.splitlines()
    assert len(lines) == 1 + len(HOSTNAMES)  # a newline in a value cannot forge a row
    start = lines[0].index("OS ")
    for line in lines[1:]:  # the column after HOSTNAME starts at the same terminal column on every row
        assert from_column(line, start).startswith("linux  "), line
    text = "\n".join(lines)
    assert "evil\\nSN-FAKE" in text and "\\u202e" in text and "\u202e" not in text
    assert "x" * 59 + "…" in text and "x" * 61 not in text
    shown = collector(home, "device", "SN-NL").stdout
    assert "hostname: evil\\nSN-FAKE" in shown


def test_tables_fit_the_width_given_in_COLUMNS(home, tmp_path):
    report = make_report("SN-NARROW")
    report.host.hostname = "h" * 80
    collector(home, "ingest", write_report(tmp_path / "n.json", report))
    wide = collector(home, "devices").stdout.splitlines()
    narrow = collector(home, "devices", env={"COLUMNS": "110"}).stdout.splitlines()
    assert max(map(len, wide)) > 110 and max(map(len, narrow)) <= 110
    assert narrow[1].startswith("SN-NARROW  ")  # the key column is never cut
    rows = list(csv.DictReader(io.StringIO(collector(home, "devices", "--csv", env={"COLUMNS": "40"}).stdout)))
    assert rows[0]["hostname"] == "h" * 80  # machines' formats are never cut


@pytest.fixture
def scenario_home(home, tmp_path) -> Path:
    """A collector that ingested a few scenario reports, two of them a farm sharing one home for three days,
    and made a token."""
    from datetime import datetime, timedelta, timezone

    from conftest import scenario_report

    now = datetime.now(timezone.utc)
    files = [write_report(tmp_path / f"{device}.json", scenario_report(scenario, device))
             for device, scenario in (("PFWCWBL5", "relay/win_jetkvm"), ("TCG7ADZ", "relay/linux_anydesk_session"),
                                      ("C027VREFFHAR", "suspicious/mac_anydesk_idle_with_astrill"),
                                      ("SN-OFFICE", "clean/linux_office_plain"))]
    for device in ("SN-FARM-1", "SN-FARM-2"):
        for day in (3, 2, 1):
            at = (now - timedelta(days=day)).isoformat().replace("+00:00", "Z")
            files.append(write_report(tmp_path / f"{device}-{day}.json", make_report(device, 4 - day),
                                      {"received_at": at, "peer_ip": "38.104.12.77"}))
    collector(home, "ingest", *files)
    collector(home, "correlate")
    collector(home, "token", "create", "--note", "a batch of laptops for the new team in the second office")
    return home


def terminal_width(line: str) -> int:
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in line)


def test_every_table_fits_80_columns(scenario_home):
    [cluster] = json.loads(collector(scenario_home, "clusters", "--json").stdout)
    for command in (["devices"], ["flags"], ["clusters"], ["device", "PFWCWBL5"], ["device", "SN-FARM-1"],
                    ["cluster", cluster["cluster_id"]], ["token", "list"], ["correlate"],
                    ["query", "SELECT * FROM devices"]):
        lines = collector(scenario_home, *command, env={"COLUMNS": "80"}).stdout.splitlines()
        assert max(map(terminal_width, lines)) <= 80, (command, max(lines, key=terminal_width))
    devices = collector(scenario_home, "devices", env={"COLUMNS": "80"}).stdout.splitlines()
    assert devices[0].split()[:3] == ["DEVICE_ID", "HOSTNAME", "OS"] and "PFWCWBL5" in devices[1]
    assert "left out to fit 80 characters" in " ".join(devices[-2:]) and "agent_version" in devices[-1]


@pytest.mark.parametrize("command", ["ingest", "classify"])
def test_a_binary_or_unreadable_file_is_named_not_a_traceback(home, tmp_path, command):
    binary = tmp_path / "report.bin"
    binary.write_bytes(b"\x00\xd0\xff" * 50)
    result = collector(home, command, binary, tmp_path / "missing.json", tmp_path, check=False)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert f"skipped {binary}: not a JSON text file" in result.stderr
    assert f"skipped {tmp_path / 'missing.json'}: cannot read it (No such file or directory)" in result.stderr
    assert f"skipped {tmp_path}: cannot read it" in result.stderr


def test_a_damaged_database_or_a_file_as_home_is_explained(tmp_path):
    not_a_folder = tmp_path / "afile"
    not_a_folder.write_text("x")
    result = collector(not_a_folder, "pki", "init", check=False)
    assert result.returncode == 1 and "Traceback" not in result.stderr and "--home must be a folder" in result.stderr
    damaged = tmp_path / "damaged"
    (damaged / "pki").mkdir(parents=True)
    (damaged / "farmwatch.sqlite").write_text("not a database")
    result = collector(damaged, "devices", check=False)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "cannot be used (file is not a database)" in result.stderr


def test_progress_is_silent_for_short_work_and_regular_for_long_work():
    from farmwatch.collector.cli.progress import Progress

    quick = io.StringIO()
    progress = Progress(3, "ingested", stream=quick)
    for _ in range(3):
        progress.advance()
    assert quick.getvalue() == ""  # ended before the first update was due
    slow = io.StringIO()
    progress = Progress(3, "ingested", stream=slow, every=0.0)
    progress.advance()
    progress.say("skipped x.json: not JSON")
    progress.advance(2)
    lines = slow.getvalue().splitlines()
    assert [line.split(" (")[0] for line in lines] == ["ingested 1/3", "skipped x.json: not JSON", "ingested 3/3"]


@pytest.mark.parametrize("command", [["pki", "init"], ["pki", "revoke"], ["token", "create"], ["roster", "import"],
                                     ["serve"], ["ingest"], ["classify"], ["devices"], ["device"], ["cluster"],
                                     ["query"], ["export", "jsonl"], ["export", "cef"], ["export", "webhook"]])
def test_help_of_commands_that_take_arguments_shows_an_example(tmp_path, command):
    text = collector(tmp_path, *command, "--help").stdout
    assert "\nexample:\n  " in text and "farmwatch-collector" in text.split("\nexample:\n")[1]
    assert "--home DIR" in text  # the common options are accepted after the command too


def test_home_and_verbose_work_after_the_command_name_too(home, tmp_path):
    collector(home, "ingest", write_report(tmp_path / "a.json", make_report("SN-AFTER")))
    result = subprocess.run([str(BIN / "farmwatch-collector"), "devices", "--json", "--home", str(home), "-v"],
                            capture_output=True, text=True)
    assert result.returncode == 0 and [d["device_id"] for d in json.loads(result.stdout)] == ["SN-AFTER"]
    first = subprocess.run([str(BIN / "farmwatch-collector"), "--home", str(home), "pki", "revoke", "SN-NONE"],
                           capture_output=True, text=True)
    after = subprocess.run([str(BIN / "farmwatch-collector"), "--home", str(tmp_path / "other"), "pki", "revoke",
                            "--home", str(home), "SN-NONE"], capture_output=True, text=True)
    assert first.returncode == after.returncode == 1 and "no live certificate" in after.stderr  # the later --home wins


def test_roster_import_help_names_the_columns_it_reads(tmp_path):
    text = collector(tmp_path, "roster", "import", "--help").stdout
    for column in ("Serial Number", "Primary user display name", "User Email", "serial,user,email"):
        assert column in text
    assert "module's docs" not in text


def test_roster_import_refuses_a_misspelt_column_and_imports_nothing(home, tmp_path):
    export = tmp_path / "roster.csv"
    export.write_text("serial,usr\nAAA111,Ann Lee\n")
    result = collector(home, "roster", "import", export, "--format", "csv", check=False)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr == (f'farmwatch-collector: {export}: column "usr" (did you mean "user"?) is not one format '
                             "csv reads; rename it (or remove it) and import again\n")
    assert json.loads(collector(home, "query", "--json", "SELECT count(*) AS n FROM roster").stdout)[0]["n"] == 0


def test_ingest_and_classify_read_standard_input(home, tmp_path):
    report = write_report(tmp_path / "a.json", make_report("SN-STDIN")).read_text()
    for command in ("classify", "ingest"):
        result = subprocess.run([str(BIN / "farmwatch-collector"), "--home", str(home), command, "-"],
                                input=report, capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
    assert [d["device_id"] for d in json.loads(collector(home, "devices", "--json").stdout)] == ["SN-STDIN"]


@pytest.mark.parametrize("sql", ["", "   "])
def test_an_empty_query_is_a_usage_error_that_shows_one(home, sql):
    result = collector(home, "query", sql, check=False)
    assert result.returncode == 2 and "statement is empty" in result.stderr and "SELECT" in result.stderr
