"""Incremental classification: a device's next report costs what changed in it, not all of it.

A laptop's reports differ little: of two scans 5 s apart, most processes and every connection
and application are byte-identical. `IncrementalClassifier` keeps, per device (an LRU of
`max_devices`), the previous report's rule inputs, its sightings and every rule's findings, and
for the next report:

1. builds the view through a memo of item views keyed by the item's serialized bytes (shared by
   all devices, at most `max_items` per section), so an unchanged item is the very object it was;
2. finds the sightings of new processes and applications only;
3. compares each input a rule may read (`rules.base.INPUTS`: the view's fields, the sightings) with
   the previous report's — mostly identity checks after step 1;
4. re-runs only the rules that read a changed input and keeps the others' findings.

Per-item work is remembered by content without pids (catalogue matches by process identity and
application, address parsing by address text: `sightings`, `report.plain_ip`). The device's state
is dropped, and every rule runs, when the catalogue, the allow-list or the device's group differs
from its previous report's. The verdict equals `classify(report, ...)` on the same full report
(tests/test_classify_incremental.py checks it over long random sequences).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from itertools import islice

from farmwatch.collector.detect.catalogue import Catalogue, load_catalogue
from farmwatch.collector.detect.classify import bound_policy, rule_findings, verdict_of
from farmwatch.collector.detect.findings import Finding, Verdict
from farmwatch.collector.detect.policy import Policy
from farmwatch.collector.detect.report import ItemMemo, ReportView, read_report
from farmwatch.collector.detect.rules import RULES, Context
from farmwatch.collector.detect.rules.base import SIGHTINGS, SOCKET_PROCESSES, VIEW_INPUTS, socket_processes
from farmwatch.collector.detect.sightings import Sighting, application_sightings, process_sightings

DEFAULT_DEVICES = 4096
DEFAULT_ITEMS = 131072   # item views remembered per section (processes, applications, connections …)
NONE: tuple = ()         # the sightings of most items, shared
OS = VIEW_INPUTS.index("os")


@dataclass(frozen=True)
class _DeviceState:
    catalogue: Catalogue
    policy: Policy
    group: str | None
    inputs: tuple                          # the view's VIEW_INPUTS fields, in that order
    sightings_of: dict[int, tuple]         # id(process or application view) -> its sightings; `inputs` keeps them alive
    sightings: list[Sighting]
    sockets: tuple                         # socket_processes(view)
    findings: dict[str, list[Finding]]     # rule id -> its findings, in RULES order
    ran: frozenset[str]                    # the rules this report re-ran

    def matches(self, catalogue: Catalogue, policy: Policy, group: str | None) -> bool:
        return self.catalogue is catalogue and self.group == group and self.policy == policy


def _inputs(view: ReportView) -> tuple:
    return tuple(getattr(view, name) for name in VIEW_INPUTS)


class IncrementalClassifier:
    """`classify(report, policy, catalogue, device_group)` with `detect.classify`'s arguments and
    result, remembering each device's previous report. Safe to call from several threads."""

    def __init__(self, max_devices: int = DEFAULT_DEVICES, max_items: int = DEFAULT_ITEMS):
        if max_devices < 1 or max_items < 1:
            raise ValueError("max_devices and max_items must be at least 1")
        self.max_devices, self.max_items = max_devices, max_items
        self._devices: OrderedDict[str, _DeviceState] = OrderedDict()
        self._memo: ItemMemo = {}
        self._lock = threading.Lock()

    def classify(self, report, policy: Policy | None = None, catalogue: Catalogue | None = None,
                 device_group: str | None = None) -> Verdict:
        catalogue = catalogue or load_catalogue()
        policy = bound_policy(policy, device_group)
        view = read_report(report, self._memo)
        self._trim_memo()
        previous = self._previous(view.device_id, catalogue, policy, device_group)
        inputs = _inputs(view)
        sightings_of = self._sightings_of(view, catalogue, previous)
        sightings = [s for item in (*view.processes, *view.applications) for s in sightings_of[id(item)]]
        sockets = socket_processes(view)
        changed = _changed(previous, inputs, sightings, sockets)
        ctx = Context(view, catalogue, policy)
        ctx.sightings = sightings
        findings, ran = {}, set()
        for rule in RULES:
            if changed is None or rule.reads & changed:
                findings[rule.id] = rule_findings(rule, ctx)
                ran.add(rule.id)
            else:
                findings[rule.id] = previous.findings[rule.id]
        self._remember(view.device_id, _DeviceState(catalogue, policy, device_group, inputs, sightings_of,
                                                    sightings, sockets, findings, frozenset(ran)))
        return verdict_of(view.device_id, [f for found in findings.values() for f in found])

    def rules_run(self, device_id: str) -> frozenset[str] | None:
        """The rules the device's latest report re-ran (None: no state kept for it)."""
        state = self._devices.get(device_id)
        return state.ran if state else None

    def __len__(self) -> int:
        return len(self._devices)

    def _previous(self, device_id: str, catalogue: Catalogue, policy: Policy, group: str | None):
        with self._lock:
            state = self._devices.get(device_id)
        return state if state is not None and state.matches(catalogue, policy, group) else None

    def _remember(self, device_id: str, state: _DeviceState) -> None:
        with self._lock:
            self._devices[device_id] = state
            self._devices.move_to_end(device_id)
            while len(self._devices) > self.max_devices:
                self._devices.popitem(last=False)

    def _sightings_of(self, view: ReportView, catalogue: Catalogue, previous: _DeviceState | None) -> dict:
        """Each process's and application's sightings, those of the previous report's very objects
        reused (same catalogue: `previous` matched it; same OS: the matches depend on it)."""
        known = previous.sightings_of if previous is not None and previous.inputs[OS] == view.os else {}
        found = {}
        for proc in view.processes:
            key = id(proc)
            found[key] = known[key] if key in known else (tuple(process_sightings(catalogue, view.os, proc)) or NONE)
        for app in view.applications:
            key = id(app)
            found[key] = known[key] if key in known else (tuple(application_sightings(catalogue, view.os, app))
                                                          or NONE)
        return found

    def _trim_memo(self) -> None:
        """Forget the oldest item views of a section beyond `max_items` (first in, first out)."""
        for seen in self._memo.values():
            excess = len(seen) - self.max_items
            if excess > 0:
                for key in list(islice(seen, excess)):
                    seen.pop(key, None)


def _changed(previous: _DeviceState | None, inputs: tuple, sightings: list[Sighting],
             sockets: tuple) -> set[str] | None:
    """The inputs that differ from the previous report's; None when there is none to compare with."""
    if previous is None:
        return None
    changed = {name for name, now, before in zip(VIEW_INPUTS, inputs, previous.inputs) if now != before}
    if sightings != previous.sightings:
        changed.add(SIGHTINGS)
    if sockets != previous.sockets:
        changed.add(SOCKET_PROCESSES)
    return changed
