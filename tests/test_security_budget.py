"""What one laptop may cost the collector (issue 13, red team 1): sizes of a report's parts, a rate
and a byte budget per device, one report of a device at a time. A device over any of them is
refused with a clear status; another device's report in the same moment is stored and acknowledged.
"""
from __future__ import annotations

import threading

import grpc
import pytest

from agent_fleet import provision, scanner_for
from conftest import RunningCollector, make_report
from farmwatch.agent import run as runner
from farmwatch.agent.transport import CollectorError
from farmwatch.collector import report_limits
from farmwatch.collector.budget import Budget, DeviceBudgets, OverBudget

# on both engines: SQLite and a real PostgreSQL server (conftest `engine`)
pytestmark = pytest.mark.usefixtures("engine")


def send(collector, creds, report) -> grpc.StatusCode:
    stub = collector.channel(creds).unary_unary("/farmwatch.v1.Collector/Report")
    try:
        stub(report.SerializeToString(), timeout=60)
    except grpc.RpcError as error:
        send.details = error.details()
        return error.code()
    return grpc.StatusCode.OK


BUDGETS = {"device_report_burst": 3, "device_reports_per_hour": 1, "max_message_bytes": 1024 * 1024,
           "device_byte_burst": 1024 * 1024, "device_bytes_per_day": 1024}


@pytest.fixture
def budgeted(collector_home, request):
    """A collector that lets each device send 3 reports and 1 MiB at once, refilled slowly
    (`@pytest.mark.parametrize("budgeted", [{...}], indirect=True)` changes some)."""
    running = RunningCollector(collector_home, **{**BUDGETS, **getattr(request, "param", {})})
    yield running
    running.stop()


# -- limits on a report's parts --------------------------------------------------------------

def test_a_report_with_more_processes_than_a_laptop_has_is_refused_naming_the_field(collector):
    creds = collector.enroll("SN-MANY")
    too_many = make_report("SN-MANY", processes=report_limits.ITEMS["processes"] + 1)
    with collector.client(creds) as client:
        with pytest.raises(CollectorError) as info:
            client.report(too_many)
        assert info.value.code == grpc.StatusCode.INVALID_ARGUMENT
        assert "processes has 10001 entries" in info.value.details and "limit of 10000" in info.value.details
        assert not client.report(make_report("SN-MANY", 2)).duplicate  # the device's next report is taken
    assert collector.stored_reports() == 1


def test_a_string_longer_than_any_laptop_sends_is_refused_naming_the_field(collector):
    creds = collector.enroll("SN-LONG")
    report = make_report("SN-LONG")
    report.network.interfaces.add(name="x" * (report_limits.MAX_STRING + 1))
    assert send(collector, creds, report) == grpc.StatusCode.INVALID_ARGUMENT
    assert "network.interfaces.name is 16385 characters long" in send.details
    assert collector.stored_reports() == 0


LONG, LONGER = "x" * report_limits.MAX_STRING, "x" * (report_limits.MAX_STRING + 1)


@pytest.mark.parametrize("fill, named", [
    (lambda r: r.processes.add(cmdline=["ok", LONGER]), "processes.cmdline is 16385 characters"),
    (lambda r: r.host.keyboard_layouts.extend([LONGER]), "host.keyboard_layouts is 16385 characters"),
    (lambda r: r.displays.add(edid=bytes(report_limits.MAX_BYTES + 1)), "displays.edid is 32769 bytes"),
    (lambda r: r.agent_stats.probe_seconds.update({LONGER: 1.0}), "agent_stats.probe_seconds is 16385 characters"),
])
def test_every_kind_of_field_over_its_length_is_named(fill, named):
    """A string or bytes value over its limit, alone or in a list or a map's keys, is refused by name;
    one at its limit is not."""
    report = make_report("SN-SHAPES")
    report.processes.add(cmdline=[LONG])
    report.displays.add(edid=bytes(report_limits.MAX_BYTES))
    report_limits.check(report)
    fill(report)
    with pytest.raises(report_limits.TooLarge, match=named):
        report_limits.check(report)


def test_real_reports_are_far_below_the_limits():
    """The limits leave a wide margin over the scenario corpus (real laptops, tests/scenarios)."""
    from conftest import SCENARIOS
    from farmwatch.collector import ingest

    for path in sorted(SCENARIOS.rglob("*.json")):
        report = ingest.load_report_file(path).report
        report_limits.check(report)
        assert len(report.processes) * 10 < report_limits.ITEMS["processes"], path


# -- budgets ----------------------------------------------------------------------------------

