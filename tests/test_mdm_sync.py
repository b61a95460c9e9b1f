"""Roster sync from Jamf Pro's API against a local HTTPS stand-in (tests/mdm_standins.py): the real
client over real TLS, real tokens; each failure mode's defined outcome: the previous roster stays
until a sync completes, nothing half-applied."""
from __future__ import annotations

import random

import pytest

from farmwatch.collector import roster as csv_roster
from tests.mdm_helpers import Sleeps, roster, settings_for, standins, store, sync, tls  # noqa: F401 (fixtures)
from tests.mdm_standins import Fault


def fleet(jamf, count: int, seed: int = 1) -> list[dict]:
    """`count` computers of `count` people, serials and ids stable per seed."""
    rng = random.Random(seed)
    people = [(f"Person {n}", f"person{n}@acme.example") for n in range(count)]
    return [jamf.computer(n + 1, f"C02{n:06d}{rng.choice('ABCDEFGH')}", *people[n], department=rng.choice(["1", "2"]))
            for n in range(count)]


@pytest.fixture
def jamf(standins):
    stand_in = standins("jamf")
    stand_in.devices = fleet(stand_in, 5)
    return stand_in


def test_a_jamf_inventory_fills_the_roster_with_people_departments_and_issue_dates(store, jamf, tls, monkeypatch):
    outcome = sync(store, jamf, settings_for(jamf, tls, monkeypatch))
    assert outcome.ok and outcome.plan.counts()["new"] == 5
    row = store.rows("SELECT * FROM roster WHERE serial = ?", (jamf.devices[0]["hardware"]["serialNumber"],))[0]
    assert (row["user_name"], row["email"], row["issue_date"], row["source_format"]) == \
        ("Person 0", "person0@acme.example", "2026-03-05", "jamf-api")
    assert row["department"] in ("Engineering", "Finance")
    token_requests = [r for r in jamf.requests if r.path == "/api/oauth/token"]
    assert len(token_requests) == 1 and token_requests[0].body["grant_type"] == "client_credentials"
    listing = jamf.made("/api/v1/computers-inventory")[0]
    assert listing.query["section"] == ["GENERAL", "HARDWARE", "USER_AND_LOCATION"]


def test_5000_devices_with_reassignments_sync_exactly_and_keep_who_had_which_laptop(store, jamf, tls, monkeypatch):
    settings = settings_for(jamf, tls, monkeypatch)
    jamf.devices = fleet(jamf, 5000)
    assert sync(store, jamf, settings).plan.counts()["new"] == 5000
    rng = random.Random(7)
    moved = rng.sample(range(5000), 400)
    for n in moved:  # each goes to the next person round the list
        jamf.devices[n]["userAndLocation"].update(realname=f"Person {(n + 1) % 5000}",
                                                  email=f"person{(n + 1) % 5000}@acme.example")
    retired = set(rng.sample(sorted(set(range(5000)) - set(moved)), 3))
    gone = {jamf.devices[n]["hardware"]["serialNumber"] for n in retired}
    first = jamf.devices[moved[0]]
    jamf.devices = [d for n, d in enumerate(jamf.devices) if n not in retired]
    jamf.devices.append(jamf.computer(9001, "C02NEWONE1", "Newcomer", "new@acme.example"))

    outcome = sync(store, jamf, settings)

    counts = outcome.plan.counts()
    assert (counts["new"], counts["reassigned"], counts["removed"], counts["updated"]) == (1, 400, 3, 0)
    expected = {d["hardware"]["serialNumber"]: (d["userAndLocation"]["realname"], d["userAndLocation"]["email"])
                for d in jamf.devices}
    assert {serial: row[:2] for serial, row in roster(store).items()} == expected
    assert not gone & set(roster(store))
    serial = first["hardware"]["serialNumber"]
    history = csv_roster.history(store, serial)
    assert [h["change"] for h in history] == ["new", "reassigned"]
    assert history[1]["previous_email"] != history[1]["email"] == first["userAndLocation"]["email"]


def test_a_throttled_page_is_waited_for_as_retry_after_says_then_read(store, jamf, tls, monkeypatch):
    jamf.faults = [Fault("inventory", status=429, headers={"Retry-After": "7"})]
    sleeps = Sleeps()
    outcome = sync(store, jamf, settings_for(jamf, tls, monkeypatch), sleeps)
    assert outcome.ok and outcome.plan.counts()["new"] == 5
    assert sleeps == [7.0]


