"""Context rules: OS remote-access settings, input languages, probe gaps; and the report reader's
tolerance for what proto3 JSON leaves out."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from test_rules_support import DEVICE_ID, findings, only, report, verdict


@pytest.mark.parametrize("service, severity", [
    ("rdp", "medium"), ("screen_sharing", "medium"), ("Remote Management", "medium"), ("vnc", "medium"),
    ("gnome_remote_desktop", "medium"),
    # Windows Remote Assistance admits a helper only on the user's own invitation, and ships switched on
    ("remote_assistance", "low"), ("Remote Assistance", "low"),
    ("remote_login", "info"), ("ssh", "info"),
])
def test_os_remote_access_setting_weight(service, severity):
    rep = report("macos", remote_access=[{"service": service, "enabled": True}])
    finding = only(rep, "os-remote-access-enabled")
    assert (finding["severity"], finding["summary"]) == (severity, f"{service} is enabled in the OS")
    assert finding["evidence"] == {"setting": {"service": service, "enabled": True}}


def test_disabled_setting_is_silent():
    # proto3 JSON omits `enabled: false`
    assert findings(report("windows", remote_access=[{"service": "rdp"}]), "os-remote-access-enabled") == []


def test_korean_input_is_info_only():
    rep = report("macos", keyboard_layouts=["com.apple.keylayout.US", "com.apple.inputmethod.Korean.2SetKorean"],
                 locale="en_US")
    finding = only(rep, "input-language")
    assert finding["severity"] == "info"
    assert finding["evidence"]["values"] == ["com.apple.inputmethod.Korean.2SetKorean"]
    assert verdict(rep)["verdict"] == "clean"


@pytest.mark.parametrize("layouts, locale", [(["us", "de"], "de_DE"), (["com.apple.keylayout.British"], "en_GB"),
                                             (["00000409"], "en-US")])
def test_other_languages_are_not_flagged(layouts, locale):
    assert findings(report("linux", keyboard_layouts=layouts, locale=locale), "input-language") == []


def test_a_blind_probe_is_said_out_loud():
    rep = report("macos", probe_errors=[{"probe": "usb", "error": "ioreg not found"},
                                        {"probe": "host", "error": "no timezone"}],
                 agent_stats={"probes_skipped": ["displays"]})
    found = findings(rep, "probe-gap")
    assert [f["evidence"]["probe"] for f in found] == ["displays", "usb"]
    assert all(f["severity"] == "info" for f in found)


def test_an_empty_report_is_clean_and_keeps_its_device_id():
    assert verdict({"device_id": DEVICE_ID}) == {"device_id": DEVICE_ID, "verdict": "clean", "score": 0, "findings": []}
    assert verdict({})["device_id"] == ""


def test_an_envelope_is_unwrapped():
    inner = report("linux", sessions=[{"user": "a", "remote_host": "91.245.227.16"}])
    envelope = {"received_at": "2026-11-26T10:00:00Z", "peer_ip": "198.51.100.1", "report": inner}
    assert verdict(envelope) == verdict(inner)


def test_numbers_as_strings_and_unknown_os_are_tolerated():
    rep = report("Darwin", processes=[{"pid": "4120", "name": "AnyDesk", "exe": "/Applications/AnyDesk.app/Contents/MacOS/AnyDesk"}],
                 agent_stats={"rss_bytes": "52428800"})
    assert only(rep, "remote-control-running")["evidence"]["seen"][0]["object"]["pid"] == 4120
    full_path_name = report("windows", processes=[{"pid": 2, "name": r"C:\Tools\AnyDesk.exe"}])
    assert len(findings(full_path_name, "remote-control-running")) == 1
    unknown_os = report("plan9", processes=[{"pid": 1, "name": "AnyDesk.exe"}])
    assert len(findings(unknown_os, "remote-control-running")) == 1   # every OS's names are tried


def test_hex_product_codes_from_other_tools():
    rep = report("windows", displays=[{"connector": "DP-2", "manufacturer_id": "lnx", "product_code": "0x7773"}])
    assert only(rep, "display-kvm-edid")["evidence"]["display"]["product_code"] == "0x7773"


FIELDS = ["os", "name", "exe", "cmdline", "pid", "path", "bundle_id", "source", "vendor_id", "product_id",
          "manufacturer", "interfaces", "interface_class", "edid", "product_code", "monitor_name", "width_mm",
          "built_in", "connections", "listeners", "local_port", "remote_ip", "status", "ip_forwarding", "interfaces",
          "remote_host", "service", "enabled", "probe", "probes_skipped", "keyboard_layouts", "locale"]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=4), inner, max_size=4),
    max_leaves=16)
report_keys = st.sampled_from(["device_id", "host", "processes", "applications", "usb_devices", "displays", "network",
                               "sessions", "probe_errors", "agent_stats", "remote_access"])


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(report_keys, json_values, max_size=6))
def test_malformed_reports_never_crash_classify(garbage):
    result = verdict(garbage)
    assert result["verdict"] in ("clean", "suspicious", "relay") and 0 <= result["score"] <= 100
