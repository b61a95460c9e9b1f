"""Each fleet rule on a small fleet ingested through the real pipeline: a match and a near miss."""
from __future__ import annotations

import json
import random
from datetime import timedelta

import pytest

from conftest import new_database
from farmwatch.collector.config import CollectorConfig, ConfigError
from farmwatch.collector.fleet import FleetSettings, correlate
from farmwatch.collector.fleet.keys import address_key, bssid_key, cluster_id, gateway_key
from farmwatch.collector.fleet.neighbourhood import WifiHasher
from farmwatch.collector.fleet.verdict import combine
from farmwatch.collector.ingest import Store
from tests.fleet_builder import Laptop, Person, Place, import_roster, ingest_fleet, write_roster, utc

WIFI_KEY = bytes(range(32))
START = utc(2026, 11, 1)
NOW = START + timedelta(days=8)
DAYS = range(4, 8)
CLEAN, RELAY = "clean/linux_office_plain.json", "relay/win_pikvm.json"
ANYDESK = "suspicious/win_anydesk_idle.json"  # AnyDesk installed and running, no session: suspicious
ANN, BOB, CAT = (Person("Ann Ames", "Austin", "TX", "US", "78701"), Person("Bob Burr", "Boston", "MA", "US", "02108"),
                 Person("Cat Cole", "Chicago", "IL", "US", "60601"))


@pytest.fixture
def fleet(request, engine, tmp_path):
    stores = []

    def build(laptops, *, settings=FleetSettings(), now=NOW, roster=True, extra=(), interval=300, reorder=None,  # noqa: B008 (frozen settings)
              wifi=True):
        """`reorder`: deliver the fleet's reports in that order instead of as they were collected;
        `wifi`: hash the access points the laptops hear (else ingest drops them, as when turned off)."""
        store = Store(new_database(request, engine, tmp_path, f"fleet{len(stores)}.sqlite"),
                      wifi=WifiHasher(WIFI_KEY) if wifi else None)
        stores.append(store)
        if reorder:
            outbox = _Outbox()
            ingest_fleet(outbox, laptops, START)
            store.ingest(list(reorder(outbox.items)))
        else:
            ingest_fleet(store, laptops, START)
        if roster:
            import_roster(store, write_roster(tmp_path / f"roster{len(stores)}.csv", laptops, list(extra)))
        config = CollectorConfig(home=tmp_path, report_interval_seconds=interval, fleet=settings)
        return store, correlate(store, config, now)

    yield build
    for store in stores:
        store.close()


class _Outbox:
    """Takes the store's place in ingest_fleet: keeps the reports for delivery in another order."""

    def __init__(self):
        self.items = []

    def ingest(self, batch):
        self.items += batch
        return [True] * len(batch)


def at(place: Place, *people: Person, base: str = CLEAN, days=DAYS, prefix: str = "lt") -> list[Laptop]:
    return [Laptop(f"{prefix}-{p.name}", base, p, [(place, days)]) for p in people]


def findings(store, rule: str) -> dict[str, dict]:
    return {r["device_id"]: r for r in store.rows("SELECT * FROM fleet_findings WHERE rule = ?", (rule,))}


def verdicts(store) -> dict[str, tuple]:
    return {r["device_id"]: (r["verdict"], r["own_verdict"], r["verdict_source"])
            for r in store.rows("SELECT device_id, verdict, own_verdict, verdict_source FROM devices")}


# -- location keys ---------------------------------------------------------------------------

@pytest.mark.parametrize("mac", ["00:00:00:00:00:00", "ff:ff:ff:ff:ff:ff", "01:00:5e:00:00:01",
                                 "02:42:ac:11:00:01", "52:54:00:12:35:02", "08:00:27:aa:bb:cc",
                                 "00:50:56:c0:00:08", "00:15:5d:01:02:03", "not-a-mac", "",
                                 # the same at every site with that redundancy group: VRRP, HSRP v1/v2, GLBP
                                 "00:00:5e:00:01:01", "00:00:5E:00:02:0a", "0000.0c07.ac01", "00:00:0c:9f:f0:01",
                                 "00:05:73:a0:00:01", "00:07:b4:00:01:02"])