def test_throttling_longer_than_the_bound_fails_the_sync_and_changes_nothing(store, jamf, tls, monkeypatch):
    settings = settings_for(jamf, tls, monkeypatch, max_retry_wait_seconds=60)
    sync(store, jamf, settings)
    before = roster(store)
    jamf.devices[0]["userAndLocation"]["email"] = "someone.else@acme.example"
    jamf.faults = [Fault("inventory", status=429, headers={"Retry-After": "3600"})]
    outcome = sync(store, jamf, settings)
    assert not outcome.ok and "throttled for 3600 s" in outcome.error
    assert roster(store) == before
    runs = store.rows("SELECT outcome, detail FROM mdm_runs ORDER BY started_at")
    assert runs[-1]["outcome"] == "failed" and runs[-1]["detail"].startswith("Jamf Pro:")


def test_an_expired_token_is_renewed_once_and_the_sync_goes_on(store, jamf, tls, monkeypatch):
    jamf.faults = [Fault("inventory", expire_tokens=True)]
    jamf.faults[0].status = 0
    # the first page's token expires as it arrives: the stand-in answers 401, the client renews
    jamf.devices = fleet(jamf, 250)  # two pages
    outcome = sync(store, jamf, settings_for(jamf, tls, monkeypatch))
    assert outcome.ok and outcome.plan.counts()["new"] == 250
    assert len([r for r in jamf.requests if r.path == "/api/oauth/token"]) == 2


def test_a_token_refused_after_renewal_fails_and_names_the_credentials(store, jamf, tls, monkeypatch):
    jamf.faults = [Fault("inventory", status=401, body={}), Fault("inventory", status=401, body={})]
    outcome = sync(store, jamf, settings_for(jamf, tls, monkeypatch))
    assert not outcome.ok and "HTTP 401" in outcome.error and "credentials were refused" in outcome.error
    assert roster(store) == {}


def test_wrong_client_secret_fails_without_showing_the_secret(store, jamf, tls, monkeypatch):
    settings = settings_for(jamf, tls, monkeypatch)
    monkeypatch.setenv("FARMWATCH_TEST_MDM_SECRET", "not-the-secret")
    outcome = sync(store, jamf, settings)
    assert not outcome.ok and "/api/oauth/token answered HTTP 401" in outcome.error
    assert "not-the-secret" not in outcome.error


@pytest.mark.parametrize("fault, says", [
    (Fault("inventory", truncate=True), "not JSON"),
    (Fault("inventory", delay=3.0), "timed out"),
    (Fault("inventory", status=500), "HTTP 500"),
])
def test_a_broken_second_page_leaves_the_previous_roster_whole(store, jamf, tls, monkeypatch, fault, says):
    settings = settings_for(jamf, tls, monkeypatch, timeout_seconds=1, table={"page_size": 2})
    sync(store, jamf, settings)
    before = roster(store)
    for device in jamf.devices:  # everything changes hands; none of it may be applied
        device["userAndLocation"]["email"] = "farm@acme.example"
    jamf.faults = [Fault("inventory"), fault]  # the second page fails
    outcome = sync(store, jamf, settings)
    assert not outcome.ok and says in outcome.error
    assert roster(store) == before


def test_a_listing_that_changes_or_stops_short_while_paged_is_incomplete(store, jamf, tls, monkeypatch):
    settings = settings_for(jamf, tls, monkeypatch, table={"page_size": 2})
    jamf.faults = [Fault("inventory"), Fault("inventory", status=200, body={"totalCount": 6, "results": []})]
    outcome = sync(store, jamf, settings)
    assert not outcome.ok and "changed while it was read" in outcome.error
    jamf.faults = [Fault("inventory"), Fault("inventory", status=200, body={"totalCount": 5, "results": []})]
    outcome = sync(store, jamf, settings)
    assert not outcome.ok and "stopped at 2 of 5" in outcome.error
    assert roster(store) == {}


def test_a_malformed_record_is_skipped_and_reported_and_its_row_kept(store, jamf, tls, monkeypatch):
    settings = settings_for(jamf, tls, monkeypatch)
    sync(store, jamf, settings)
    before = roster(store)
    broken = jamf.devices[1]
    broken["userAndLocation"]["email"] = ["not", "text"]
    jamf.devices[2]["userAndLocation"]["realname"] = "Someone Else"
    outcome = sync(store, jamf, settings)
    assert outcome.ok
    assert [p.message for p in outcome.plan.skipped] == \
        ["malformed: userAndLocation.email is list, not text"]
    after = roster(store)
    serial = broken["hardware"]["serialNumber"]
    assert after[serial] == before[serial]  # kept, not removed, not changed
    assert after[jamf.devices[2]["hardware"]["serialNumber"]][0] == "Someone Else"


