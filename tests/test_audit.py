"""The audit trail keeps the whole question, says outcomes in words, and migrates from schema 5."""
from __future__ import annotations

import hashlib
import sqlite3

import pytest

from conftest import make_report
from farmwatch.collector import audit, ingest
from farmwatch.collector.ingest import Store
from farmwatch.collector.storage.schema import SCHEMA_VERSION
from test_sql import run_cli


@pytest.fixture
def database(tmp_path):
    store = Store(tmp_path / "farmwatch.sqlite")
    store.ingest([ingest.prepare(make_report(f"SN-{n}"), peer_ip="203.0.113.7") for n in range(3)])
    store.close()
    return store.path


def audit_rows(path) -> list[dict]:
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(row) for row in conn.execute("SELECT * FROM audit ORDER BY id")]
    finally:
        conn.close()


def test_a_question_behind_a_long_comment_is_audited_whole(database):
    """The audit kept the first 10,000 characters: a 10 KB comment was all it showed of the question."""
    padded = "/*" + "x" * 20_000 + "*/ SELECT device_id FROM devices"
    result = run_cli(database.parent, "query", "--json", padded)
    assert result.returncode == 0, result.stderr
    [entry] = audit_rows(database)
    assert entry["detail"] == padded
    assert entry["detail_sha256"] == hashlib.sha256(padded.encode()).hexdigest()
    assert entry["detail_bytes"] == len(padded) and entry["rows"] == 3


def test_a_question_too_long_to_run_is_kept_as_its_hash(tmp_path):
    """Nothing runs that the audit does not keep whole; what is longer is refused and identified by
    hash and size, so no caller can fill the disk through the audit."""
    log = audit.AuditLog(tmp_path / "farmwatch.sqlite")
    long = "SELECT 1 -- " + "x" * audit.MAX_DETAIL_BYTES
    log.refused(who="SN-X", via=audit.VIA_GRPC, action="sql", reason="agent certificates cannot query", detail=long)
    log.close()
    [entry] = audit_rows(tmp_path / "farmwatch.sqlite")
    assert entry["detail"] == "" and entry["detail_bytes"] == len(long)
    assert entry["detail_sha256"] == hashlib.sha256(long.encode()).hexdigest()
    assert entry["outcome"] == "refused: agent certificates cannot query"


def test_outcomes_are_words_not_class_names():
    assert audit.describe(sqlite3.OperationalError("no such table: devices")) == \
        "error: database error: no such table: devices"
    assert audit.describe(KeyError("x")) == "error: internal error: 'x'"
    assert audit.describe(audit.AuditUnavailable("cannot write")) == "error: cannot write"


def _as_schema_5(path) -> None:
    conn = sqlite3.connect(path)
    for column in ("detail_sha256", "detail_bytes"):
        conn.execute(f"ALTER TABLE audit DROP COLUMN {column}")
    conn.execute("PRAGMA user_version=5")
    conn.commit()
    conn.close()


def test_a_schema_5_audit_table_gains_the_hash_and_size_columns(tmp_path):
    path = tmp_path / "farmwatch.sqlite"
    Store(path).close()
    with audit.local_question(path, "devices", "all"):
        pass
    _as_schema_5(path)
    assert "detail_sha256" not in audit_rows(path)[0]

    store = Store(path)
    try:
        assert store.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    finally:
        store.close()
    with audit.local_question(path, "flags"):
        pass
    old, new = audit_rows(path)
    assert (old["detail"], old["detail_sha256"], old["outcome"]) == ("all", None, "ok")  # kept as it was
    assert new["detail_sha256"] == hashlib.sha256(b"").hexdigest() and new["detail_bytes"] == 0