def test_virtual_default_and_broken_gateway_macs_key_nothing(mac):
    assert gateway_key(mac) is None


def test_real_macs_are_keys_in_one_spelling():
    assert gateway_key("04-D9-F5-66-4D-0E") == gateway_key("04d9.f566.4d0e") == "04:d9:f5:66:4d:0e"
    assert bssid_key("06:d9:f5:66:4d:0b") == "06:d9:f5:66:4d:0b"  # an AP's extra SSID: locally administered
    assert bssid_key("00:00:00:00:00:00") is None


@pytest.mark.parametrize("address", ["127.0.0.1", "10.1.2.3", "192.168.0.10", "172.16.5.4", "169.254.1.1",
                                     "100.64.3.2", "::1", "fe80::1", "fd00::5", "", "garbage"])
def test_non_global_addresses_key_nothing(address):
    assert address_key(address) is None


def test_global_addresses_are_keys_and_mapped_ipv6_is_the_ipv4_address():
    assert address_key("73.12.40.9") == address_key("::ffff:73.12.40.9") == "73.12.40.9"
    assert address_key("2001:4860:4860::8888") == address_key("2001:4860:4860:0:9a1:3ff:fe2c:11") == \
        "2001:4860:4860::/64" == address_key("2001:4860:4860::/64")  # a key is its own key


def test_a_farm_on_ipv6_privacy_addresses_is_one_cluster_by_its_64(fleet):
    def home_v6(label: str, day: int) -> Place:  # a new interface identifier every day, one /64
        return Place(f"2601:646:8a00:12f0:{(day * 7919 + len(label) * 31) % 0xffff:x}:ff:fe00:{day + 1}", None, None)

    laptops = [Laptop(f"v6-{p.name}", CLEAN, p, [(home_v6(p.name, day), [day]) for day in DAYS]) for p in (ANN, BOB, CAT)]
    _, result = fleet(laptops)
    assert [(c["kind"], c["value"], c["people"]) for c in result.clusters] == [("peer_ip", "2601:646:8a00:12f0::/64", 3)]


def test_configured_shared_egress_covers_ipv6_keys(fleet):
    laptops = [Laptop(f"sase6-{p.name}", CLEAN, p, [(Place(f"2a03:2880:f00c:1::{i + 1}", None, None), DAYS)])
               for i, p in enumerate((ANN, BOB, CAT))]
    _, result = fleet(laptops, settings=FleetSettings(shared_egress_networks=("2a03:2880::/29",)))
    assert result.clusters == [] and result.skipped_keys["shared egress (configured)"] == 1


def test_cluster_ids_are_stable_and_per_kind():
    assert cluster_id("gateway_mac", "04:d9:f5:66:4d:0e") == cluster_id("gateway_mac", "04:d9:f5:66:4d:0e")
    assert cluster_id("gateway_mac", "x").startswith("gw-") and cluster_id("peer_ip", "x").startswith("ip-")
    assert cluster_id("gateway_mac", "x") != cluster_id("wifi_bssid", "x")


# -- clusters ----------------------------------------------------------------------------------

def test_two_people_behind_one_router_for_days_are_a_medium_cluster(fleet):
    store, result = fleet(at(Place.home("shared"), ANN, BOB))
    assert {(c["kind"], c["severity"], c["people"]) for c in result.clusters} == {
        ("gateway_mac", "medium", 2), ("wifi_bssid", "medium", 2), ("peer_ip", "medium", 2)}
    assert {v for v in verdicts(store).values()} == {("suspicious", "clean", "fleet")}


@pytest.mark.one_engine  # the rule's logic; the correlation SQL it reads is run on both engines by the tests around it
def test_a_short_stay_together_is_not_a_cluster(fleet):
    _, result = fleet(at(Place.home("conference"), ANN, BOB, days=range(6, 8)))
    assert result.clusters == []


@pytest.mark.one_engine  # the rule's logic; the correlation SQL it reads is run on both engines by the tests around it
def test_a_two_day_conference_in_california_is_not_a_cluster_though_it_touches_three_utc_days(fleet):
    venue = Place.home("conference-sf")
    hours = tuple(range(17, 27))  # 09:00-18:00 Pacific: 17:00-02:00 UTC, so two local days are three UTC days
    laptops = [Laptop(f"conf-{p.name}", CLEAN, p, [(venue, range(5, 7))], hours=hours) for p in (ANN, BOB, CAT)]
    _, result = fleet(laptops)
    assert result.clusters == []