def test_a_record_without_a_readable_serial_holds_removals_for_that_sync(store, jamf, tls, monkeypatch):
    settings = settings_for(jamf, tls, monkeypatch)
    sync(store, jamf, settings)
    jamf.devices[0]["hardware"] = "garbage"
    retired = jamf.devices.pop(4)["hardware"]["serialNumber"]
    outcome = sync(store, jamf, settings)
    assert outcome.ok and outcome.plan.counts()["removed"] == 0 and outcome.plan.held_removals == 2
    assert retired in roster(store)
    jamf.devices.pop(0)  # the MDM is repaired: the record is gone for good
    outcome = sync(store, jamf, settings)
    assert outcome.plan.counts()["removed"] == 2 and retired not in roster(store)


def test_devices_without_a_serial_are_noted_not_malformed(store, jamf, tls, monkeypatch):
    jamf.devices[0]["hardware"]["serialNumber"] = "To be filled by O.E.M."
    outcome = sync(store, jamf, settings_for(jamf, tls, monkeypatch))
    assert outcome.ok and not outcome.plan.held_removals
    assert "has no usable serial number" in outcome.plan.skipped[0].message


def test_a_listing_that_would_empty_the_roster_is_refused_unless_accepted(store, jamf, tls, monkeypatch):
    settings = settings_for(jamf, tls, monkeypatch)
    jamf.devices = fleet(jamf, 40)
    sync(store, jamf, settings)
    jamf.devices = jamf.devices[:10]  # e.g. the API role lost a site
    outcome = sync(store, jamf, settings)
    assert not outcome.ok and "would remove 30 of the 40" in outcome.error and "--accept-removals" in outcome.error
    assert len(roster(store)) == 40
    preview = sync(store, jamf, settings, dry_run=True, accept_removals=True)
    assert preview.plan.counts()["removed"] == 30 and len(roster(store)) == 40
    assert sync(store, jamf, settings, accept_removals=True).ok and len(roster(store)) == 10


def test_rows_from_a_csv_import_are_taken_over_when_listed_and_never_removed(store, jamf, tls, monkeypatch, tmp_path):
    listed = jamf.devices[0]["hardware"]["serialNumber"]
    csv_file = tmp_path / "roster.csv"
    same = jamf.devices[1]  # on file exactly as Jamf lists it
    department = {"1": "Engineering", "2": "Finance"}[same["userAndLocation"]["departmentId"]]
    csv_file.write_text(f"serial,user,email,department,issue_date,country\n"
                        f"{listed},Old Name,old@acme.example,,,US\nCSVONLY001,Cy,cy@acme.example,,,US\n"
                        f"{same['hardware']['serialNumber']},Person 1,person1@acme.example,{department},2026-03-05,US\n")
    csv_roster.import_roster(store, csv_roster.parse(csv_file, "csv"))
    outcome = sync(store, jamf, settings_for(jamf, tls, monkeypatch))
    assert outcome.plan.counts()["reassigned"] == 1 and outcome.plan.unchanged == 1
    rows = {r["serial"]: r for r in store.rows("SELECT * FROM roster")}
    assert rows[listed]["source_format"] == "jamf-api" and rows[listed]["country"] == "US"  # Jamf has no country
    assert rows["CSVONLY001"]["source_format"] == "csv"
    assert rows[same["hardware"]["serialNumber"]]["source_format"] == "jamf-api"  # listed, so Jamf's, though equal
    assert [(h["change"], h["source"], h["email"]) for h in csv_roster.history(store, listed)] == \
        [("new", "csv", "old@acme.example"), ("reassigned", "jamf-api", "person0@acme.example")]
    jamf.devices = []
    sync(store, jamf, settings_for(jamf, tls, monkeypatch), accept_removals=True)
    assert set(roster(store)) == {"CSVONLY001"}


def test_a_serial_listed_twice_keeps_the_later_record_and_reports_the_earlier(store, jamf, tls, monkeypatch):
    again = jamf.computer(99, jamf.devices[0]["hardware"]["serialNumber"], "Re Enrolled", "re@acme.example")
    jamf.devices.append(again)
    outcome = sync(store, jamf, settings_for(jamf, tls, monkeypatch))
    assert roster(store)[again["hardware"]["serialNumber"]][1] == "re@acme.example"
    assert "listed again at record 6" in outcome.plan.skipped[0].message


def test_a_dry_run_writes_nothing_but_the_run_record(store, jamf, tls, monkeypatch):
    outcome = sync(store, jamf, settings_for(jamf, tls, monkeypatch), dry_run=True)
    assert outcome.ok and outcome.plan.counts()["new"] == 5
    assert roster(store) == {} and store.rows("SELECT count(*) AS n FROM mdm_devices")[0]["n"] == 0
    assert store.rows("SELECT dry_run, outcome FROM mdm_runs") == [{"dry_run": 1, "outcome": "ok"}]
