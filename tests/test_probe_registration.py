"""A new probe is its module, its tests and its report field: the agent finds it, the scan puts
its result in the field it declares, and the collector knows the field from report.proto."""

from __future__ import annotations

import textwrap

import pytest
from google.protobuf import json_format

from farmwatch.agent.probes import OPERATING_SYSTEMS, PROBES, Probe, ProbeDeclarationError, discover
from farmwatch.agent.scan import build_report
from farmwatch.collector.detect.report import PROBE_FIELDS, field_value, read_report
from farmwatch.collector.detect.rules.context import DETECTION_PROBES
from farmwatch.v1 import report_pb2

THROWAWAY = '''
from farmwatch.agent.probes import Probe
from farmwatch.v1 import report_pb2


def collect(ctx):
    return [report_pb2.RemoteAccessSetting(service="throwaway-{os}", enabled=True)]


PROBE = Probe("throwaway", collect, field="remote_access", platforms=("linux",))
'''


def _package(tmp_path, monkeypatch, name: str, modules: dict[str, str]) -> str:
    package = tmp_path / name
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "_helper.py").write_text("PROBE = None  # private modules are never probes\n")
    for module, text in modules.items():
        (package / f"{module}.py").write_text(textwrap.dedent(text))
    monkeypatch.syspath_prepend(str(tmp_path))
    return name


def test_a_probe_module_is_found_and_its_result_lands_in_its_field(tmp_path, monkeypatch):
    package = _package(tmp_path, monkeypatch, "throwaway_probes", {"throwaway": THROWAWAY.replace("{os}", "a")})
    found = discover(package)
    assert list(found) == ["throwaway"]
    assert (found["throwaway"].field, found["throwaway"].platforms) == ("remote_access", ("linux",))
    monkeypatch.setitem(PROBES, "throwaway", found["throwaway"])  # registered as if it sat in agent/probes/
    (tmp_path / "root").mkdir()
    report = build_report(tmp_path / "root")
    assert [(s.service, s.enabled) for s in report.remote_access] == [("throwaway-a", True)]
    assert "throwaway" in report.agent_stats.probe_seconds


def test_probes_run_in_the_order_of_their_report_fields(tmp_path, monkeypatch):
    package = _package(tmp_path, monkeypatch, "ordered_probes", {
        "a_late": THROWAWAY.replace('"throwaway"', '"late"').replace('"remote_access"', '"sessions"'),
        "b_early": THROWAWAY.replace('"throwaway"', '"early"').replace('"remote_access"', '"host"'),
    })
    assert list(discover(package)) == ["early", "late"]


def test_a_probe_naming_a_field_the_report_lacks_is_refused(tmp_path, monkeypatch):
    package = _package(tmp_path, monkeypatch, "broken_probes", {
        "printers": THROWAWAY.replace('"remote_access"', '"printers"'),
    })
    with pytest.raises(ProbeDeclarationError, match="printers"):
        discover(package)


def test_the_registry_is_what_the_probe_modules_declare():
    assert discover() == PROBES
    assert all(isinstance(probe, Probe) and probe.name == name for name, probe in PROBES.items())
    # the collector recognises a probe's errors by its name: a probe is named after its field
    assert {name: p.field for name, p in PROBES.items() if name != p.field} == {"usb": "usb_devices"}


@pytest.mark.parametrize("name", list(PROBES))
def test_a_probe_declares_the_oses_its_collect_dispatches_to(name, monkeypatch):
    probe = PROBES[name]
    module = __import__(probe.collect.__module__, fromlist=["dispatch"])
    served = []
    monkeypatch.setattr(module, "dispatch", lambda ctx, empty, **by_os: served.extend(by_os))
    probe(None)
    assert tuple(served) == probe.platforms
    assert set(probe.platforms) <= set(OPERATING_SYSTEMS)


def test_the_collector_knows_every_probe_field_from_the_proto():
    assert set(PROBE_FIELDS) == {probe.field for probe in PROBES.values()}
    assert DETECTION_PROBES == {"processes", "applications", "usb", "usb_devices", "displays", "network", "sessions",
                                "remote_access"}


@pytest.mark.parametrize("form", ["message", "json"])
def test_a_rule_reads_any_probe_field_without_a_view_of_its_own(form):
    report = report_pb2.AgentReport(device_id="SN1")
    report.remote_access.add(service="screen-sharing", enabled=True)
    report.host.timezone = "Asia/Seoul"
    raw = report if form == "message" else json_format.MessageToDict(report, preserving_proto_field_name=True)
    view = read_report(raw)
    assert [field_value(s, "service") for s in view.entries("remote_access")] == ["screen-sharing"]
    assert field_value(view.section("host"), "timezone") == "Asia/Seoul"
    assert view.entries("sessions") == () and field_value(view.section("network"), "ip_forwarding") is None
