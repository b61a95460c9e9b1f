"""Flag exports against real receivers on 127.0.0.1: files, syslog over UDP and TCP, HTTP."""
from __future__ import annotations

import json
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from conftest import scenario_report
from farmwatch.collector import exports, ingest
from farmwatch.collector.config import CollectorConfig
from farmwatch.collector.exports import cef
from farmwatch.collector.exports.settings import ExportConfigError, build_sink, load
from farmwatch.collector.ingest import Store
from farmwatch.collector.storage import ExportBusy


BIN = Path(sys.executable).parent
CLASSIFY = ingest.classifier()
FAST = exports.RetryPolicy(attempts=4, backoff_seconds=0.01, backoff_cap_seconds=0.05)


@pytest.fixture
def home(tmp_path) -> Path:
    (tmp_path / "home").mkdir()  # on PostgreSQL, no database file makes it
    return tmp_path / "home"


@pytest.fixture
def store(home, engine):
    store = Store(CollectorConfig.load(home).database)  # the SQLite file, or $FARMWATCH_DATABASE_URL
    yield store
    store.close()


def report(store: Store, scenario: str, device_id: str, sequence: int = 1) -> None:
    store.ingest([ingest.prepare(scenario_report(scenario, device_id, sequence), peer_ip="198.51.100.20",
                                 classify=CLASSIFY)])


def events_of(store, cursor) -> list[tuple[str, str, str]]:
    return [(e.event, e.flag["device_id"], e.flag["rule"]) for e in cursor.pending(store)]


# -- what counts as new, changed, cleared ------------------------------------------------------

def test_flags_go_new_then_changed_then_cleared(store):
    report(store, "suspicious/win_anydesk_idle", "SN-1")
    report(store, "clean/linux_office_plain", "SN-CLEAN")
    cursor = exports.SinkCursor(store, "test")
    first = cursor.pending(store)
    assert {(e.event, e.flag["rule"]) for e in first} == {("new", "remote-control-running"),
                                                           ("new", "remote-tool-connected")}
    for event in first:
        cursor.mark(event)
    assert cursor.pending(store) == []

    report(store, "relay/win_anydesk_inbound_session", "SN-1", sequence=2)
    second = {(e.event, e.flag["rule"]): e for e in cursor.pending(store)}
    assert ("new", "remote-session-inbound") in second
    changed = second[("changed", "remote-control-running")]
    assert changed.flag["verdict"] == "relay"
    assert changed.previous == {"verdict": "suspicious", "severity": "high", "triage": "new"}
    assert list(second)[0] == ("new", "remote-session-inbound")  # the worst goes first
    for event in second.values():
        cursor.mark(event)

    report(store, "clean/linux_office_plain", "SN-1", sequence=3)
    cleared = cursor.pending(store)
    assert {e.event for e in cleared} == {"cleared"}
    assert {e.flag["rule"] for e in cleared} == {"remote-session-inbound", "remote-control-running",
                                                "remote-tool-connected"}
    assert all(e.flag["verdict"] == "clean" and e.previous["verdict"] == "relay" for e in cleared)


def test_a_repeated_report_with_a_new_source_port_is_not_a_new_flag(store):
    report(store, "relay/win_anydesk_inbound_session", "SN-2")
    cursor = exports.SinkCursor(store, "test")
    for event in cursor.pending(store):
        cursor.mark(event)
    again = scenario_report("relay/win_anydesk_inbound_session", "SN-2", sequence=2)
    again.network.connections[0].remote_port += 1
    store.ingest([ingest.prepare(again, peer_ip="198.51.100.20", classify=CLASSIFY)])
    assert cursor.pending(store) == []


