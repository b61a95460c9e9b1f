"""The web console over real HTTPS with real client certificates: who gets in (an analyst of our CA,
or a trusted proxy's identity header) and who does not (another CA, an agent, a revoked analyst, a
forged header) — each refusal audited —, what each page shows, triage from a form, and SQL bounds."""
from __future__ import annotations

import datetime as dt
import json
import re
import socket
import sqlite3
import ssl
import time
import urllib.parse

import pytest

from conftest import ENGINES, new_database
from console_process import IDENTITY_HEADER, TRUSTED_PROXY, Console, issue_analyst, make_home, request
from test_collector_cli import collector

from farmwatch.collector import pki
from farmwatch.collector.config import CollectorConfig
from farmwatch.collector.console.tls import RefusedHandshakes
from farmwatch.collector.ingest import Store
from farmwatch.collector.storage.browse import DeviceFilter


@pytest.fixture(scope="module", params=ENGINES)
def home(request, tmp_path_factory):
    """On each engine (on PostgreSQL, a database of its own named in the home's collector.toml)."""
    folder = tmp_path_factory.mktemp("console")
    database = new_database(request, request.param, folder)
    return make_home(folder, "" if request.param == "sqlite" else database)


@pytest.fixture(scope="module")
def console(home):
    running = Console(home)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def alice(home):
    cert, key, _ = issue_analyst(home, "alice@example.com")
    return cert, key


def _audit(home, where: str, params=(), columns: str = "who, via, action, detail, outcome") -> list[tuple]:
    store = Store(CollectorConfig.load(home).database)
    try:
        return [tuple(row.values()) for row in store.rows(f"SELECT {columns} FROM audit WHERE {where} ORDER BY id",
                                                          params)]
    finally:
        store.close()


def _pem_files(tmp_path, name: str, key: bytes, cert) -> tuple:
    (tmp_path / f"{name}.key").write_bytes(key)
    (tmp_path / f"{name}.crt").write_bytes(pki.cert_pem(cert))
    return tmp_path / f"{name}.crt", tmp_path / f"{name}.key"


# -- who gets in ---------------------------------------------------------------------------------

def test_an_analyst_certificate_opens_every_page_and_each_view_is_audited(home, console, alice):
    [cluster] = json.loads(collector(home, "clusters", "--json").stdout)
    pages = {"/": "Devices by verdict", "/devices": "PFWCWBL5", "/devices?verdict=relay": "PFWCWBL5",
             "/devices/PFWCWBL5": "Findings (latest report)", "/devices/PFWCWBL5/evidence": "not a finding about any person",
             "/clusters": cluster["cluster_id"], f"/clusters/{cluster['cluster_id']}": "SN-FARM-1",
             "/flags": "remote-control", "/sql": "Read-only SQL"}
    for path, expected in pages.items():
        status, body = console.get(path, *alice)
        assert status == 200 and expected in body, path
    relays = console.get("/devices?verdict=relay", *alice)[1]
    assert "C027VREFFHAR" not in relays and "SN-OFFICE" not in relays
    audited = _audit(home, "who = 'alice@example.com' AND via = 'console'")
    assert {detail for *_, detail, _ in audited} >= set(pages)
    assert {outcome for *_, outcome in audited} == {"ok"}


def test_no_certificate_is_refused_and_audited(home, console):
    status, body = console.get("/devices")
    assert status == 401 and "pki issue-analyst NAME --p12" in body
    assert _audit(home, "who = 'unknown' AND detail = '/devices' AND outcome LIKE 'refused: %'")


def _audit_peer(home, peer: str) -> list[tuple]:
    return _audit(home, "peer = ?", (peer,), columns="who, via, action, outcome")


def test_a_certificate_from_another_ca_is_refused_in_the_handshake_and_audited(home, console, tmp_path):
    other = pki.CertificateAuthority.create(tmp_path / "other")
    key, cert = other.issue_client("mallory", pki.ROLE_ANALYST, dt.timedelta(days=1))
    mallory = _pem_files(tmp_path, "mallory", key, cert)
    with pytest.raises((ssl.SSLError, ConnectionError)):
        console.get("/", *mallory, source="127.0.0.4")
    [(who, via, action, outcome)] = _wait_for(lambda: _audit_peer(home, "127.0.0.4"))
    assert (who, via, action) == ("unknown", "console", "console-tls")
    assert outcome.startswith("refused: TLS handshake refused: the client certificate failed verification: ")
    assert "not issued by this collector's CA" in outcome