@pytest.mark.one_engine  # the rule's logic; the correlation SQL it reads is run on both engines by the tests around it
def test_days_before_the_window_do_not_count_towards_a_place(fleet):
    space = Place.home("coworking")  # one visit a week: only the last is inside the window
    laptops = [Laptop(f"cowork-{p.name}", CLEAN, p, [(space, range(0, 22, 7))]) for p in (ANN, BOB, CAT)]
    _, result = fleet(laptops, now=START + timedelta(days=22))
    assert result.clusters == []


@pytest.mark.one_engine  # the rule's logic; the correlation SQL it reads is run on both engines by the tests around it
def test_neighbours_access_points_with_nearly_the_same_bssid_stay_apart(fleet):
    # Folding an access point's radios by the BSSID's last byte would join unrelated homes: a
    # fleet has thousands of routers of a few models, 2^16 such blocks per vendor prefix.
    laptops = [Laptop(f"near-{p.name}", CLEAN, p, [(Place(f"185.7.{i}.9", None, radio), DAYS)])
               for i, (p, radio) in enumerate(zip((ANN, BOB), ("50:c7:bf:aa:10:a8", "50:c7:bf:aa:10:ac")))]
    _, result = fleet(laptops)
    assert result.clusters == []


def test_a_farm_that_moved_house_is_shown_where_it_is_now_and_names_its_people(fleet):
    old_home, new_home = Place.home("farm-after"), Place.home("farm-before")  # old sorts first by its MAC
    laptops = [Laptop(f"movers-{p.name}", CLEAN, p, [(old_home, range(1, 4)), (new_home, range(4, 8))])
               for p in (ANN, BOB, CAT)]
    store, result = fleet(laptops)
    assert len(result.clusters) == 6  # three keys at each home
    found = findings(store, "fleet-cluster")
    evidence = json.loads(found[laptops[0].serial]["evidence"])
    assert evidence["key"]["value"] == new_home.gateway_mac
    assert [(m["person"], m["here_since"][:10]) for m in sorted(evidence["members"], key=lambda m: m["person"])] == [
        (p.email, "2026-11-05") for p in (ANN, BOB, CAT)]
    assert "since 2026-11-05" in found[laptops[0].serial]["summary"]
    assert findings(store, "fleet-moved-to-cluster") == {}  # the old house was theirs together, not each one's own


@pytest.mark.one_engine  # the rule's logic; the correlation SQL it reads is run on both engines by the tests around it
def test_one_persons_two_laptops_are_not_a_cluster(fleet):
    place = Place.home("one-person")
    laptops = [Laptop("ann-1", CLEAN, ANN, [(place, DAYS)]), Laptop("ann-2", CLEAN, ANN, [(place, DAYS)])]
    _, result = fleet(laptops)
    assert result.clusters == [] and result.skipped_keys["one person"] == 3


@pytest.mark.one_engine  # the rule's logic; the correlation SQL it reads is run on both engines by the tests around it
def test_a_replacement_laptop_exported_without_the_email_is_the_same_person(fleet, tmp_path):
    place = Place.home("replaced")
    laptops = [Laptop("ann-old", CLEAN, ANN, [(place, range(0, 5))]), Laptop("ann-new", CLEAN, ANN, [(place, DAYS)])]
    store, _ = fleet(laptops, roster=False)
    csv_path = tmp_path / "replacement.csv"
    csv_path.write_text(f"serial,user,email,city,region,country\n{laptops[0].serial},Ann Ames,{ANN.email},Austin,TX,US\n"
                        f"{laptops[1].serial},ann ames,,Austin,TX,US\n")
    import_roster(store, csv_path)
    assert correlate(store, FleetSettings(), NOW).clusters == []


