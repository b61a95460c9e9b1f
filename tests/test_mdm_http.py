"""The failure rules every MDM client shares (collector/mdm/http.py), over real TLS to a stand-in."""
from __future__ import annotations

import email.utils

import pytest

from farmwatch.collector import mdm
from farmwatch.collector.mdm.http import retry_after
from tests.mdm_helpers import Sleeps, roster, settings_for, standins, store, sync, tls  # noqa: F401 (fixtures)
from tests.mdm_standins import Fault


@pytest.fixture
def kandji(standins):
    stand_in = standins("kandji")
    stand_in.devices = [stand_in.device(f"FVFX{n:05d}", f"Person {n}", f"p{n}@acme.example") for n in range(3)]
    return stand_in


def test_retry_after_is_seconds_or_an_http_date():
    assert retry_after("12") == 12.0
    assert retry_after("1.5") == 1.5
    assert retry_after(email.utils.formatdate(1000.0 + 30, usegmt=True), now=1000.0) == 30.0
    assert retry_after(email.utils.formatdate(900.0, usegmt=True), now=1000.0) == 0.0  # already past
    assert retry_after(None) == retry_after("soon") == 1.0


def test_a_503_with_retry_after_is_retried_like_a_429(store, kandji, tls, monkeypatch):
    kandji.faults = [Fault("inventory", status=503, headers={"Retry-After": "4"})]
    sleeps = Sleeps()
    assert sync(store, kandji, settings_for(kandji, tls, monkeypatch), sleeps).ok and sleeps == [4.0]


def test_throttling_that_never_ends_fails_after_five_waits(store, kandji, tls, monkeypatch):
    kandji.faults = [Fault("inventory", status=429, headers={"Retry-After": "1"}) for _ in range(6)]
    sleeps = Sleeps()
    outcome = sync(store, kandji, settings_for(kandji, tls, monkeypatch), sleeps)
    assert not outcome.ok and "still throttled" in outcome.error and sleeps == [1.0] * 5


def test_a_redirect_is_not_followed_so_the_token_stays_home(store, kandji, tls, monkeypatch):
    kandji.faults = [Fault("inventory", status=302, headers={"Location": "https://elsewhere.example/api/v1/devices"})]
    outcome = sync(store, kandji, settings_for(kandji, tls, monkeypatch))
    assert not outcome.ok and "HTTP 302" in outcome.error and "never follows redirects" in outcome.error
    assert len(kandji.requests) == 1 and roster(store) == {}


def test_a_missing_ca_file_is_named_before_any_request(kandji, tls, monkeypatch, tmp_path):
    settings = settings_for(kandji, tls, monkeypatch, table={"ca_file": str(tmp_path / "nope.pem")})
    with pytest.raises(mdm.MdmError, match="nope.pem"):
        mdm.client_for(settings.source("kandji"), settings)
    assert kandji.requests == []


def test_an_older_database_gets_the_mdm_tables_on_upgrade(tmp_path):
    from farmwatch.collector.ingest import Store
    from farmwatch.collector.storage.schema import SCHEMA_VERSION

    store = Store(tmp_path / "old.sqlite")
    for table in ("roster_changes", "mdm_devices", "mdm_runs", "mdm_writes"):
        store.conn.execute(f"DROP TABLE {table}")
    store.conn.execute("PRAGMA user_version=9")
    store.close()
    store = Store(tmp_path / "old.sqlite")
    try:
        assert store.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert {"roster_changes", "mdm_devices", "mdm_runs", "mdm_writes"} <= set(store.db.table_names())
    finally:
        store.close()


def test_a_serve_stopping_mid_listing_ends_the_sync_and_changes_nothing(store, standins, tls, monkeypatch):
    import threading

    kandji = standins("kandji")
    kandji.devices = [kandji.device(f"FVFX{n:05d}", f"Person {n}", f"p{n}@acme.example") for n in range(5)]
    settings = settings_for(kandji, tls, monkeypatch, table={"page_size": 2})
    stopping = threading.Event()
    kandji.faults = [Fault("inventory"), Fault("inventory", status=429, headers={"Retry-After": "30"})]
    client = mdm.client_for(settings.source("kandji"), settings, sleep=lambda _: stopping.set(), stop=stopping)
    outcome = mdm.sync_source(store, client, mdm=settings)  # SIGTERM arrives while the second page is throttled
    assert not outcome.ok and "the collector is stopping" in outcome.error
    assert roster(store) == {} and len(kandji.made("/api/v1/devices")) == 2


def test_a_token_about_to_end_is_replaced_before_it_is_used(store, standins, tls, monkeypatch):
    jamf = standins("jamf")
    jamf.devices = [jamf.computer(n, f"C02TOK{n:04d}", f"P{n}", f"p{n}@acme.example") for n in range(1, 6)]
    jamf.fixture["token"]["expires_in"] = 30  # no longer than the client's slack: never reused
    outcome = sync(store, jamf, settings_for(jamf, tls, monkeypatch, table={"page_size": 2}))
    listing = [r for r in jamf.requests if r.path != "/api/oauth/token"]
    assert outcome.ok and len(listing) == 4  # departments, three pages
    assert len({r.token for r in listing}) == 4  # a fresh token for each, none refused
