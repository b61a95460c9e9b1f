"""Scoring, verdicts and the allow-list."""

from __future__ import annotations

import re
import tomllib

import pytest

from farmwatch.collector.detect.catalogue import load_catalogue
from farmwatch.collector.detect import (LOW_SIGNAL_CAP, RELAY_AT, SEVERITY_WEIGHTS, SUSPICIOUS_AT, Finding, Policy,
                                        classify, policy, score_findings, verdict_for)
from test_rules_support import (HID, KEYBOARD, MOUSE, STORAGE, application, connection, display, findings, process,
                                report, usb, verdict)

TV_EXE = r"C:\Program Files\TeamViewer\TeamViewer.exe"
TEAMVIEWER = process(500, "TeamViewer.exe", TV_EXE, signer="TeamViewer Germany GmbH")
TV_SESSION = process(501, "TeamViewer_Desktop.exe", r"C:\Program Files\TeamViewer\TeamViewer_Desktop.exe",
                     [r"C:\Program Files\TeamViewer\TeamViewer_Desktop.exe", "--IPCport", "5939", "--Module", "1"])
ANYDESK = process(4120, "AnyDesk.exe", r"C:\Program Files (x86)\AnyDesk\AnyDesk.exe")
PIKVM = usb("1d6b", "0104", KEYBOARD, HID, MOUSE, STORAGE, manufacturer="PiKVM", product="PiKVM Composite Device")


def finding(severity: str, allowed: bool = False) -> Finding:
    return Finding("some-rule", severity, "x", {"allowed": True} if allowed else {})


# --- thresholds -----------------------------------------------------------------------------

@pytest.mark.parametrize("score, expected", [(0, "clean"), (SUSPICIOUS_AT - 1, "clean"), (SUSPICIOUS_AT, "suspicious"),
                                             (RELAY_AT - 1, "suspicious"), (RELAY_AT, "relay"), (100, "relay")])
def test_thresholds(score, expected):
    assert verdict_for(score) == expected


def test_weights_are_ordered_by_severity():
    weights = [SEVERITY_WEIGHTS[s] for s in ("info", "low", "medium", "high", "critical")]
    assert weights == sorted(weights) and weights[0] == 0
    assert SEVERITY_WEIGHTS["critical"] >= RELAY_AT > SEVERITY_WEIGHTS["high"] >= SUSPICIOUS_AT


def test_weak_signals_corroborate_but_never_alarm_alone():
    assert score_findings([finding("low")] * 10) == LOW_SIGNAL_CAP < SUSPICIOUS_AT
    assert score_findings([finding("info")] * 10) == 0


def test_without_a_critical_finding_the_score_stays_below_relay():
    capabilities = [finding("high")] * 3 + [finding("medium")] * 3
    assert score_findings(capabilities) == RELAY_AT - 1
    assert score_findings(capabilities + [finding("critical")]) == 100


def test_allowed_findings_add_nothing():
    assert score_findings([finding("critical", allowed=True), finding("medium")]) == SEVERITY_WEIGHTS["medium"]


# --- verdicts on reports --------------------------------------------------------------------

def test_one_weak_signal_is_never_relay():
    for rep in (report("windows", processes=[ANYDESK]),
                report("linux", sessions=[{"user": "a", "remote_host": "91.245.227.16"}]),
                report("windows", usb_devices=[usb("0e90", "0028", MOUSE)])):
        assert verdict(rep)["verdict"] != "relay"


def test_an_ip_kvm_alone_makes_relay():
    result = verdict(report("macos", usb_devices=[PIKVM]))
    assert (result["verdict"], result["score"]) == ("relay", 100)


def test_a_kvm_edid_alone_makes_relay():
    assert verdict(report("windows", displays=[display("LNX", 0x7773, "PiKVM V4 Plus")]))["verdict"] == "relay"