@pytest.mark.one_engine  # the rule's logic; the correlation SQL it reads is run on both engines by the tests around it
def test_devices_nobody_is_known_to_hold_are_different_people(fleet):
    place = Place.home("unknowns")
    laptops = [Laptop("x-1", CLEAN, None, [(place, DAYS)]), Laptop("x-2", CLEAN, None, [(place, DAYS)])]
    _, result = fleet(laptops, roster=False)
    assert len(result.clusters) == 3 and all(c["people"] == 2 for c in result.clusters)


@pytest.mark.one_engine  # the rule's logic; the correlation SQL it reads is run on both engines by the tests around it
def test_a_place_left_before_the_window_is_no_cluster(fleet):
    _, result = fleet(at(Place.home("old"), ANN, BOB, days=range(0, 4)), settings=FleetSettings(window_days=3))
    assert result.clusters == []


def test_three_people_are_high_and_one_driven_member_makes_it_critical(fleet):
    place = Place.home("farm")
    _, plain = fleet(at(place, ANN, BOB, CAT))
    assert {c["severity"] for c in plain.clusters} == {"high"}
    store, driven = fleet([*at(place, ANN, BOB), Laptop("cat", RELAY, CAT, [(place, DAYS)])])
    assert {c["severity"] for c in driven.clusters} == {"critical"}
    assert {v[0] for v in verdicts(store).values()} == {"relay"}


@pytest.mark.one_engine  # the rule's logic; the correlation SQL it reads is run on both engines by the tests around it
@pytest.mark.parametrize("with_tools, severity, verdict", [(1, "high", "suspicious"), (2, "critical", "relay")])
def test_one_member_with_a_remote_tool_does_not_make_a_farm_critical_but_two_do(fleet, with_tools, severity,
                                                                                  verdict):
    place, people = Place.home("farm"), [ANN, BOB, CAT, Person("Dan Dorr", "Dallas", "TX", "US", "75201"),
                                         Person("Eve Eads", "Eugene", "OR", "US", "97401")]
    laptops = [*at(place, *people[with_tools:]), *at(place, *people[:with_tools], base=ANYDESK, prefix="tool")]
    store, result = fleet(laptops)
    assert {c["severity"] for c in result.clusters} == {severity}
    assert {v[0] for v in verdicts(store).values()} == {verdict}


def test_a_shared_private_address_or_virtual_gateway_is_no_cluster(fleet):
    lab = Place("10.0.0.7", "52:54:00:12:35:02", None)
    _, result = fleet(at(lab, ANN, BOB))
    assert result.clusters == []


HQ = Place.home("hq")


@pytest.mark.one_engine  # the rule's logic; the correlation SQL it reads is run on both engines by the tests around it
@pytest.mark.parametrize("settings", [
    FleetSettings(office_gateway_macs=(HQ.gateway_mac,), office_bssids=(HQ.bssid,),
                  office_networks=(HQ.peer_ip + "/32",)),
    FleetSettings(office_networks=(HQ.peer_ip + "/32",)),
    FleetSettings(office_gateway_macs=(HQ.gateway_mac,)),
    FleetSettings(office_bssids=(HQ.bssid,))], ids=["all", "network", "gateway", "bssid"])
def test_the_office_is_no_cluster_by_any_one_of_its_keys(fleet, settings):
    _, result = fleet(at(Place.home("hq"), ANN, BOB, CAT), settings=settings)
    assert result.clusters == [] and result.skipped_keys["office"] == 3  # its three keys


def test_keys_stored_before_a_key_rule_changed_no_longer_make_clusters(fleet):
    from farmwatch.collector.storage.fleet import record_locations

    store, _ = fleet(at(Place.home("vrrp-site"), ANN, BOB))  # three keys of their own; add two old ones
    old_keys = [("gateway_mac", "00:00:5e:00:01:01"), ("peer_ip", "2601:646:8a00:12f0::5")]
    for laptop in store.rows("SELECT device_id FROM devices"):
        for day in DAYS:
            stamp = (START + timedelta(days=day, hours=12)).isoformat().replace("+00:00", "Z")
            record_locations(store.conn, [(laptop["device_id"], kind, value, stamp, stamp, 1, None, None, None)
                                          for kind, value in old_keys])
    result = correlate(store, FleetSettings(), NOW)
    assert {c["value"] for c in result.clusters}.isdisjoint(value for _, value in old_keys)
    assert result.skipped_keys["no longer a key (stored before the key rules changed)"] == 2