def test_each_sink_has_its_own_cursor_kept_in_the_database(store):
    report(store, "relay/win_jetkvm", "SN-3")
    siem = exports.SinkCursor(store, "siem")
    for event in siem.pending(store):
        siem.mark(event)
    assert exports.SinkCursor(store, "siem").pending(store) == []  # a later run, same sink
    assert len(exports.SinkCursor(store, "chat").pending(store)) == len(exports.current_flags(store))
    siem.reset()
    assert len(exports.SinkCursor(store, "siem").pending(store)) == len(exports.current_flags(store))


def test_a_sink_is_sent_by_one_run_at_a_time_across_hosts(store, home):
    other_host = Store(CollectorConfig.load(home).database)  # another process, or another collector host
    try:
        with store.export_lease("siem"):
            with pytest.raises(ExportBusy, match="another export of siem is running"):
                with other_host.export_lease("siem"):
                    pass
            with other_host.export_lease("chat"):  # another sink, another lease
                pass
        with other_host.export_lease("siem"):  # released when its run ended
            pass
    finally:
        other_host.close()


# -- JSON lines --------------------------------------------------------------------------------

def test_jsonl_file_gets_each_event_once(store, tmp_path):
    report(store, "relay/win_jetkvm", "SN-4")
    out = tmp_path / "flags.jsonl"
    cursor = exports.SinkCursor(store, "file")
    sink = exports.JsonLinesSink(out)
    sent = exports.send_pending(store, cursor, sink, FAST)
    assert exports.send_pending(store, cursor, sink, FAST) == 0
    sink.close()
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(lines) == sent == len(exports.current_flags(store))
    assert {line["event"] for line in lines} == {"new"}
    assert all(line["device_id"] == "SN-4" and line["verdict"] == "relay" for line in lines)
    assert {"display-kvm-edid", "usb-ip-kvm"} <= {line["rule"] for line in lines}


def run_cli(home: Path, *args, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "farmwatch-collector"), "--home", str(home), *args], capture_output=True,
                          text=True, timeout=60, **kwargs)


def test_cli_jsonl_to_stdout_twice_prints_only_what_is_new(store, home):
    report(store, "suspicious/linux_frp_client", "SN-5")
    first = run_cli(home, "export", "jsonl")
    assert first.returncode == 0, first.stderr
    assert [json.loads(line)["rule"] for line in first.stdout.splitlines()] == ["tunnel-running"]
    second = run_cli(home, "export", "jsonl")
    assert (second.returncode, second.stdout) == (0, "")
    assert "exported 0 event(s) to jsonl:stdout" in second.stderr
    audit = store.rows("SELECT who, via, action, rows FROM audit ORDER BY id")
    assert [(a["via"], a["action"], a["rows"]) for a in audit] == [("cli", "export jsonl", 1),
                                                                 ("cli", "export jsonl", 0)]


def test_cli_export_refuses_while_another_run_sends_the_same_sink(store, home):
    report(store, "suspicious/linux_frp_client", "SN-6")
    with store.export_lease("jsonl:stdout"):
        busy = run_cli(home, "export", "jsonl")
    assert (busy.returncode, busy.stdout) == (1, "")
    assert "another export of jsonl:stdout is running" in busy.stderr and "--sink NAME" in busy.stderr
    after = run_cli(home, "export", "jsonl")  # nothing was marked sent by the refused run
    assert after.returncode == 0, after.stderr
    assert [json.loads(line)["rule"] for line in after.stdout.splitlines()] == ["tunnel-running"]