def test_a_flood_of_refused_handshakes_leaves_one_audit_row_a_minute_per_address(home, console, tmp_path):
    other = pki.CertificateAuthority.create(tmp_path / "other")
    key, cert = other.issue_client("scanner", pki.ROLE_ANALYST, dt.timedelta(days=1))
    scanner = _pem_files(tmp_path, "scanner", key, cert)
    for _ in range(15):
        with pytest.raises((ssl.SSLError, ConnectionError)):
            console.get("/", *scanner, source="127.0.0.5")
    with socket.create_connection(("127.0.0.1", console.port), source_address=("127.0.0.5", 0)) as plain:
        plain.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")  # plain HTTP on the HTTPS port
        plain.recv(100)
    assert len(_wait_for(lambda: _audit_peer(home, "127.0.0.5"))) == 1
    status, _ = console.get("/devices", source="127.0.0.5")  # the console still answers that address
    assert status == 401


def test_refused_handshakes_are_audited_once_per_address_a_minute_and_the_rest_counted():
    limit = RefusedHandshakes(audit=None, per_minute=3)
    assert limit.allow("10.0.0.1", 0.0) and not limit.allow("10.0.0.1", 59.0)
    assert limit.allow("10.0.0.2", 1.0) and limit.allow("10.0.0.3", 2.0)
    assert not limit.allow("10.0.0.4", 3.0)  # three rows this minute already
    assert limit.passed_over == 2
    assert limit.allow("10.0.0.4", 61.0) and limit.allow("10.0.0.1", 62.0)


def _wait_for(read, seconds: float = 10.0):
    """The audit row of a refused handshake is written after the connection is closed: poll for it."""
    deadline = time.monotonic() + seconds
    while not (found := read()) and time.monotonic() < deadline:
        time.sleep(0.05)
    return found


def test_an_agent_certificate_is_refused_and_audited(home, console, tmp_path):
    ca = pki.CertificateAuthority.load(home / "pki")
    key, cert = ca.issue_client("PFWCWBL5", pki.ROLE_AGENT, dt.timedelta(days=1))
    status, body = console.get("/devices", *_pem_files(tmp_path, "agent", key, cert))
    assert status == 403 and "agent certificates cannot use the console" in body
    assert _audit(home, "who = 'PFWCWBL5' AND via = 'console' AND outcome LIKE 'refused: agent certificates%'")


def test_a_revoked_analyst_is_refused_from_the_next_request_on_the_same_connection(home, console):
    cert, key, _ = issue_analyst(home, "bob")
    conn = console.connection(cert, key)
    try:
        assert request(conn, "/devices")[0] == 200
        collector(home, "pki", "revoke", "bob", "--reason", "left the company")
        status, body = request(conn, "/devices")
    finally:
        conn.close()
    assert status == 403 and "revoked" in body and "left the company" in body
    assert _audit(home, "who = 'bob' AND outcome LIKE 'refused: certificate % was revoked%'")


def test_the_identity_header_is_taken_only_from_the_trusted_proxy(home, console, alice):
    header = {IDENTITY_HEADER: "carol@example.com"}
    status, body = console.get("/devices", headers=header, source=TRUSTED_PROXY)
    assert status == 200 and "carol@example.com" in body
    assert _audit(home, "who = 'carol@example.com' AND via = 'console-proxy' AND outcome = 'ok'")
    forged = {IDENTITY_HEADER: "eve@example.com"}
    status, body = console.get("/devices", headers=forged)  # from 127.0.0.1: not a proxy
    assert status == 403 and "not a trusted proxy" in body
    status, _ = console.get("/devices", *alice, headers=forged)  # a certificate does not launder a header
    assert status == 403
    assert len(_audit(home, "who = 'eve@example.com' AND outcome LIKE 'refused: an identity header came from%'")) == 2
    status, body = console.get("/devices", source=TRUSTED_PROXY)  # the proxy forgot the header
    assert status == 401 and IDENTITY_HEADER.lower() in body


