"""Secrets on disk are owner-only even under a careless umask, and the ad-hoc `query` command can
neither write, nor reach another file, nor load code — end to end through the real commands."""
from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path

import pytest

import figures
from collector_process import Collector, cli
from db_snapshot import table_counts
from farmwatch.collector.ingest import Store

SCENARIO = Path(__file__).parent / "scenarios" / "relay" / "linux_tinypilot.json"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def careless_umask():
    old = os.umask(0)  # children inherit it: every file they make would be world-writable by default
    yield
    os.umask(old)


def test_keys_certificates_database_and_spool_are_owner_only_under_umask_0(tmp_path, careless_umask):
    home, state = tmp_path / "collector", tmp_path / "agent"
    cli("farmwatch-collector", "--home", home, "pki", "init")
    token = cli("farmwatch-collector", "--home", home, "token", "create").stdout.strip().splitlines()[-1]
    server = Collector(home)
    server.start()
    try:
        cli("farmwatch-agent", "--state-dir", state, "enroll", "--collector", server.address, "--token", token,
            "--ca-cert", home / "pki" / "ca.crt", "--device-id", "SN-UMASK")
        cli("farmwatch-agent", "--state-dir", state, "run", "--once")
    finally:
        server.stop()
    secrets = [home / "pki" / "ca.key", home / "pki" / "server.key", home / "farmwatch.sqlite",
               state / "agent.key", state / "agent.crt", state / "agent.toml", state / "spool.sqlite"]
    secrets += list(state.glob("spool.sqlite-*")) + list(home.glob("farmwatch.sqlite-*"))
    assert {str(p.relative_to(tmp_path)): mode(p) for p in secrets} == {
        str(p.relative_to(tmp_path)): 0o600 for p in secrets}
    assert (mode(home / "pki"), mode(state)) == (0o700, 0o700)
    figures.note("security: files", "secret files checked owner-only under umask 0", len(secrets))


@pytest.fixture(scope="module")
def populated(tmp_path_factory):
    home = tmp_path_factory.mktemp("query") / "collector"
    cli("farmwatch-collector", "--home", home, "pki", "init")
    cli("farmwatch-collector", "--home", home, "ingest", SCENARIO)
    return home


def row_counts(home: Path) -> dict[str, int]:
    store = Store(home / "farmwatch.sqlite")
    try:
        return table_counts(store)
    finally:
        store.close()


@pytest.mark.parametrize("sql", [
    "DELETE FROM devices",
    "UPDATE devices SET verdict = 'clean'",
    "INSERT INTO tokens (token_id, token_hash) VALUES ('x', 'y')",
    "DROP TABLE findings",
    "CREATE TABLE stolen AS SELECT * FROM certificates",
    "PRAGMA query_only = 0",
    "PRAGMA journal_mode = DELETE",
    "ATTACH DATABASE '{outside}' AS outside",
    "VACUUM INTO '{outside}'",
    "SELECT load_extension('{outside}')",
    "SELECT readfile('/etc/passwd')",
    "SELECT 1; DELETE FROM devices",
])
def test_query_cannot_write_attach_or_load(populated, tmp_path, sql):
    outside = tmp_path / "outside.sqlite"
    before = row_counts(populated)
    result = cli("farmwatch-collector", "--home", populated, "query", sql.format(outside=outside), check=False)
    assert result.returncode != 0, result.stdout
    assert result.stderr.strip()  # says why
    assert row_counts(populated) == before
    assert not outside.exists()
    figures.count("security: refused ad-hoc queries", sql.split()[0].upper())


def test_refused_query_is_audited(populated):
    cli("farmwatch-collector", "--home", populated, "query", "DELETE FROM reports", check=False)
    audit = json.loads(cli("farmwatch-collector", "--home", populated, "query", "--json",
                           "SELECT outcome FROM audit WHERE detail = 'DELETE FROM reports'").stdout)
    assert audit and all(entry["outcome"] != "ok" for entry in audit)


