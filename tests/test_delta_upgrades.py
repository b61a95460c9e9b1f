"""Delta reports across versions and restores: an agent upgraded with its old outbox, a collector
restored from an older backup (also one of the previous schema) both end in the laptop's state."""
from __future__ import annotations

import shutil
import sqlite3
import zlib
from contextlib import closing, contextmanager

import pytest

from conftest import RunningCollector
from delta_laptop import Laptop, Link
from farmwatch.agent.spool import Spool
from farmwatch.collector.storage import blobs
from farmwatch.collector.storage.schema import SCHEMA_VERSION
from test_delta import assert_converged


@pytest.fixture
def laptop(collector, tmp_path):
    creds = collector.enroll("SN-UPGRADE-1")
    made = Laptop(creds.device_id, tmp_path, collector.client(creds), creds.cert_pem)
    made.creds = creds
    yield made
    made.close()


def _backup(collector: RunningCollector, to):
    with sqlite3.connect(collector.config.database) as source, sqlite3.connect(to) as copy:
        source.backup(copy)
    return to


@contextmanager
def restored(collector: RunningCollector, backup, home, laptop: Laptop):
    """The collector brought back on another machine from its PKI and a backup of its database,
    the laptop's agent pointed at it."""
    shutil.copytree(collector.home / "pki", home / "pki")
    shutil.copyfile(backup, home / collector.config.database.name)
    running = RunningCollector(home)
    try:
        laptop.client.close()
        laptop.client = Link(running.client(laptop.creds))
        yield running
    finally:
        running.stop()


def test_an_agent_upgraded_with_its_old_outbox_converges(collector, laptop):
    # the previous agent: full reports only, an outbox without the delta base
    for kind in ("process", "install"):
        laptop.change(kind)
        sent = laptop.scan()
        laptop.client.report(sent)
        laptop.spool.ack(sent.report_id)
    for kind in ("connection", "usb"):  # waiting in its outbox when the upgrade came
        laptop.change(kind)
        laptop.scan()
    laptop.spool.close()
    with sqlite3.connect(laptop.folder / "spool.sqlite") as db:
        db.execute("DROP TABLE delta_base")  # what the previous version's outbox looks like
    laptop.spool = Spool(laptop.folder / "spool.sqlite")
    assert laptop.spool.delta_base() is None and laptop.spool.depth() == 2

    laptop.drain_all()
    laptop.report("process")
    assert (laptop.client.fulls, laptop.client.deltas) == (3, 2)  # first after the upgrade full, then deltas
    assert_converged(collector, laptop)


def test_a_collector_restored_from_an_older_backup_converges(collector, laptop, tmp_path):
    laptop.report("process", "connection")
    backup = _backup(collector, tmp_path / "backup.sqlite")
    laptop.report("install", "usb")  # the collector acknowledges these, then loses them
    with restored(collector, backup, tmp_path / "restored", laptop) as collector_now:
        laptop.report("process", "twin")
        # the delta on a report the restored collector never saw was answered "send it in full"
        assert (laptop.client.fulls, laptop.client.deltas) == (1, 2)
        assert_converged(collector_now, laptop)


def test_a_backup_of_the_previous_schema_is_migrated_and_converges(collector, laptop, tmp_path):
    laptop.report("nothing")  # a full report: all the previous collector ever stored
    backup = _backup(collector, tmp_path / "backup.sqlite")
    with sqlite3.connect(backup) as db:  # what the previous schema lacks
        db.execute("ALTER TABLE reports DROP COLUMN base_report_id")
        db.execute("DROP TABLE device_states")
        db.execute("PRAGMA user_version = 9")
    laptop.report("process")
    with restored(collector, backup, tmp_path / "restored", laptop) as collector_now:
        laptop.report("install", "connection")
        assert collector_now.store.rows("PRAGMA user_version") == [{"user_version": SCHEMA_VERSION}]
        assert (laptop.client.fulls, laptop.client.deltas) == (1, 2)
        assert_converged(collector_now, laptop)


def test_a_restarted_collector_takes_the_next_delta_from_its_database(collector, laptop, tmp_path):
    laptop.report("process", "connection")
    backup = _backup(collector, tmp_path / "now.sqlite")
    with restored(collector, backup, tmp_path / "moved", laptop) as collector_now:
        laptop.report("install", "usb")  # nothing in memory: the base is read from device_states
        assert (laptop.client.fulls, laptop.client.deltas) == (0, 2)
        assert_converged(collector_now, laptop)


def test_bodies_an_older_collector_compressed_with_zlib_are_read(collector, laptop, tmp_path):
    laptop.report("process", "connection")
    backup = _backup(collector, tmp_path / "zlib.sqlite")
    bodies = (("reports", "raw", "report_id"), ("device_states", "body", "device_id"))
    with closing(sqlite3.connect(backup)) as db, db:  # what the previous release wrote
        for table, column, key in bodies:
            for name, blob in db.execute(f"SELECT {key}, {column} FROM {table}").fetchall():
                assert blob.startswith(blobs.ZSTD_MAGIC)
                db.execute(f"UPDATE {table} SET {column} = ? WHERE {key} = ?", (zlib.compress(blobs.unpack(blob)), name))
    with restored(collector, backup, tmp_path / "restored", laptop) as collector_now:
        laptop.report("install", "usb")  # built on the zlib state, stored in zstd
        assert (laptop.client.fulls, laptop.client.deltas) == (0, 2)
        assert_converged(collector_now, laptop)  # every report read back in full, from either kind of body
        raw = [row["raw"][:4] for row in collector_now.store.rows("SELECT raw FROM reports ORDER BY rowid")]
        assert raw[-1] == blobs.ZSTD_MAGIC and raw[0] != blobs.ZSTD_MAGIC