# -- pages and actions ---------------------------------------------------------------------------

def _token(body: str) -> str:
    return re.search(r'name="token" value="([0-9a-f]+)"', body)[1]


def _post(console, path: str, fields: dict, cert_key) -> tuple[int, str]:
    return console.get(path, *cert_key, method="POST", body=urllib.parse.urlencode(fields),
                       headers={"Content-Type": "application/x-www-form-urlencoded"})


def test_triage_from_the_device_page(home, console, alice):
    token = _token(console.get("/devices/C027VREFFHAR", *alice)[1])
    status, _ = _post(console, "/devices/C027VREFFHAR/triage",
                      {"token": token, "state": "investigating", "assignee": "alice", "note": "called IT"}, alice)
    assert status == 303
    page = console.get("/devices/C027VREFFHAR", *alice)[1]
    assert "called IT" in page and '<b class="state">investigating</b>' in page
    [flag, *_] = [f for f in json.loads(collector(home, "flags", "--json").stdout) if f["device_id"] == "C027VREFFHAR"]
    assert (flag["triage"], flag["assignee"]) == ("investigating", "alice")
    history = json.loads(collector(home, "triage", "C027VREFFHAR", "--json").stdout)["history"]
    assert (history[-1]["who"], history[-1]["via"]) == ("alice@example.com", "console")
    assert _audit(home, "action = 'triage' AND who = 'alice@example.com' AND via = 'console'")
    evidence = console.get("/devices/C027VREFFHAR/evidence", *alice)[1]  # facts about the laptop, no opinion
    assert "remote-control-running" in evidence and "called IT" not in evidence and "investigating" not in evidence


def test_triage_without_the_form_token_or_with_a_bad_state_changes_nothing(home, console, alice):
    before = json.loads(collector(home, "triage", "PFWCWBL5", "--json").stdout)["history"]
    status, body = _post(console, "/devices/PFWCWBL5/triage", {"state": "resolved"}, alice)
    assert status == 403 and "stale or came from another site" in body
    token = _token(console.get("/devices/PFWCWBL5", *alice)[1])
    status, body = _post(console, "/devices/PFWCWBL5/triage", {"token": token, "state": "closed"}, alice)
    assert status == 400 and "is not one of" in body
    assert json.loads(collector(home, "triage", "PFWCWBL5", "--json").stdout)["history"] == before
    assert _audit(home, "action = 'triage' AND outcome LIKE 'error: state %closed% is not one of%'")


def test_a_false_positive_shows_the_allow_list_diff(home, console, alice):
    token = _token(console.get("/devices/C027VREFFHAR", *alice)[1])
    _post(console, "/devices/C027VREFFHAR/triage", {"token": token, "state": "false-positive"}, alice)
    page = console.get("/devices/C027VREFFHAR", *alice)[1]
    assert "Allow-list suggestion" in page and "+[[allow]]" in page and "+tool = &#34;anydesk&#34;" in page


def test_devices_filters_search_sort_and_bad_input(console, alice):
    assert "PFWCWBL5" in console.get("/devices?search=pfwc", *alice)[1]
    assert "SN-OFFICE" not in console.get("/devices?search=pfwc", *alice)[1]
    assert "no device matches" in console.get("/devices?search=pfw_", *alice)[1]  # _ is a character, not a wildcard
    assert "C027VREFFHAR" in console.get("/devices?os=macos", *alice)[1]
    first, past_the_end = (console.get(f"/devices?verdict=relay&page={n}", *alice)[1] for n in (1, 9))
    assert re.search(r"\((\d+) matching\)", first)[1] == re.search(r"\((\d+) matching\)", past_the_end)[1] != "0"
    status, body = console.get("/devices?sort=nonsense", *alice)
    assert status == 400 and "sort must be one of" in body
    status, body = console.get("/devices?page=0", *alice)
    assert status == 400 and "page must be a whole number" in body
    assert console.get("/devices/NO-SUCH", *alice)[0] == 404