# -- the collector's home: ours alone, nothing written through a link ----------------------------

NOBODY = 65534


def init(home: Path, *args) -> "subprocess.CompletedProcess":
    return cli("farmwatch-collector", "--home", home, "pki", "init", *args, check=False)


def test_pki_init_makes_home_and_pki_0700_and_every_file_0600(tmp_path):
    home = tmp_path / "collector"
    assert init(home).returncode == 0
    assert (mode(home), mode(home / "pki")) == (0o700, 0o700)
    written = [home / "collector.toml", *(home / "pki").iterdir()]  # the settings may hold webhook secrets
    assert {p.name: mode(p) for p in written} == {p.name: 0o600 for p in written}


@pytest.mark.parametrize("folder", ["home", "pki"])
def test_a_home_or_pki_folder_of_another_user_is_refused_and_left_alone(tmp_path, folder):
    home = tmp_path / "collector"
    (home / "pki").mkdir(parents=True, mode=0o700)
    os.chown(home if folder == "home" else home / "pki", NOBODY, NOBODY)
    result = init(home)
    assert result.returncode == 1
    assert "belongs to nobody" in result.stderr and "chown" in result.stderr
    assert list((home / "pki").iterdir()) == [] and not (home / "collector.toml").exists()
    figures.count("security: refused collector homes", f"{folder} of another user")


@pytest.mark.parametrize("folder", ["home", "pki"])
def test_a_home_or_pki_folder_others_may_write_is_refused(tmp_path, folder):
    """As the README's /tmp/fw-collector made by someone else's `mkdir -m 777`: a CA key written
    there could be swapped or read."""
    home = tmp_path / "collector"
    (home / "pki").mkdir(parents=True, mode=0o700)
    (home if folder == "home" else home / "pki").chmod(0o777)
    result = init(home)
    assert result.returncode == 1 and "chmod 700" in result.stderr
    assert list((home / "pki").iterdir()) == []
    figures.count("security: refused collector homes", f"{folder} writable by others")


def test_serve_and_issuing_refuse_a_pki_folder_opened_to_others_after_init(tmp_path):
    from farmwatch.collector.config import CollectorConfig
    from farmwatch.collector.pki import PkiError
    from farmwatch.collector.server import CollectorServer

    home = tmp_path / "collector"
    init(home)
    (home / "pki").chmod(0o777)
    with pytest.raises(PkiError, match="can be written by other users"):
        CollectorServer(CollectorConfig.load(home, listen="127.0.0.1:0"))
    result = cli("farmwatch-collector", "--home", home, "pki", "issue-analyst", "alice", check=False)
    assert result.returncode == 1 and "chmod 700" in result.stderr


def test_pki_init_never_writes_through_a_planted_link(tmp_path):
    """A link at pki/ca.crt (or server.crt) pointing at a file elsewhere: the name is replaced,
    the file it pointed at is untouched."""
    home, victim = tmp_path / "collector", tmp_path / "victim"
    victim.write_text("precious")
    (home / "pki").mkdir(parents=True, mode=0o700)
    for name in ("ca.crt", "server.crt", "server.key"):
        (home / "pki" / name).symlink_to(victim)
    assert init(home).returncode == 0
    assert victim.read_text() == "precious"
    assert not any((home / "pki" / name).is_symlink() for name in ("ca.crt", "server.crt", "server.key"))


def test_a_link_to_a_pki_folder_of_another_user_is_refused(tmp_path):
    home, theirs = tmp_path / "collector", tmp_path / "theirs"
    theirs.mkdir(mode=0o700)
    os.chown(theirs, NOBODY, NOBODY)
    home.mkdir(mode=0o700)
    (home / "pki").symlink_to(theirs)
    result = init(home)
    assert result.returncode == 1 and "belongs to nobody" in result.stderr
    assert list(theirs.iterdir()) == []