@pytest.mark.parametrize("stop_with", [signal.SIGTERM, signal.SIGINT])
def test_cli_jsonl_follow_streams_new_flags_and_stops_on_signal(store, home, stop_with):
    report(store, "suspicious/linux_frp_client", "SN-6")
    follower = subprocess.Popen(
        [str(BIN / "farmwatch-collector"), "--home", str(home), "export", "jsonl", "--follow", "--interval", "0.2"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert json.loads(follower.stdout.readline())["device_id"] == "SN-6"
        report(store, "relay/win_jetkvm", "SN-7")  # arrives while the exporter is following
        line = json.loads(follower.stdout.readline())
        assert (line["event"], line["device_id"]) == ("new", "SN-7")
        follower.send_signal(stop_with)
        _, err = follower.communicate(timeout=20)
    finally:
        follower.kill()
    assert follower.returncode == 0, err
    assert "exported" in err and "Traceback" not in err


# -- CEF over syslog ---------------------------------------------------------------------------

def test_cef_escapes_header_and_extension_characters():
    assert cef.escape_header(r"a|b\c") == r"a\|b\\c"
    assert cef.escape_value("a=b\\c|d\nnext") == "a\\=b\\\\c|d\\nnext"
    event = exports.FlagEvent("new", "k", {
        "device_id": "SN=1", "hostname": "h|1", "verdict": "relay", "score": 90, "rule": "remote-session-inbound",
        "severity": "critical", "summary": "Inbound AnyDesk | from C:\\Temp key=value", "evidence": {},
        "report_id": "r-1", "received_at": "2026-11-26T10:00:00.000Z"})
    text = cef.to_cef(event, version="1.2")
    header, extension = _split_cef(text)
    assert header == ["CEF:0", "farmwatch", "farmwatch-collector", "1.2", "remote-session-inbound",
                      "Inbound AnyDesk \\| from C:\\\\Temp key=value", "10"]
    assert "deviceExternalId=SN\\=1" in extension and "dvchost=h|1" in extension
    assert "msg=Inbound AnyDesk | from C:\\\\Temp key\\=value" in extension
    assert "rt=1795687200000" in extension and "act=new" in extension


def _split_cef(text: str) -> tuple[list[str], str]:
    """The seven header fields (split on unescaped pipes) and the extension."""
    fields, current, i = [], "", 0
    while len(fields) < 7:
        if text[i] == "\\":
            current += text[i:i + 2]
            i += 2
            continue
        if text[i] == "|":
            fields.append(current)
            current = ""
        else:
            current += text[i]
        i += 1
    return fields, text[i:]


@pytest.fixture
def udp_receiver():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as receiver:
        receiver.bind(("127.0.0.1", 0))
        receiver.settimeout(10)
        yield receiver


@pytest.mark.one_engine
def test_cef_rfc5424_over_udp(store, udp_receiver):
    report(store, "relay/win_jetkvm", "SN-8")
    sink = exports.SyslogSink("127.0.0.1", udp_receiver.getsockname()[1], hostname="collector-1")
    sent = exports.send_pending(store, exports.SinkCursor(store, sink.name), sink, FAST)
    messages = [udp_receiver.recv(65535).decode() for _ in range(sent)]
    assert sent == len(exports.current_flags(store))
    for message in messages:
        head, stamp, host, app, _pid, msgid, sd, body = message.split(" ", 7)
        pri, version = head[1:].split(">")
        assert int(pri) // 8 == cef.FACILITIES["auth"] and version == "1"
        assert stamp.endswith("Z") and (host, app, msgid, sd) == ("collector-1", "farmwatch", "flag", "-")
        assert body.startswith("CEF:0|farmwatch|farmwatch-collector|") and "deviceExternalId=SN-8" in body
    severities = {int(m[1:m.index(">")]) % 8 for m in messages}
    assert 2 in severities  # critical findings are syslog severity 2


@pytest.mark.one_engine
def test_cef_rfc3164_over_udp(store, udp_receiver):
    report(store, "suspicious/linux_frp_client", "SN-9")
    sink = exports.SyslogSink("127.0.0.1", udp_receiver.getsockname()[1], format="rfc3164", facility="local4",
                              hostname="collector-1")
    exports.send_pending(store, exports.SinkCursor(store, sink.name), sink, FAST)
    message = udp_receiver.recv(65535).decode()
    assert message.startswith(f"<{20 * 8 + 4}>")  # local4, warning (a medium finding)
    month, day, clock, host, tag = message[message.index(">") + 1:].split(" CEF:0|")[0].split()
    assert month in cef._MONTHS and 1 <= int(day) <= 31 and clock.count(":") == 2
    assert host == "collector-1" and tag.startswith("farmwatch[") and tag.endswith("]:")


class TcpReceiver:
    def __init__(self):
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.data = b""
        self.connections = 0
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            self.connections += 1
            with conn:
                while chunk := conn.recv(65536):
                    self.data += chunk

    def wait_for(self, size: int) -> bytes:
        deadline = time.monotonic() + 10
        while len(self.data) < size and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.data

    def close(self):
        self.server.close()


def octet_frames(data: bytes) -> list[str]:
    frames = []
    while data:
        length, _, rest = data.partition(b" ")
        frames.append(rest[:int(length)].decode())
        data = rest[int(length):]
    return frames


@pytest.mark.one_engine
def test_cef_over_tcp_is_octet_counted_on_one_connection(store):
    receiver = TcpReceiver()
    report(store, "relay/win_jetkvm", "SN-10")
    sink = exports.SyslogSink("127.0.0.1", receiver.port, transport="tcp")
    expected = [sink.frame(e) for e in exports.SinkCursor(store, "preview").pending(store)]
    sent = exports.send_pending(store, exports.SinkCursor(store, sink.name), sink, FAST)
    sink.close()
    frames = octet_frames(receiver.wait_for(sum(map(len, expected))))
    receiver.close()
    assert len(frames) == sent == len(expected) and receiver.connections == 1
    assert all(f.startswith("<") and " CEF:0|farmwatch|" in f for f in frames)


@pytest.mark.one_engine
def test_cef_over_tcp_rfc3164_is_newline_framed(store):
    receiver = TcpReceiver()
    report(store, "suspicious/linux_frp_client", "SN-11")
    sink = exports.SyslogSink("127.0.0.1", receiver.port, transport="tcp", format="rfc3164")
    exports.send_pending(store, exports.SinkCursor(store, sink.name), sink, FAST)
    sink.close()
    receiver.wait_for(1)
    time.sleep(0.1)
    receiver.close()
    lines = receiver.data.decode().splitlines()
    assert len(lines) == 1 and receiver.data.endswith(b"\n") and "CEF:0|" in lines[0]


def test_cef_to_a_closed_tcp_port_fails_and_keeps_events_pending(store):
    report(store, "suspicious/linux_frp_client", "SN-12")
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sink = exports.SyslogSink("127.0.0.1", port, transport="tcp")
    cursor = exports.SinkCursor(store, sink.name)
    with pytest.raises(exports.DeliveryError, match="127.0.0.1"):
        exports.send_pending(store, cursor, sink, FAST)
    assert len(exports.SinkCursor(store, sink.name).pending(store)) == 1


@pytest.mark.one_engine
def test_cef_over_udp_is_fire_and_forget_as_documented(store, capsys, monkeypatch):
    """Nothing tells a UDP sender its message was lost: to a closed port the event counts as sent.
    The help, the deploy guide and the examples say so and show TCP."""
    report(store, "suspicious/linux_frp_client", "SN-UDP")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sink = exports.SyslogSink("127.0.0.1", port)
    assert exports.send_pending(store, exports.SinkCursor(store, sink.name), sink, FAST) == 1
    assert exports.SinkCursor(store, sink.name).pending(store) == []
    monkeypatch.setenv("COLUMNS", "200")
    assert "UDP is fire-and-forget" in help_text(capsys, "export", "cef")
    repo = Path(__file__).resolve().parent.parent
    guide = (repo / "docs" / "deploy.md").read_text()
    section = guide[guide.index("### Exports to a SIEM"):guide.index("### Retention")]
    assert "fire-and-forget" in section and "export cef --follow --to siem.example.com:514 --tcp" in section
    assert "export cef --follow --to siem.example.com:514 --tcp" in (repo / "README.md").read_text()


@pytest.mark.one_engine
def test_cli_cef_over_udp(store, home, udp_receiver):
    report(store, "suspicious/linux_frp_client", "SN-13")
    result = run_cli(home, "export", "cef", "--to", f"127.0.0.1:{udp_receiver.getsockname()[1]}", "--rfc3164")
    assert result.returncode == 0, result.stderr
    message = udp_receiver.recv(65535).decode()
    assert "CEF:0|farmwatch|farmwatch-collector|" in message and "deviceExternalId=SN-13" in message
    assert " farmwatch[" in message  # the BSD syslog tag


# -- webhook -----------------------------------------------------------------------------------

class WebhookReceiver:
    """A real HTTP server answering the first requests with the given statuses, then 200; a 3xx
    answer points to `location`. Every request is recorded, whatever its method."""

    def __init__(self, failures: list[int] = (), retry_after: str | None = None, location: str | None = None,
                 pki_dir: Path | None = None):
        self.failures = list(failures)
        self.bodies, self.attempts, self.requests = [], [], []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.requests.append((self.command, self.path, self.headers.get("Authorization")))
                receiver.attempts.append((time.monotonic(), self.headers.get("Authorization")))
                status = receiver.failures.pop(0) if receiver.failures else 200
                if status == 200 and self.command == "POST":
                    receiver.bodies.append(json.loads(body))
                self.send_response(status)
                if retry_after and status == 429:
                    self.send_header("Retry-After", retry_after)
                if location and 300 <= status < 400:
                    self.send_header("Location", location)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_PUT = do_HEAD = do_POST

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if pki_dir:  # HTTPS with the collector's own server certificate
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(pki_dir / "server.crt", pki_dir / "server.key")
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        scheme = "https" if pki_dir else "http"
        self.url = f"{scheme}://127.0.0.1:{self.server.server_address[1]}/hooks/farmwatch"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def webhook_receiver(request):
    receiver = WebhookReceiver(*getattr(request, "param", ()))
    yield receiver
    receiver.close()


@pytest.mark.one_engine
@pytest.mark.parametrize("webhook_receiver", [([503, 502, 500],)], indirect=True)
def test_webhook_retries_server_errors_with_backoff_until_delivered(store, webhook_receiver):
    report(store, "suspicious/linux_frp_client", "SN-14")
    sink = exports.WebhookSink(webhook_receiver.url, headers={"Authorization": "Bearer t0ken"})
    sent = exports.send_pending(store, exports.SinkCursor(store, sink.name), sink, FAST)
    assert sent == 1 and len(webhook_receiver.attempts) == 4
    assert all(auth == "Bearer t0ken" for _, auth in webhook_receiver.attempts)
    [body] = webhook_receiver.bodies
    assert (body["event"], body["device_id"], body["rule"]) == ("new", "SN-14", "tunnel-running")


@pytest.mark.parametrize("webhook_receiver", [([503] * 10,)], indirect=True)
def test_webhook_gives_up_after_its_attempts_and_the_next_run_delivers(store, webhook_receiver):
    report(store, "suspicious/linux_frp_client", "SN-15")
    sink = exports.WebhookSink(webhook_receiver.url)
    with pytest.raises(exports.DeliveryError, match="503"):
        exports.send_pending(store, exports.SinkCursor(store, sink.name), sink, FAST)
    assert len(webhook_receiver.attempts) == FAST.attempts and not webhook_receiver.bodies
    webhook_receiver.failures.clear()
    assert exports.send_pending(store, exports.SinkCursor(store, sink.name), sink, FAST) == 1


@pytest.mark.one_engine
@pytest.mark.parametrize("webhook_receiver", [([400],)], indirect=True)
def test_webhook_client_error_is_not_retried(store, webhook_receiver):
    report(store, "suspicious/linux_frp_client", "SN-16")
    sink = exports.WebhookSink(webhook_receiver.url)
    with pytest.raises(exports.DeliveryError) as error:
        exports.send_pending(store, exports.SinkCursor(store, sink.name), sink, FAST)
    assert error.value.permanent and len(webhook_receiver.attempts) == 1


@pytest.mark.one_engine
@pytest.mark.parametrize("webhook_receiver", [([429], "1")], indirect=True)
def test_webhook_honours_retry_after(store, webhook_receiver):
    report(store, "suspicious/linux_frp_client", "SN-17")
    sink = exports.WebhookSink(webhook_receiver.url)
    policy = exports.RetryPolicy(attempts=3, backoff_seconds=0.01, backoff_cap_seconds=5)
    exports.send_pending(store, exports.SinkCursor(store, sink.name), sink, policy)
    (first, _), (second, _) = webhook_receiver.attempts
    assert second - first >= 0.95


def test_webhook_backoff_grows_exponentially():
    policy = exports.RetryPolicy(backoff_seconds=0.5, backoff_cap_seconds=4)
    backoff = policy.backoff()
    ceilings = []
    for _ in range(6):
        ceilings.append(backoff.ceiling())
        assert 0 <= backoff.next_delay() <= ceilings[-1]
    assert ceilings == [0.5, 1, 2, 4, 4, 4]


@pytest.mark.one_engine
def test_cli_webhook_from_collector_toml(store, home, webhook_receiver):
    report(store, "suspicious/linux_frp_client", "SN-18")
    (home / "collector.toml").write_text(
        f'[export]\nretries = 2\nbackoff_seconds = 0.01\n\n[export.webhook]\nurl = "{webhook_receiver.url}"\n'
        f'headers = {{ "X-Team" = "secops" }}\n')
    result = run_cli(home, "export", "webhook")
    assert result.returncode == 0, result.stderr
    assert [b["device_id"] for b in webhook_receiver.bodies] == ["SN-18"]
    # the URL's path often holds the receiver's secret: it stays out of the database and the output
    stored = store.rows("SELECT sink FROM export_cursor UNION ALL SELECT detail FROM audit")
    assert stored and not any("/hooks/farmwatch" in row["sink"] for row in stored)
    assert "/hooks/farmwatch" not in result.stderr


@pytest.mark.one_engine
def test_cli_webhook_failure_says_what_was_delivered(store, home):
    report(store, "suspicious/linux_frp_client", "SN-19")
    receiver = WebhookReceiver([404])
    try:
        result = run_cli(home, "export", "webhook", "--url", receiver.url, "--header", "Authorization: Bearer x")
    finally:
        receiver.close()
    assert result.returncode == 1
    assert "HTTP 404" in result.stderr and "0 event(s) were delivered" in result.stderr


@pytest.fixture
def elsewhere():
    """A second server, where a redirect would send the webhook."""
    receiver = WebhookReceiver()
    yield receiver
    receiver.close()


@pytest.mark.one_engine
@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_webhook_never_follows_a_redirect_and_retries_it_as_a_failure(store, elsewhere, status):
    report(store, "suspicious/linux_frp_client", "SN-REDIRECT")
    redirecting = WebhookReceiver([status] * 10, location=elsewhere.url.replace("/hooks/", "/steal/"))
    sink = exports.WebhookSink(redirecting.url, headers={"Authorization": "Bearer t0ken"})
    try:
        with pytest.raises(exports.DeliveryError, match=f"HTTP {status}.*redirect") as error:
            exports.send_pending(store, exports.SinkCursor(store, sink.name), sink, FAST)
    finally:
        redirecting.close()
    assert elsewhere.requests == []  # neither the event nor the bearer token went anywhere else
    assert not error.value.permanent and len(redirecting.attempts) == FAST.attempts  # retried, then reported
    assert len(exports.SinkCursor(store, sink.name).pending(store)) == 1  # still to deliver


@pytest.mark.one_engine
def test_webhook_over_https_trusts_its_ca_file_and_retries_past_a_redirect(store, elsewhere, collector_home):
    report(store, "suspicious/linux_frp_client", "SN-REDIRECT-TLS")
    receiver = WebhookReceiver([302], location=elsewhere.url, pki_dir=collector_home / "pki")
    sink = exports.WebhookSink(receiver.url, ca_file=str(collector_home / "pki" / "ca.crt"))
    try:
        assert exports.send_pending(store, exports.SinkCursor(store, sink.name), sink, FAST) == 1
    finally:
        receiver.close()
    assert [method for method, _, _ in receiver.requests] == ["POST", "POST"] and elsewhere.requests == []
    assert [b["device_id"] for b in receiver.bodies] == ["SN-REDIRECT-TLS"]


@pytest.mark.one_engine
def test_cli_webhook_reports_a_redirect_and_keeps_the_event(store, home, elsewhere):
    report(store, "suspicious/linux_frp_client", "SN-REDIRECT-CLI")
    redirecting = WebhookReceiver([302] * 10, location=elsewhere.url)
    try:
        result = run_cli(home, "export", "webhook", "--url", redirecting.url, "--retries", "2",
                         "--header", "Authorization: Bearer x")
    finally:
        redirecting.close()
    assert result.returncode == 1 and elsewhere.requests == []
    assert "HTTP 302" in result.stderr and "never follows redirects" in result.stderr
    assert "0 event(s) were delivered" in result.stderr and "/hooks/" not in result.stderr
    assert len(exports.SinkCursor(store, exports.WebhookSink(redirecting.url).name).pending(store)) == 1


# -- settings ----------------------------------------------------------------------------------

def test_settings_reject_unknown_keys_and_need_a_destination(tmp_path):
    path = tmp_path / "collector.toml"
    path.write_text('[export]\nretries = 0\n')
    with pytest.raises(ExportConfigError, match="retries of at least 1"):
        load(path)
    path.write_text('[export.cef]\nto = "siem:514"\nprotocol = "udp"\n')
    with pytest.raises(ExportConfigError, match="protocol"):
        load(path)
    with pytest.raises(ExportConfigError, match="--to"):
        build_sink("cef", load(tmp_path / "absent.toml"), {})
    with pytest.raises(ExportConfigError, match="HOST:PORT"):
        build_sink("cef", load(tmp_path / "absent.toml"), {"to": "siem.example.com"})
    with pytest.raises(ExportConfigError, match="cannot open the jsonl sink"):
        build_sink("jsonl", load(tmp_path / "absent.toml"), {"output": str(tmp_path / "no" / "such" / "dir.jsonl")})
    path.write_text('[export.cef]\nto = "siem.example.com:6514"\ntransport = "tcp"\n')
    sink = build_sink("cef", load(path), {"format": "rfc3164"})
    assert (sink.host, sink.port, sink.transport, sink.format) == ("siem.example.com", 6514, "tcp", "rfc3164")


def test_example_config_documents_the_export_section(tmp_path):
    example = Path(__file__).resolve().parent.parent / "collector" / "collector.example.toml"
    assert load(example).retry.attempts >= 1  # loads as shipped, sinks commented out
    # every documented sink setting is valid once uncommented
    text = example.read_text()
    section = text[text.index("[export]"):]
    uncommented = tmp_path / "collector.toml"
    uncommented.write_text("\n".join(line[2:] if line.startswith("# ") and ("=" in line or "[export." in line)
                                      else line for line in section.splitlines()))
    settings = load(uncommented)
    for kind in ("jsonl", "cef", "webhook"):
        assert settings.sinks[kind], kind
    cef_sink = build_sink("cef", settings, {})
    assert (cef_sink.host, cef_sink.transport) == ("siem.example.com", "tcp")  # the example prefers TCP
    assert build_sink("webhook", settings, {}).headers == {"Authorization": "Bearer ..."}


# -- a sink is its module: registered once, it is in collector.toml's checks and in `export` ---------

class MemoSink:
    """A sink that keeps what it was sent, as a new sink module would declare one."""

    def __init__(self, colour: str, tries: int):
        self.colour, self.tries, self.sent = colour, tries, []

    @property
    def name(self) -> str:
        return f"memo:{self.colour}"

    def send(self, event) -> None:
        self.sent.append(event)

    def close(self) -> None:
        pass


@pytest.fixture
def memo_sinks():
    built = []

    def build(values: dict) -> MemoSink:
        built.append(MemoSink(values["colour"], values["tries"]))
        return built[-1]

    spec = exports.register(exports.SinkSpec(
        kind="memo", help="keep events in memory (a test's sink)",
        example="farmwatch-collector export memo --colour red",
        settings=(exports.Setting("colour", help="which memo to keep them in", required="say which memo",
                                  flag=exports.Flag("--colour", "NAME")),
                  exports.Setting("tries", int, default=3, help="how often to try (default 3)",
                                  flag=exports.Flag("--tries", value="count"))),
        build=build))
    yield built
    exports.registry.unregister(spec.kind)


def help_text(capsys, *args) -> str:
    from farmwatch.collector import cli

    with pytest.raises(SystemExit) as exit:
        cli.main([*args, "--help"])
    assert exit.value.code == 0
    return capsys.readouterr().out


def test_a_registered_sink_is_an_export_command_with_its_flags(memo_sinks, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")  # help lines unwrapped
    assert "memo      keep events in memory (a test's sink)" in help_text(capsys, "export")
    text = help_text(capsys, "export", "memo")
    assert "--colour NAME" in text and "which memo to keep them in" in text
    assert "--tries TRIES" in text and "--follow" in text and "--retries N" in text
    assert "example:\n  farmwatch-collector export memo --colour red" in text
    assert text.index("--retries") < text.index("--colour") < text.index("--tries")  # the spec's order
    assert "memo" not in help_text(capsys, "export", "cef")


def test_a_registered_sink_is_checked_in_collector_toml(memo_sinks, tmp_path):
    path = tmp_path / "collector.toml"
    path.write_text('[export.memo]\ncolour = "red"\nshade = "dark"\n')
    with pytest.raises(ExportConfigError, match=r"unknown \[export.memo\] setting\(s\) shade"):
        load(path)
    path.write_text('[export.memo]\ncolour = "red"\n')
    assert load(path).sinks["memo"] == {"colour": "red"}
    sink = build_sink("memo", load(path), {"colour": None, "tries": None})
    assert (sink.name, sink.tries) == ("memo:red", 3)  # the default, typed as declared
    assert build_sink("memo", load(path), {"colour": "blue", "tries": 2}).name == "memo:blue"  # flags win
    with pytest.raises(ExportConfigError, match=r"say which memo: --colour NAME, or `colour` in \[export.memo\]"):
        build_sink("memo", load(tmp_path / "absent.toml"), {})


def test_an_unregistered_sink_is_an_unknown_setting(tmp_path):
    path = tmp_path / "collector.toml"
    path.write_text('[export.memo]\ncolour = "red"\n')
    with pytest.raises(ExportConfigError, match=r"unknown \[export\] setting\(s\) memo"):
        load(path)


def test_a_registered_sink_exports_from_the_command_line(memo_sinks, store, home, capsys):
    from farmwatch.collector import cli

    report(store, "suspicious/linux_frp_client", "SN-MEMO")
    assert cli.main(["--home", str(home), "export", "memo", "--colour", "green", "--tries", "2"]) == 0
    [sink] = memo_sinks
    assert (sink.colour, sink.tries) == ("green", 2)
    assert [e.flag["device_id"] for e in sink.sent] == ["SN-MEMO"]
    assert "exported 1 event(s) to memo:green" in capsys.readouterr().err