def test_a_person_search_finds_devices_stored_in_any_spelling_of_their_serial(tmp_path):
    """The search reads the roster's serials as they are, and spells over only the device ids stored
    unlike the roster (a partial index holds those): both kinds must be found, and nothing else."""
    store = Store(tmp_path / "farmwatch.sqlite")
    try:
        with sqlite3.connect(tmp_path / "farmwatch.sqlite") as conn:
            conn.executemany("INSERT INTO devices (device_id, hostname, score) VALUES (?, ?, ?)",
                             [("SN-PLAIN-1", "desk-1", 10), (" sn-odd-2", "desk-2", 20), ("SN-OTHER-3", "desk-3", 30)])
            conn.executemany("INSERT INTO roster (serial, email, user_name) VALUES (?, ?, ?)",
                             [("SN-PLAIN-1", "dana@example.com", "Dana Park"), ("SN-ODD-2", "dan@example.com", "Dan Roe"),
                              ("SN-OTHER-3", "erin@example.com", "Erin Lee")])
        rows, total = store.device_page(DeviceFilter(search="DAN"), "score", 0, 50)
        assert [row["device_id"] for row in rows] == [" sn-odd-2", "SN-PLAIN-1"] and total == 2
        assert [row["person"] for row in rows] == ["dan@example.com", "dana@example.com"]
        assert store.device_page(DeviceFilter(search="roe"), "score", 0, 50)[1] == 1
        assert store.device_page(DeviceFilter(search="desk-3"), "score", 0, 50)[0][0]["device_id"] == "SN-OTHER-3"
    finally:
        store.close()


def _sql(console, alice, fields: dict) -> tuple[int, str]:
    token = _token(console.get("/sql", *alice)[1])
    return _post(console, "/sql", {"token": token, **fields}, alice)


def test_sql_reads_exports_csv_and_refuses_a_write_with_a_clear_message(home, console, alice):
    status, body = _sql(console, alice, {"q": "SELECT device_id FROM devices ORDER BY 1"})
    assert status == 200 and "SN-FARM-1" in body and 'name="format" value="csv"' in body
    status, body = _sql(console, alice, {"q": "SELECT device_id FROM devices ORDER BY 1", "format": "csv"})
    assert status == 200 and body.splitlines()[0] == "device_id" and "PFWCWBL5" in body
    status, body = _sql(console, alice, {"q": "DELETE FROM devices"})
    assert status == 400 and "Refused:" in body
    assert collector(home, "devices", "--json").stdout.count('"device_id"') == 5
    [(_, _, _, _, outcome)] = _audit(home, "action = 'sql' AND detail LIKE '%DELETE%'")
    assert outcome.startswith("error: refused:")


def test_a_statement_in_a_link_is_shown_not_run(home, console, alice):
    status, body = console.get("/sql?q=" + urllib.parse.quote("SELECT 'ran' || 'now' AS x"), *alice)
    assert status == 200 and "SELECT &#39;ran&#39; || &#39;now&#39; AS x</textarea>" in body and "rannow" not in body


def test_a_cross_site_sql_post_is_refused_and_audited(home, console, alice):
    """Another site's page can make the analyst's browser post (with the certificate) but cannot read
    the console's pages, so it has no token: the statement does not run, and the attempt is audited."""
    for fields in ({"q": "SELECT count(*) FROM devices"}, {"q": "SELECT count(*) FROM devices", "token": "0" * 64,
                                                           "format": "csv"}):
        status, body = _post(console, "/sql", fields, alice)
        assert status == 403 and "stale or came from another site" in body
    refused = _audit(home, "action = 'sql' AND who = 'alice@example.com' AND outcome LIKE 'refused: this form is stale%'")
    assert [detail for _, _, _, detail, _ in refused] == ["/sql?q=SELECT+count%28%2A%29+FROM+devices",
                                                           "/sql?q=SELECT+count%28%2A%29+FROM+devices&format=csv"]


def test_a_console_on_a_taken_port_says_so_and_exits_1(home):
    import socket

    from collector_process import cli

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = cli("farmwatch-collector", "--home", home, "console", "--listen", f"127.0.0.1:{port}", check=False)
    assert result.returncode == 1 and "address already in use" in result.stderr
    assert "could not start on 127.0.0.1:" in result.stderr and "pass another --listen" in result.stderr
