"""Delta reports at the collector: each device's latest full state, and turning a delta back
into the full report it stands for (docs/design.md, "Delta reports").

A delta is taken only when its base is the device's latest report here (the one that last moved
the device) and base + delta makes the state the agent digested. Otherwise the report is not
stored and the ack names why (`FullReportReason`): the agent sends the same report again in full.
The writer checks the base once more inside its transaction (`ingest`), so a report of the
device stored between the two checks cannot be built on.

States are kept in memory for the most recent devices; any other's is read from the database
(`Storage.device_state`, one row per device written with each report that moves it).
"""
from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from dataclasses import dataclass

from farmwatch.collector import report_limits
from farmwatch.collector.inventory import Inventory
from farmwatch.common.delta import SECTIONS, DeltaMismatch, DeviceState, changed_sections, section
from farmwatch.v1 import collector_pb2, report_pb2

FULL_REFRESH = dt.timedelta(days=1)  # a device's full report at least this often: the chains stay short
CACHED_DEVICES = 256  # ~150 KB each for a 400-process laptop; a miss costs a row read and ~1.5 ms


@dataclass
class Known:
    """A device's latest report here, in full, and when the full report its chain starts at came."""

    report_id: str
    sequence: int
    root_received_at: str
    report: report_pb2.AgentReport
    _state: DeviceState | None = None
    _inventory: Inventory | None = None

    def state(self) -> DeviceState:
        if self._state is None:  # a full report's item digests, made on the first delta built on it
            self._state = DeviceState.of(self.report)
        return self._state

    def inventory(self) -> Inventory:
        """The report's inventory identities; for a rebuilt delta, with those that came and went."""
        if self._inventory is None:  # a full report's, counted once and carried along its chain
            self._inventory = Inventory.of(self.report)
        return self._inventory


class DeviceStates:
    """device id → `Known`, for the `CACHED_DEVICES` most recent; `load(device_id)` reads any
    other's from storage: (report_id, sequence, chain_started_at, full report), or None."""

    def __init__(self, load, size: int = CACHED_DEVICES):
        self._load, self._size = load, size
        self._known: OrderedDict[str, Known] = OrderedDict()
        self._lock = threading.Lock()

    def rebuild(self, report: report_pb2.AgentReport, received_at: str) -> tuple[Known | None, int]:
        """(the full report `report` stands for, 0), or (None, the FullReportReason to answer), or
        (None, 0) when `report` is the device's latest report already (stored: a duplicate)."""
        base = report.delta
        known = self._get(report.device_id)
        if known is not None and known.report_id not in (base.base_report_id, report.report_id):
            known = self._get(report.device_id, fresh=True)  # another process may have stored since
        if known is None:
            return None, collector_pb2.FULL_REPORT_BASE_UNKNOWN
        if known.report_id == report.report_id:  # sent again after a lost ack: the writer says duplicate
            return None, 0
        if known.report_id != base.base_report_id:
            return None, (collector_pb2.FULL_REPORT_BASE_UNKNOWN if base.base_sequence > known.sequence
                          else collector_pb2.FULL_REPORT_SEQUENCE_GAP)
        if _older_than(known.root_received_at, received_at, FULL_REFRESH):
            return None, collector_pb2.FULL_REPORT_DAILY_REFRESH
        try:
            state = known.state().apply(report)
        except DeltaMismatch:
            return None, collector_pb2.FULL_REPORT_STATE_MISMATCH
        inventory = known.inventory().after(report, state.removed, state.report, changed_sections(report))
        return Known(report.report_id, report.sequence, known.root_received_at, state.report, state, inventory), 0

    def remember(self, device_id: str, known: Known) -> None:
        """`known` is now the device's latest report (called once its write is committed)."""
        with self._lock:
            self._known[device_id] = known
            self._known.move_to_end(device_id)
            while len(self._known) > self._size:
                self._known.popitem(last=False)

    def forget(self, device_id: str) -> None:
        with self._lock:
            self._known.pop(device_id, None)

    def _get(self, device_id: str, fresh: bool = False) -> Known | None:
        with self._lock:
            known = None if fresh else self._known.get(device_id)
            if known is not None:
                self._known.move_to_end(device_id)
                return known
        stored = self._load(device_id)
        if stored is None:
            return None
        known = Known(*stored)
        self.remember(device_id, known)
        return known


def check_counts(report: report_pb2.AgentReport) -> None:
    """report_limits.TooLarge when a rebuilt section holds more items than a report may (each item
    was checked when it arrived)."""
    for name in SECTIONS:
        limit = report_limits.ITEMS.get(name, report_limits.DEFAULT_ITEMS)
        if len(section(report, name)) > limit:
            raise report_limits.TooLarge(f"{name} has {len(section(report, name))} entries, more than the "
                                         f"collector's limit of {limit} a report")


def _older_than(then: str, now: str, age: dt.timedelta) -> bool:
    try:
        return dt.datetime.fromisoformat(now) - dt.datetime.fromisoformat(then) > age
    except (TypeError, ValueError):
        return True  # a time we cannot read: a full report settles it