def test_a_flooding_device_is_refused_and_another_device_is_stored(budgeted):
    flooder, other = budgeted.enroll("SN-FLOOD"), budgeted.enroll("SN-OTHER")
    codes = [send(budgeted, flooder, make_report("SN-FLOOD", n)) for n in range(1, 6)]
    assert codes == [grpc.StatusCode.OK] * 3 + [grpc.StatusCode.RESOURCE_EXHAUSTED] * 2
    assert "busy" in send.details and "reports an hour" in send.details
    assert send(budgeted, other, make_report("SN-OTHER")) == grpc.StatusCode.OK
    assert budgeted.store.rows("SELECT device_id, count(*) AS n FROM reports GROUP BY device_id ORDER BY 1") == [
        {"device_id": "SN-FLOOD", "n": 3}, {"device_id": "SN-OTHER", "n": 1}]


@pytest.mark.parametrize("budgeted", [{"device_report_burst": 10}], indirect=True)
def test_a_device_over_its_byte_budget_is_refused(budgeted):
    creds = budgeted.enroll("SN-BYTES")
    size = make_report("SN-BYTES", processes=7000).ByteSize()
    assert 3 * size <= 1024 * 1024 < 4 * size  # three fit the burst, the fourth does not
    codes = [send(budgeted, creds, make_report("SN-BYTES", n, processes=7000)) for n in range(1, 5)]
    assert codes[:3] == [grpc.StatusCode.OK] * 3 and codes[3] == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "bytes a day" in send.details and "busy" in send.details


def test_large_reports_at_once_from_one_device_leave_another_device_served(collector):
    """Three near-limit reports at once from one device: at most one is worked on at a time, the
    rest are answered RESOURCE_EXHAUSTED or wait their turn; another device's report is stored."""
    flooder, other = collector.enroll("SN-HEAVY"), collector.enroll("SN-LIGHT")
    heavy = [make_report("SN-HEAVY", n, processes=report_limits.ITEMS["processes"]) for n in range(1, 4)]
    codes: list[grpc.StatusCode] = []
    threads = [threading.Thread(target=lambda r=r: codes.append(send(collector, flooder, r))) for r in heavy]
    for thread in threads:
        thread.start()
    assert send(collector, other, make_report("SN-LIGHT")) == grpc.StatusCode.OK
    for thread in threads:
        thread.join()
    assert set(codes) <= {grpc.StatusCode.OK, grpc.StatusCode.RESOURCE_EXHAUSTED}
    assert collector.store.rows("SELECT count(*) AS n FROM reports WHERE device_id = 'SN-LIGHT'") == [{"n": 1}]
    assert collector.stored_reports() == 1 + codes.count(grpc.StatusCode.OK)


def test_the_agent_keeps_a_report_refused_for_budget_and_backs_off(budgeted, tmp_path):
    """The real agent's delivery: RESOURCE_EXHAUSTED "busy" is load, not the report's fault — the
    report stays spooled, nothing is discarded, draining stops for the backoff."""
    [state] = provision(budgeted.home, budgeted.address, tmp_path / "agents", ["SN-AGENT"])
    agent = runner.Agent(state, scanner_for("SN-AGENT"), timeout=10)
    try:
        for _ in range(5):
            runner.collect(agent)
        outcome = runner.drain(agent)
        assert len(outcome.acked) == 3 and outcome.discarded == []
        assert outcome.error.code == grpc.StatusCode.RESOURCE_EXHAUSTED and outcome.error.about_load
        assert agent.spool.depth() == 2
    finally:
        agent.close()


def test_one_report_of_a_device_at_a_time_one_waiting_and_budgets_refill():
    now = [0.0]
    budgets = DeviceBudgets(Budget(3, 1 / 60), Budget(0, 0), wait=0.2, clock=lambda: now[0])
    with budgets.admit("SN-A", 10):
        with pytest.raises(OverBudget, match="still being stored"):  # waited its turn, in vain
            budgets.admit("SN-A", 10)
        budgets.admit("SN-B", 10).__exit__()  # other devices are not held up
    budgets.admit("SN-A", 10).__exit__()
    with pytest.raises(OverBudget, match="retry in 60 s"):
        budgets.admit("SN-A", 10)
    now[0] = 60.0
    budgets.admit("SN-A", 10).__exit__()


def test_a_second_report_of_a_device_waits_a_third_is_refused():
    budgets = DeviceBudgets(Budget(10, 1), Budget(0, 0), wait=30)
    first = budgets.admit("SN-A", 1)
    waiter_done = threading.Event()

    def second():
        with budgets.admit("SN-A", 1):
            waiter_done.set()

    waiter = threading.Thread(target=second)
    waiter.start()
    while budgets._turns["SN-A"][1] < 2:  # the second is waiting for its turn
        threading.Event().wait(0.01)
    with pytest.raises(OverBudget, match="another one waits its turn"):
        budgets.admit("SN-A", 1)
    first.__exit__()
    waiter.join(30)
    assert waiter_done.is_set() and budgets._turns == {}
