"""Fuzz `Report` against a live collector: random messages, stressed valid ones, mutated bytes.

For every case: the call ends with a defined status (never UNKNOWN or INTERNAL), a refused report
leaves every table as it was, an accepted one is stored, and the collector still serves a good
report afterwards. Bounded by max_examples so it stays well under a minute; the number of cases
run shows in the figures at the end of the run.
"""
from __future__ import annotations

import functools
import uuid

import grpc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import figures
from conftest import RunningCollector, scenario_report
from db_snapshot import table_counts
from farmwatch.collector import pki
from farmwatch.v1 import collector_pb2, query_pb2, report_pb2
from proto_strategies import messages, odd_text

DEVICE = "SN-FUZZ"
DEFINED = {grpc.StatusCode.OK, grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.RESOURCE_EXHAUSTED,
           grpc.StatusCode.PERMISSION_DENIED}


def fuzz(cases: int) -> settings:
    return settings(max_examples=cases, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


class LiveTarget:
    """The enrolled fuzz device's view of a running collector: raw bytes in, a status out."""

    def __init__(self, collector: RunningCollector):
        self.collector = collector
        self.channel = collector.channel(collector.enroll(DEVICE))
        self._report = self.channel.unary_unary("/farmwatch.v1.Collector/Report")  # bytes, unserialized

    def send(self, payload: bytes, kind: str) -> grpc.StatusCode:
        before = table_counts(self.collector.store)
        ack = None
        try:
            ack = collector_pb2.ReportAck.FromString(self._report(payload, timeout=30))
            code = grpc.StatusCode.OK
        except grpc.RpcError as error:
            code = error.code()
            assert code in DEFINED, f"{kind}: {code.name} {error.details()}"
        figures.count("fuzz: cases run", kind)
        figures.count("fuzz: statuses", code.name if not (ack and ack.send_full) else "OK, send it in full")
        if ack is not None and ack.send_full:  # a delta the collector cannot prove: nothing stored
            assert table_counts(self.collector.store) == before, f"{kind}: a delta sent back left rows"
        elif code == grpc.StatusCode.OK:
            self._assert_stored(payload)
        else:
            assert table_counts(self.collector.store) == before, f"{kind}: a refused report left rows"
        return code

    def _assert_stored(self, payload: bytes) -> None:
        report = report_pb2.AgentReport.FromString(payload)
        stored_id = str(uuid.UUID(report.report_id))  # the collector keeps one spelling per UUID
        rows = self.collector.store.rows("SELECT device_id FROM reports WHERE report_id = ?", (stored_id,))
        assert rows == [{"device_id": DEVICE}]

    def assert_still_serving(self) -> None:
        assert self.send(valid_report().SerializeToString(), "control") == grpc.StatusCode.OK


@pytest.fixture(scope="module")
def target(tmp_path_factory):
    home = tmp_path_factory.mktemp("fuzz") / "collector"
    pki.CertificateAuthority.create(home / "pki").issue_server(["localhost", "127.0.0.1"])
    collector = RunningCollector(home)
    live = LiveTarget(collector)
    yield live
    live.channel.close()
    collector.stop()


@functools.cache
def _scenario_bytes() -> bytes:
    return scenario_report("relay/linux_tinypilot", DEVICE).SerializeToString()


def valid_report() -> report_pb2.AgentReport:
    """A real relay laptop's report from the fuzz device, with a fresh report_id."""
    report = report_pb2.AgentReport.FromString(_scenario_bytes())
    report.report_id = str(uuid.uuid4())
    return report


def aimed(report: report_pb2.AgentReport, report_id: uuid.UUID) -> report_pb2.AgentReport:
    """Give a random report our device id and a UUID, so it gets past the identity checks."""
    report.device_id, report.report_id = DEVICE, str(report_id)
    return report


def test_random_reports(target):
    @fuzz(150)
    @given(report=messages(report_pb2.AgentReport.DESCRIPTOR), report_id=st.uuids(), aim=st.booleans())
    def case(report, report_id, aim):
        target.send((aimed(report, report_id) if aim else report).SerializeToString(), "random message")

    case()
    target.assert_still_serving()


def _huge_string(report, size: int, char: str) -> None:
    report.host.hostname = char * size


def _repeated(report, count: int, char: str) -> None:
    template = report.processes[0] if report.processes else report_pb2.Process(name="proc")
    for pid in range(count):
        report.processes.add().CopyFrom(template)
        report.processes[-1].pid = pid
    report.usb_devices.extend([report.usb_devices[0]] * count if report.usb_devices else [])
    report.network.connections.add(remote_ip=char, remote_port=5900)


def _bad_edid(report, size: int, char: str) -> None:
    edid = bytearray(report.displays[0].edid) if report.displays and report.displays[0].edid else bytearray(128)
    cut = size % (len(edid) + 1)
    edid[cut % len(edid)] ^= 0xFF  # breaks the checksum, a header byte, or a descriptor
    report.displays.add(edid=bytes(edid[:cut]) + char.encode("utf-8"), monitor_name=char)


def _odd_unicode_everywhere(report, size: int, char: str) -> None:
    text = (char * (size % 64 + 1))[:200]
    report.host.timezone = report.host.locale = report.host.os_version = text
    for process in report.processes:
        process.name, process.exe, process.username = text, f"/opt/{text}", text
    for app in report.applications:
        app.name = app.publisher = text


STRESSES = {"huge string": _huge_string, "repeated entries": _repeated, "invalid EDID": _bad_edid,
            "odd unicode": _odd_unicode_everywhere}


@pytest.mark.parametrize("stress, size", [("huge string", 64 * 1024), ("huge string", 1024 * 1024),
                                         ("huge string", 5 * 1024 * 1024), ("repeated entries", 1000),
                                         ("repeated entries", 3000)])
def test_extreme_reports(target, stress, size):
    """Strings of megabytes (up to beyond the 4 MiB message limit) and thousands of repeated entries."""
    report = valid_report()
    STRESSES[stress](report, size, "\u202e")
    target.send(report.SerializeToString(), f"stressed: {stress}")
    target.assert_still_serving()


def test_stressed_valid_reports(target):
    """A real scenario report with one part pushed off the path: broken EDIDs, odd Unicode, many entries."""
    @fuzz(60)
    @given(stress=st.sampled_from(sorted(STRESSES)), size=st.integers(0, 300), char=odd_text.filter(bool))
    def case(stress, size, char):
        report = valid_report()
        STRESSES[stress](report, size, char)
        target.send(report.SerializeToString(), f"stressed: {stress}")

    case()
    target.assert_still_serving()


def _mutate(blob: bytes, edits: list[tuple[str, int, bytes]]) -> bytes:
    data = bytearray(blob)
    for kind, where, chunk in edits:
        at = where % (len(data) + 1)
        if kind == "flip" and at < len(data):
            data[at] ^= chunk[0] if chunk else 0xFF
        elif kind == "insert":
            data[at:at] = chunk
        elif kind == "delete":
            del data[at:at + len(chunk) + 1]
        elif kind == "truncate":
            del data[at:]
    return bytes(data)


EDITS = st.lists(st.tuples(st.sampled_from(["flip", "insert", "delete", "truncate"]), st.integers(0, 2**20),
                           st.binary(min_size=1, max_size=16)), min_size=1, max_size=6)


def test_mutated_valid_reports(target):
    """A valid serialized report with bytes flipped, inserted, deleted or cut off."""
    @fuzz(300)
    @given(edits=EDITS)
    def case(edits):
        target.send(_mutate(valid_report().SerializeToString(), edits), "mutated bytes")

    case()
    target.assert_still_serving()


def test_random_bytes(target):
    @fuzz(150)
    @given(payload=st.binary(max_size=4096))
    def case(payload):
        target.send(payload, "random bytes")

    case()
    target.assert_still_serving()


METHODS = [f"/{service.full_name}/{method.name}" for service in (collector_pb2.DESCRIPTOR.services_by_name["Collector"],
                                                                  query_pb2.DESCRIPTOR.services_by_name["Query"])
           for method in service.methods]


@pytest.mark.parametrize("method", METHODS)
def test_undecodable_request_to_any_method_is_invalid_argument(target, method):
    """Not gRPC's INTERNAL "Exception deserializing request!": the request is the caller's fault."""
    streaming = method.endswith("FollowFlags")
    call = target.channel.unary_stream(method) if streaming else target.channel.unary_unary(method)
    with pytest.raises(grpc.RpcError) as refused:
        answer = call(b"\xff\xff\xff", timeout=10)
        if streaming:
            next(iter(answer))
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    figures.count("fuzz: cases run", "undecodable request, any method")