def test_an_address_behind_different_routers_is_shared_egress_but_one_router_is_not(fleet):
    nat = "172.58.14.9"
    apart = [Laptop(f"nat-{p.name}", CLEAN, p, [(Place(nat, Place.home(p.name).gateway_mac, None), DAYS)])
             for p in (ANN, BOB, CAT)]
    _, result = fleet(apart)
    assert result.clusters == [] and result.skipped_keys["shared egress (devices behind different routers)"] == 1
    _, together = fleet(at(Place(nat, Place.home("one").gateway_mac, None), ANN, BOB))
    assert {c["kind"] for c in together.clusters} == {"gateway_mac", "peer_ip"}


def test_configured_shared_egress_never_keys_a_cluster(fleet):
    place = Place("165.225.34.17", None, None)
    _, result = fleet(at(place, ANN, BOB), settings=FleetSettings(shared_egress_networks=("165.225.0.0/17",)))
    assert result.clusters == [] and result.skipped_keys["shared egress (configured)"] == 1


@pytest.mark.one_engine  # the rule's logic; the correlation SQL it reads is run on both engines by the tests around it
def test_a_couple_at_one_ship_to_address_is_a_low_household(fleet):
    rosa, tom = Person("Rosa Lind", "Denver", "CO", "US", "80202"), Person("Tom Lind", "Denver", "CO", "US", "80202")
    store, result = fleet(at(Place.home("lind"), rosa, tom))
    assert {(c["severity"], c["household"]) for c in result.clusters} == {("low", True)}
    assert {v[0] for v in verdicts(store).values()} == {"clean"}


LOCATIONS = "SELECT * FROM device_locations ORDER BY kind, value, device_id"


@pytest.mark.parametrize("reorder", [reversed, lambda items: random.Random(7).sample(items, len(items))],
                         ids=["newest-first", "shuffled"])
def test_reports_arriving_out_of_order_count_the_same_days(fleet, reorder):
    farm = Place.home("farm")
    mover = Laptop("mover", CLEAN, None, [(Place.home("own"), range(0, 4)), (farm, DAYS)])
    in_order, expected = fleet([*at(farm, ANN, BOB, CAT), mover])
    replayed, result = fleet([*at(farm, ANN, BOB, CAT), mover], reorder=reorder)
    assert replayed.rows(LOCATIONS) == in_order.rows(LOCATIONS)
    assert {r["days"] for r in replayed.rows(LOCATIONS)} == {len(DAYS)}
    assert result.clusters == expected.clusters and len(result.clusters) == 3


@pytest.mark.sqlite_dialect  # a schema-4 SQLite file; PostgreSQL databases start at schema 9
def test_an_older_database_gets_exact_day_counts_on_upgrade(fleet):
    store, _ = fleet(at(Place.home("farm"), ANN, BOB))
    before = store.rows(LOCATIONS)
    # as schema 4 left a backfill that arrived newest first: one day counted, no BSSID beside the keys
    store.conn.execute("DROP TABLE device_location_days")
    store.conn.execute("ALTER TABLE device_locations DROP COLUMN wifi_bssid")
    store.conn.execute("UPDATE device_locations SET days = 1")
    store.conn.execute("PRAGMA user_version=4")
    store.close()
    upgraded = Store(store.path)
    try:
        assert upgraded.rows(LOCATIONS) == before
        assert correlate(upgraded, FleetSettings(), NOW).clusters
    finally:
        upgraded.close()


@pytest.mark.parametrize("older_import", [False, True], ids=["imported", "stored-before-normalising"])
def test_a_household_however_the_roster_spells_its_address(fleet, older_import):
    carl = Person("Carl Diaz", "Eugene", "OR", "US", "97401")
    dina = Person("Dina Diaz", "EUGENE", "Oregon", "US", "97401-2345")
    store, result = fleet(at(Place.home("diaz"), carl, dina))
    if older_import:  # rows as an import before region and ZIP+4 normalisation left them
        store.conn.execute("UPDATE roster SET region = 'Oregon', postal_code = '97401-2345' WHERE email = ?",
                           (dina.email,))
        result = correlate(store, FleetSettings(), NOW)
    assert {(c["severity"], c["household"]) for c in result.clusters} == {("low", True)}
    assert {v[0] for v in verdicts(store).values()} == {"clean"}


