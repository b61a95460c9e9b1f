"""Incremental classification: a device's next report costs what changed in it, not all of it.

A laptop's reports differ little: of two scans 5 s apart, most processes and every connection
and application are byte-identical. `IncrementalClassifier` keeps, per device (an LRU of
`max_devices`), the previous report's rule inputs, its sightings and every rule's findings, and
for the next report:

1. builds the view through the previous report's item views keyed by the item's serialized bytes
   (`report.ItemMemo`), so an unchanged item is the very object it was;
2. finds the sightings of new processes and applications only;
3. compares each input a rule may read (`rules.base.INPUTS`: the view's fields, the sightings, the
   process behind each socket) with the previous report's — mostly identity checks after step 1;
4. re-runs only the rules that read a changed input and keeps the others' findings (the same
   Finding objects: a verdict's evidence is shared with the next ones, so it is read, never changed).

Per-item work is remembered by content without pids (catalogue matches by process identity and
application, address parsing by address text: `sightings`, `report.plain_ip`). The device's state
is dropped, and every rule runs, when the catalogue, the allow-list or the device's group differs
from its previous report's. The verdict equals `classify(report, ...)` on the same full report
(tests/test_classify_incremental.py checks it over long random sequences).
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from dataclasses import dataclass

from farmwatch.collector.detect.catalogue import Catalogue, load_catalogue
from farmwatch.collector.detect.classify import bound_policy, rule_findings, verdict_of
from farmwatch.collector.detect.findings import Finding, Verdict
from farmwatch.collector.detect.policy import Policy
from farmwatch.collector.detect.report import ItemMemo, ReportView, device_id_of, read_report
from farmwatch.collector.detect.rules import RULES, Context
from farmwatch.collector.detect.rules.base import SIGHTINGS, SOCKET_PROCESSES, VIEW_INPUTS, socket_processes
from farmwatch.collector.detect.sightings import Sighting, application_sightings, process_sightings

DEFAULT_DEVICES = 2048    # ~164 KiB each for a 400-process laptop (bench/classify.py): ~330 MiB
OS, PROCESSES, APPLICATIONS = (VIEW_INPUTS.index(name) for name in ("os", "processes", "applications"))


@dataclass(frozen=True)
class _DeviceState:
    keyed: bool                            # `memo` is keyed by the item digests a caller gave
    catalogue: Catalogue
    policy: Policy
    group: str | None
    memo: ItemMemo                         # this report's item views by serialized item
    inputs: tuple                          # the view's VIEW_INPUTS fields, in that order
    sighted: tuple                         # processes, applications: (id() of views with sightings -> those,
                                           # those in order); `inputs` keeps the views alive, so no other object
                                           # takes their id
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

    def __init__(self, max_devices: int = DEFAULT_DEVICES):
        if max_devices < 1:
            raise ValueError("max_devices must be at least 1")
        self.max_devices = max_devices
        self._devices: OrderedDict[str, _DeviceState] = OrderedDict()
        self._lock = threading.Lock()

    def classify(self, report, policy: Policy | None = None, catalogue: Catalogue | None = None,
                 device_group: str | None = None, *, item_keys: dict[str, list[bytes]] | None = None) -> Verdict:
        """`item_keys`, from a caller that has them (the verdict is the same without): section ->
        its items' digests in order (`common.delta.DeviceState.digests`, sections named as there).
        They stand for the items' bytes, saving their serialization, and a section whose digests
        are the previous report's, in the same order, keeps that report's item views whole."""
        catalogue = catalogue or load_catalogue()
        policy = bound_policy(policy, device_group)
        device_id = device_id_of(report)
        with self._lock:
            state = self._devices.get(device_id)
        keyed = item_keys is not None
        same_keys = state is not None and state.keyed == keyed  # memos of the other kind of key start afresh
        keys = {name.rpartition(".")[2]: digests for name, digests in (item_keys or {}).items()}
        memo = ItemMemo(state.memo.seen if same_keys else {}, keys=keys,
                        unchanged=_unchanged(state.memo, keys) if same_keys and keyed else {})
        view = read_report(report, memo)
        previous = state if state is not None and state.matches(catalogue, policy, device_group) else None
        inputs = _inputs(view)
        sighted, sightings = _sightings(view, catalogue, previous)
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
        self._remember(view.device_id, _DeviceState(keyed, catalogue, policy, device_group, memo, inputs, sighted,
                                                    sightings, sockets, findings, frozenset(ran)))
        return verdict_of(view.device_id, [f for found in findings.values() for f in found])

    def rules_run(self, device_id: str) -> frozenset[str] | None:
        """The rules the device's latest report re-ran (None: no state kept for it)."""
        state = self._devices.get(device_id)
        return state.ran if state else None

    def __len__(self) -> int:
        return len(self._devices)

    def _remember(self, device_id: str, state: _DeviceState) -> None:
        with self._lock:
            self._devices[device_id] = state
            self._devices.move_to_end(device_id)
            while len(self._devices) > self.max_devices:
                self._devices.popitem(last=False)


def _unchanged(previous: ItemMemo, keys: dict[str, list[bytes]]) -> dict[str, tuple]:
    """The previous report's item views of the sections whose items' digests are the same, in order."""
    return {name: previous.views[name] for name, digests in keys.items()
            if name in previous.views and previous.keys.get(name) == digests}


def _sightings(view: ReportView, catalogue: Catalogue, previous: _DeviceState | None):
    """(per kind, processes then applications: (id -> sightings of its views with some, those
    sightings in report order), all the sightings in report order as `find_sightings` gives them).

    Only items that were not in the previous report, the very objects, are matched (same catalogue:
    `previous` matched it; same OS: the matches depend on it); the rest is set arithmetic on ids, so
    a report of 400 unchanged processes costs no loop over them in Python, and a kind whose views
    are the previous report's very tuple (its section unchanged) costs nothing."""
    reuse = previous is not None and previous.inputs[OS] == view.os
    sighted = []
    for kind, (items, find) in enumerate(((view.processes, process_sightings),
                                          (view.applications, application_sightings))):
        before = previous.inputs[(PROCESSES, APPLICATIONS)[kind]] if reuse else ()
        if reuse and items is before:
            sighted.append(previous.sighted[kind])
        else:
            found_before = previous.sighted[kind][0] if reuse else {}
            sighted.append(_sighted(items, before, found_before, functools.partial(find, catalogue, view.os)))
    return tuple(sighted), [s for _, in_order in sighted for s in in_order]


def _sighted(items: tuple, before: tuple, found_before: dict[int, tuple], find) -> tuple[dict, list]:
    ids = list(map(id, items))
    present = frozenset(ids)
    kept = {i: found for i, found in found_before.items() if i in present}
    position = dict(zip(ids, range(len(ids))))
    for i in present.difference(map(id, before)):
        found = find(items[position[i]])
        if found:
            kept[i] = tuple(found)
    return kept, [s for i in sorted(kept, key=position.__getitem__) for s in kept[i]]


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
