"""Secrets on disk are owner-only even under a careless umask, and the ad-hoc `query` command can
neither write, nor reach another file, nor load code — end to end through the real commands."""
from __future__ import annotations

import json
import os
import stat
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