# -- moves -------------------------------------------------------------------------------------

def test_a_laptop_that_left_its_home_for_a_cluster_moved(fleet):
    farm = Place.home("farm")
    mover = Laptop("mover", CLEAN, CAT, [(Place.home("cat-home"), range(0, 4)), (farm, DAYS)])
    alternating = Laptop("alternating", CLEAN, ANN, [(Place.home("ann-home"), range(0, 8)), (farm, range(5, 8))])
    store, _ = fleet([mover, alternating, *at(farm, BOB)])
    moved = findings(store, "fleet-moved-to-cluster")
    assert set(moved) == {mover.serial}
    assert '"value": "%s"' % Place.home("cat-home").gateway_mac in moved[mover.serial]["evidence"]


# -- silence -----------------------------------------------------------------------------------

def test_silence_beyond_the_allowance_is_a_low_finding(fleet):
    quiet = Laptop("quiet", CLEAN, ANN, [(Place.home("q"), range(0, 4))])
    recent = Laptop("recent", CLEAN, BOB, [(Place.home("r"), range(0, 7))])
    store, _ = fleet([quiet, recent])
    assert set(findings(store, "fleet-silent")) == {quiet.serial}
    assert verdicts(store)[quiet.serial][0] == "clean"


@pytest.mark.one_engine  # the rule's logic; the correlation SQL it reads is run on both engines by the tests around it
def test_silence_is_measured_in_report_intervals_too(fleet):
    quiet = Laptop("quiet", CLEAN, ANN, [(Place.home("q"), range(0, 4))])
    store, _ = fleet([quiet], interval=2 * 86400)  # three intervals (6 days) have not passed
    assert findings(store, "fleet-silent") == {}


# -- roster ------------------------------------------------------------------------------------

@pytest.mark.one_engine  # the rule's logic; the correlation SQL it reads is run on both engines by the tests around it
def test_without_a_roster_there_are_no_roster_findings(fleet):
    store, result = fleet(at(Place.home("a"), ANN), roster=False)
    assert not {"fleet-not-on-roster", "fleet-never-reported"} & set(result.findings)


def test_reporting_off_the_roster_and_never_reporting_on_it(fleet):
    stray = Laptop("stray", CLEAN, None, [(Place.home("stray"), DAYS)])
    late, recent = ("FWNEVER0001", BOB, "2026-10-01"), ("FWNEWHIRE01", CAT, "2026-11-05")
    store, _ = fleet([*at(Place.home("a"), ANN), stray], extra=[late, recent])
    assert set(findings(store, "fleet-not-on-roster")) == {stray.serial}
    assert set(findings(store, "fleet-never-reported")) == {"FWNEVER0001"}  # the new hire is within grace
    assert verdicts(store)[stray.serial] == ("suspicious", "clean", "fleet")


@pytest.mark.parametrize("zone, country, expected", [
    ("Asia/Seoul", "US", True), ("America/New_York", "US", False), ("Asia/Seoul", "KR", False),
    ("UTC", "US", False), ("Europe/Berlin", "DE", False), ("Europe/Berlin", "FR", True)])
def test_time_zone_against_the_ship_to_country(fleet, zone, country, expected):
    laptop = Laptop("tz", CLEAN, Person("Ann Ames", "X", "", country), [(Place.home("tz"), DAYS)], timezone=zone)
    store, _ = fleet([laptop])
    assert bool(findings(store, "fleet-timezone-vs-roster")) is expected


@pytest.mark.parametrize("country, expected", [("US", True), ("KR", False)])
def test_korean_input_against_the_ship_to_country(fleet, country, expected):
    laptop = Laptop("ko", "clean/mac_korean_layout_kst.json", Person("Min Park", "X", "", country),
                    [(Place.home("ko"), DAYS)])
    store, _ = fleet([laptop])
    assert bool(findings(store, "fleet-language-vs-roster")) is expected


