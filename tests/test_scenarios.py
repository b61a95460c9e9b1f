"""The scenario corpus (tests/scenarios): contract-valid, reproducible, and classified as declared."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from collections import Counter
from pathlib import Path

import pytest
from google.protobuf import json_format

from farmwatch.v1 import report_pb2

CORPUS = Path(__file__).resolve().parent / "scenarios"
BUILDER = CORPUS / "build.py"
VERDICT_FOLDERS = ("relay", "suspicious", "clean")
ALLOWLISTED = CORPUS / "allowlisted"
OSES = {"linux", "macos", "windows"}
MIN_TOTAL = 40
MIN_PER_VERDICT = {"relay": 15, "suspicious": 15, "clean": 10}

DECLARED = sorted(path for folder in VERDICT_FOLDERS for path in (CORPUS / folder).glob("*.json"))
ALLOWED = sorted(ALLOWLISTED.glob("*.json"))
EVERY_FILE = DECLARED + ALLOWED


def scenario_id(path: Path) -> str:
    return f"{path.parent.name}/{path.stem}"


def load_report(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


# --- (1) contract -------------------------------------------------------------------------------

@pytest.mark.parametrize("path", EVERY_FILE, ids=scenario_id)
def test_scenario_is_a_contract_report(path):
    text = path.read_text(encoding="utf-8")
    report = json_format.Parse(text, report_pb2.AgentReport())     # unknown fields raise
    assert report.device_id == report.host.serial_number
    assert report.host.os in OSES
    assert report.report_id and report.collected_at.seconds > report.host.boot_time.seconds
    assert len(report.processes) >= 150, "a base laptop runs a believable number of processes"
    # the same content `farmwatch-agent scan` would print for this message (map order aside)
    printed = json_format.MessageToJson(report, preserving_proto_field_name=True, indent=1)
    assert json.loads(printed) == json.loads(text)


@pytest.mark.parametrize("path", EVERY_FILE, ids=scenario_id)
def test_sockets_and_parents_point_at_real_processes(path):
    report = load_report(path)
    pids = {p.get("pid", 0): p["name"] for p in report["processes"]}
    assert len(pids) == len(report["processes"]), "pids are unique"
    assert all(p.get("ppid", 0) in pids for p in report["processes"] if p.get("ppid", 0)), "0: no parent"
    for socket in report["network"].get("connections", []) + report["network"].get("listeners", []):
        assert pids[socket["pid"]] == socket["process_name"]


def edid_identity(blob: bytes) -> tuple[str, int, int, str]:
    """PNP id (none when its letters are invalid, as the agent reports it), product code, numeric serial
    and monitor name, read straight from an EDID base block; extension blocks follow it, each checksummed."""
    assert len(blob) == 128 * (1 + blob[126]) and blob[:8] == bytes.fromhex("00ffffffffffff00")
    assert all(sum(blob[i:i + 128]) % 256 == 0 for i in range(0, len(blob), 128))
    word = int.from_bytes(blob[8:10], "big")
    codes = [word >> shift & 0x1F for shift in (10, 5, 0)]
    pnp = "".join(chr(64 + c) for c in codes) if all(1 <= c <= 26 for c in codes) else ""
    names = [blob[o + 5:o + 18].split(b"\n")[0].decode().strip() for o in (54, 72, 90, 108)
             if blob[o:o + 4] == b"\x00\x00\x00\xfc"]
    return pnp, int.from_bytes(blob[10:12], "little"), int.from_bytes(blob[12:16], "little"), "".join(names)


@pytest.mark.parametrize("path", EVERY_FILE, ids=scenario_id)
def test_display_fields_agree_with_their_edid(path):
    report = json_format.Parse(path.read_text(encoding="utf-8"), report_pb2.AgentReport())
    assert any(d.built_in for d in report.displays)
    for display in report.displays:
        if not display.edid:  # the OS decoded the identity and kept the bytes (Apple silicon's system_profiler)
            assert not (display.width_mm or display.serial_string), display.connector
            continue
        fields = (display.manufacturer_id, display.product_code, display.serial_number, display.monitor_name)
        assert edid_identity(display.edid) == fields, display.connector


def test_report_ids_and_serials_are_unique_across_the_corpus():
    reports = [load_report(path) for path in EVERY_FILE]
    for field in ("report_id", "device_id"):
        counts = Counter(r[field] for r in reports)
        assert [v for v, n in counts.items() if n > 1] == [], field


# --- (2) reproducible ---------------------------------------------------------------------------

def test_builder_regenerates_the_committed_corpus_and_readme(tmp_path):
    subprocess.run([sys.executable, str(BUILDER), "--out", str(tmp_path)], check=True, capture_output=True)
    built = {p.relative_to(tmp_path): p.read_bytes() for p in [*tmp_path.glob("*/*.json"), tmp_path / "README.md"]}
    committed = {p.relative_to(CORPUS): p.read_bytes() for p in [*EVERY_FILE, CORPUS / "README.md"]}
    assert sorted(built) == sorted(committed)
    differing = [str(name) for name in built if built[name] != committed[name]]
    assert differing == [], "rerun tests/scenarios/build.py and commit the result"


def test_readme_table_lists_every_scenario():
    readme = (CORPUS / "README.md").read_text(encoding="utf-8")
    for path in EVERY_FILE:
        assert f"| {path.parent.name} | `{path.stem}` |" in readme


# --- (3) classification -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def detect():
    module = pytest.importorskip("farmwatch.collector.detect", reason="detect package not available yet")
    if not hasattr(module, "classify"):
        pytest.skip("farmwatch.collector.detect.classify not available yet")
    return module


def explain(result: dict) -> str:
    lines = [f"got {result['verdict']} (score {result['score']})"]
    lines += [f"  {f['severity']:8} {f['rule']}: {f['summary']}" for f in result["findings"]]
    return "\n".join(lines)


@pytest.mark.parametrize("path", DECLARED, ids=scenario_id)
def test_classify_gives_the_declared_verdict(detect, path):
    result = detect.classify(load_report(path)).to_dict()
    assert result["verdict"] == path.parent.name, explain(result)


@pytest.fixture(scope="module")
def company_policy(detect):
    config = tomllib.loads((ALLOWLISTED / "collector.toml").read_text(encoding="utf-8"))
    return detect.Policy.from_config(config)


@pytest.mark.parametrize("path", ALLOWED, ids=scenario_id)
def test_allowlisted_tool_is_clean_under_the_company_policy(detect, company_policy, path):
    result = detect.classify(load_report(path), policy=company_policy).to_dict()
    assert result["verdict"] == "clean", explain(result)
    assert result["findings"], "allowed evidence is still shown"


@pytest.mark.parametrize("path", ALLOWED, ids=scenario_id)
def test_allowlisted_tool_is_not_clean_without_the_policy(detect, path):
    result = detect.classify(load_report(path)).to_dict()
    assert result["verdict"] != "clean", explain(result)


# --- (4) size and spread ------------------------------------------------------------------------

def test_corpus_is_large_enough_in_every_verdict():
    per_verdict = Counter(path.parent.name for path in DECLARED)
    assert sum(per_verdict.values()) >= MIN_TOTAL
    for verdict, minimum in MIN_PER_VERDICT.items():
        assert per_verdict[verdict] >= minimum, verdict


@pytest.mark.parametrize("verdict", VERDICT_FOLDERS)
def test_every_verdict_has_laptops_of_every_os(verdict):
    oses = {load_report(path)["host"]["os"] for path in (CORPUS / verdict).glob("*.json")}
    assert oses == OSES