def test_remote_tool_with_an_inbound_session_makes_relay():
    idle = report("windows", processes=[ANYDESK])
    live = report("windows", processes=[ANYDESK],
                  connections=[connection("192.168.1.20:7070", "198.51.100.77:50412", 4120, "AnyDesk.exe")])
    assert verdict(idle)["verdict"] == "suspicious"
    assert verdict(live)["verdict"] == "relay"


def test_findings_come_strongest_first_and_match_the_contract_shape():
    result = verdict(report("windows", processes=[ANYDESK], usb_devices=[PIKVM]))
    assert set(result) == {"device_id", "verdict", "score", "findings"}
    severities = [f["severity"] for f in result["findings"]]
    order = ["critical", "high", "medium", "low", "info"]
    assert severities == sorted(severities, key=order.index)
    for f in result["findings"]:
        assert set(f) == {"rule", "severity", "summary", "evidence"} and f["summary"] and "{" not in f["summary"]


# --- the allow-list -------------------------------------------------------------------------

HELPDESK = {"allow": [{"tool": "teamviewer", "path": "C:\\Program Files\\TeamViewer\\*", "groups": ["helpdesk"],
                       "reason": "IT help desk"}]}


def test_docstring_example_parses():
    example = re.search(r"```toml\n(.*?)```", policy.__doc__, re.S).group(1)
    parsed = Policy.from_config(tomllib.loads(example), load_catalogue())
    assert [(e.target, e.id) for e in parsed.entries] == [
        ("tool", "teamviewer"), ("hardware", "pikvm-usb-manufacturer"), ("hardware", "usb:256c:006d"),
        ("rule", "ip-forwarding")]


def test_allowed_tool_is_shown_marked_and_weighs_nothing():
    rep = report("windows", processes=[TEAMVIEWER])
    allowed = classify(rep, Policy.from_config(HELPDESK), device_group="helpdesk").to_dict()
    unallowed = classify(rep).to_dict()
    running = [f for f in allowed["findings"] if f["rule"] == "remote-control-running"][0]
    assert running["evidence"]["allowed"] is True
    assert running["evidence"]["allowed_by"] == {"tool": "teamviewer", "paths": ["C:\\Program Files\\TeamViewer\\*"],
                                                 "groups": ["helpdesk"], "reason": "IT help desk"}
    assert (allowed["verdict"], allowed["score"]) == ("clean", 0)
    assert unallowed["verdict"] == "suspicious"
    assert [f["rule"] for f in allowed["findings"]] == [f["rule"] for f in unallowed["findings"]]


def test_allowed_evidence_leaves_the_rest_of_the_score_unchanged():
    rep = report("windows", processes=[TEAMVIEWER, ANYDESK])
    helpdesk = Policy.from_config(HELPDESK).for_device("helpdesk")
    with_allow = classify(rep, helpdesk).score
    anydesk_only = classify(report("windows", processes=[ANYDESK])).score
    assert with_allow == anydesk_only


def test_entry_applies_only_to_its_groups():
    rep = report("windows", processes=[TEAMVIEWER])
    helpdesk = Policy.from_config(HELPDESK)
    assert classify(rep, helpdesk, device_group="sales").verdict == "suspicious"
    assert classify(rep, helpdesk).verdict == "suspicious"
    assert helpdesk.for_device("sales").entries == ()


def test_a_copy_outside_the_allowed_path_is_not_allowed():
    portable = process(600, "TeamViewer.exe", r"C:\Users\bob\Downloads\TeamViewer.exe")
    everyone = Policy.from_config({"allow": [{"tool": "teamviewer", "paths": ["C:\\Program Files\\TeamViewer\\*"]}]})
    found = findings(report("windows", processes=[portable]), "remote-control-running", everyone)
    assert "allowed" not in found[0]["evidence"]