# -- verdicts and history ----------------------------------------------------------------------

def _f(severity, rule="r"):
    return {"rule": rule, "severity": severity, "summary": "", "evidence": {}}


def test_combined_verdict_reuses_detects_scoring():
    assert combine("clean", 0, [], []).source == "report"
    assert combine("clean", 0, [], [_f("low"), _f("low"), _f("low")]) .verdict == "clean"  # low cap 20
    assert (combine("clean", 0, [], [_f("high")]).verdict, combine("clean", 0, [], [_f("high")]).source) == \
        ("suspicious", "fleet")
    assert combine("suspicious", 45, [_f("high")], [_f("medium")]).verdict == "suspicious"  # no critical: held
    assert combine("relay", 75, [_f("critical")], [_f("low")]).source == "report"


def test_a_cluster_that_ends_is_closed_and_its_members_verdicts_fall_back(fleet):
    store, first = fleet(at(Place.home("shared"), ANN, BOB))
    assert {e["event"] for e in first.events} == {"new", "joined"}
    later = correlate(store, FleetSettings(), NOW + timedelta(days=10))
    assert later.clusters == [] and {e["event"] for e in later.events} == {"closed"}
    assert {v[0] for v in verdicts(store).values()} == {"clean"}
    assert {c["new_verdict"] for c in later.verdict_changes} == {"clean"}
    assert {r["status"] for r in store.rows("SELECT status FROM clusters")} == {"inactive"}


def test_a_late_joiner_is_recorded(fleet, tmp_path):
    place = Place.home("growing")
    store, _ = fleet(at(place, ANN, BOB))
    ingest_fleet(store, [Laptop("lt-Cat Cole", CLEAN, CAT, [(place, range(8, 11))])], START)
    import_roster(store, write_roster(tmp_path / "more.csv", [Laptop("lt-Cat Cole", CLEAN, CAT)]))
    result = correlate(store, FleetSettings(), NOW + timedelta(days=3))
    joined = [e for e in result.events if e["event"] == "joined"]
    assert len(joined) == 3 and {e["detail"] for e in joined} == {CAT.email}  # one per key kind


def test_replacing_a_reports_verdict_keeps_the_fleet_part(fleet):
    store, _ = fleet(at(Place.home("shared"), ANN, BOB))
    device_id, report_id = store.rows("SELECT device_id, last_report_id FROM devices LIMIT 1")[0].values()
    store.replace_verdict(report_id, device_id, {"verdict": "clean", "score": 0, "findings": []})
    assert verdicts(store)[device_id] == ("suspicious", "clean", "fleet")


# -- settings ----------------------------------------------------------------------------------

def test_fleet_settings_come_from_the_fleet_table(tmp_path):
    (tmp_path / "collector.toml").write_text(
        '[fleet]\nwindow_days = 3\noffice_networks = ["198.51.100.0/28"]\noffice_gateway_macs = ["00-1A-2B-3C-4D-5E"]\n')
    fleet_settings = CollectorConfig.load(tmp_path).fleet
    assert fleet_settings.window_days == 3 and fleet_settings.office_gateway_macs == ("00:1a:2b:3c:4d:5e",)
    assert str(fleet_settings.office_networks[0]) == "198.51.100.0/28"


@pytest.mark.parametrize("text", ['[fleet]\nwindow = 3\n', '[fleet]\noffice_networks = ["office"]\n',
                                  '[fleet]\noffice_bssids = ["zz"]\n'])
def test_bad_fleet_settings_are_refused_by_name(tmp_path, text):
    (tmp_path / "collector.toml").write_text(text)
    with pytest.raises(ConfigError, match="fleet"):
        CollectorConfig.load(tmp_path)


def test_a_visitor_for_a_day_is_not_a_member(fleet):
    place = Place.home("shared")
    visitor = Laptop("visitor", CLEAN, CAT, [(Place.home("cat-home"), DAYS), (place, range(7, 8))])
    store, result = fleet([*at(place, ANN, BOB), visitor])
    assert result.clusters and all(visitor.serial not in c["devices"] for c in result.clusters)
    assert verdicts(store)[visitor.serial][0] == "clean"