def test_signer_narrows_an_entry():
    signed = Policy.from_config({"allow": [{"tool": "teamviewer", "signer": "TeamViewer Germany GmbH"}]})
    wrong = Policy.from_config({"allow": [{"tool": "teamviewer", "signer": "Someone Else"}]})
    rep = report("windows", processes=[TEAMVIEWER])
    assert classify(rep, signed).score == 0
    assert classify(rep, wrong).score > 0


def test_live_sessions_need_an_explicit_sessions_flag():
    rep = report("windows", processes=[TEAMVIEWER, TV_SESSION])
    presence_only = Policy.from_config({"allow": [{"tool": "teamviewer", "path": "C:\\Program Files\\TeamViewer\\*"}]})
    with_sessions = Policy.from_config({"allow": [{"tool": "teamviewer", "path": "C:\\Program Files\\TeamViewer\\*",
                                                   "sessions": True}]})
    assert classify(rep, presence_only).verdict == "relay"
    assert classify(rep, with_sessions).verdict == "clean"


def test_hardware_and_rule_entries():
    lab = Policy.from_config({"allow": [{"hardware": "pikvm-usb-manufacturer", "groups": ["hw-lab"]}]})
    rep = report("linux", usb_devices=[PIKVM])
    kvm = [f for f in classify(rep, lab, device_group="hw-lab").findings if f.rule == "usb-ip-kvm"][0]
    assert kvm.allowed
    forwarding = Policy.from_config({"allow": [{"rule": "ip-forwarding"}]})
    routed = report("linux", ip_forwarding=True, interfaces=[{"name": "eth0"}])
    assert classify(routed, forwarding).score == 0 < classify(routed).score


def test_installed_tool_allowed_by_its_install_folder():
    rep = report("windows", applications=[application("TeamViewer", r"C:\Program Files\TeamViewer")])
    assert classify(rep, Policy.from_config(HELPDESK), device_group="helpdesk").score == 0


@pytest.mark.parametrize("cfg, message", [
    ({"allow": {"tool": "teamviewer"}}, "must be a list"),
    ({"allow": [{"tool": "teamviewer", "hardware": "pikvm-usb-manufacturer"}]}, "allow[0]: name exactly one"),
    ({"allow": [{"groups": ["x"]}]}, "allow[0]: name exactly one"),
    ({"allow": [{"tool": "teamviewer", "pth": "C:\\x"}]}, "allow[0]: unknown key(s) pth"),
    ({"allow": [{"tool": "teamviewer", "sessions": "yes"}]}, "'sessions' must be true or false"),
    ({"allow": [{"tool": "teamviewer"}, {"tool": "teamveiwer"}]}, "allow[1]: no tool 'teamveiwer' in the signature catalogue"),
])
def test_malformed_allow_entries_are_refused_with_their_index(cfg, message):
    with pytest.raises(ValueError) as raised:
        Policy.from_config(cfg, load_catalogue())
    assert message in str(raised.value)


def test_no_allow_section_is_an_empty_policy():
    assert Policy.from_config({}).entries == ()


def test_a_device_flagged_by_a_heuristic_can_be_sanctioned_by_its_id():
    tablet = usb("256c", "006d", KEYBOARD, MOUSE, STORAGE, manufacturer="HUION", product="Tablet")
    rep = report("macos", usb_devices=[tablet])
    sanctioned = Policy.from_config({"allow": [{"hardware": "usb:256c:006d", "reason": "pen tablet"}]}, load_catalogue())
    assert classify(rep).verdict == "suspicious"
    assert classify(rep, sanctioned).verdict == "clean"
    other = report("macos", usb_devices=[usb("256c", "0064", KEYBOARD, MOUSE, STORAGE)])
    assert classify(other, sanctioned).verdict == "suspicious"


def test_signature_findings_can_be_sanctioned_by_device_id_too():
    lab = Policy.from_config({"allow": [{"hardware": "usb:1d6b:0104"}]})
    kvm = [f for f in classify(report("linux", usb_devices=[PIKVM]), lab).findings if f.rule == "usb-ip-kvm"][0]
    assert kvm.allowed
