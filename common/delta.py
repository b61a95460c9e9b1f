"""Delta reports: what changed in a laptop's report since the one the collector acknowledged.

Both sides use this module: the agent makes a delta (`make_delta`), the collector turns it back
into the full report (`DeviceState.apply`) and proves the result with the digest the agent sent.

A report's *state* is, per inventory section (`SECTIONS`), the multiset of its items; an item is
known by the digest of its bytes (`item_digest`). Everything outside the sections (host,
network's scalars, DNS servers and the access points it heard, agent_stats, ids, times) is small
and travels whole in every report. A delta report is an AgentReport whose sections hold only the added items, with
`delta` naming the base and the digests of the items that went away. Applied to the base, kept
items stay in the base's order and added ones follow in the agent's order; the order of a
section is not part of the state (`state_digest` sorts).
"""
from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field

from farmwatch.v1 import report_pb2

# network.wifi_nearby travels whole: the collector keeps no access point a laptop heard (it stores
# their hashes apart, fleet.neighbourhood), so no stored state could serve as a base for it.
SECTIONS = ("processes", "applications", "usb_devices", "displays", "sessions", "probe_errors",
            "remote_access", "network.interfaces", "network.connections", "network.listeners")
DIGEST_BYTES = 16
MAX_REMOVED = 1000  # digests a section may list: the collector's default limit on a list's length


class DeltaMismatch(ValueError):
    """The delta does not fit the state it names as its base; only a full report can fix it."""


def item_digest(item) -> bytes:
    return hashlib.blake2b(item.SerializeToString(deterministic=True), digest_size=DIGEST_BYTES).digest()


def section(report, name: str):
    """The repeated field `name` ("processes", "network.connections") of `report`."""
    owner, _, field = name.rpartition(".")
    return getattr(getattr(report, owner) if owner else report, field)


@dataclass
class DeviceState:
    """A full report with its items' digests, per section, in the report's order."""

    report: report_pb2.AgentReport
    digests: dict[str, list[bytes]]
    removed: dict[str, list] = field(default_factory=dict)  # from the base, when made by `apply`

    @classmethod
    def of(cls, report: report_pb2.AgentReport) -> DeviceState:
        return cls(report, {name: [item_digest(item) for item in section(report, name)] for name in SECTIONS})

    @classmethod
    def of_chain(cls, reports: list[report_pb2.AgentReport]) -> DeviceState:
        """The state at the end of a chain: a full report, then the deltas made on it in order."""
        state = cls.of(reports[0])
        for change in reports[1:]:
            state = state.apply(change)
        return state

    def state_digest(self) -> bytes:
        hasher = hashlib.sha256()
        for name in SECTIONS:  # digests are of one length: joined, they cannot run into each other
            hasher.update(name.encode() + b"\0" + b"".join(sorted(self.digests[name])))
        return hasher.digest()

    def apply(self, delta_report: report_pb2.AgentReport) -> DeviceState:
        """The full state `delta_report` describes, built on this one; DeltaMismatch when a removed
        item is not here or the result is not the state the agent digested."""
        removed: dict[str, list[bytes]] = {}
        for entry in delta_report.delta.removed:
            removed.setdefault(entry.section, []).extend(entry.item_digests)
        unknown = removed.keys() - set(SECTIONS)
        if unknown:
            raise DeltaMismatch(f"the delta removes items from unknown sections {sorted(unknown)}")
        full = report_pb2.AgentReport()
        full.CopyFrom(self.report)
        _take_whole(full, delta_report, "")
        _take_whole(full.network, delta_report.network, "network.")
        gone: dict[str, list] = {}
        digests = {name: _rebuild(section(full, name), section(delta_report, name), self.digests[name],
                                  removed.get(name, []), name, gone) for name in SECTIONS}
        if not delta_report.HasField("network"):  # the laptop reported no network at all
            full.ClearField("network")
        state = DeviceState(full, digests, gone)
        if state.state_digest() != delta_report.delta.state_digest:
            raise DeltaMismatch("base + delta does not make the state the agent digested")
        return state


def _take_whole(target, source, prefix: str) -> None:
    """Copy into `target` every field of `source` that travels whole (not a section, not the
    delta, not `network`, whose parts are taken separately)."""
    for descriptor in source.DESCRIPTOR.fields:
        name = descriptor.name
        if prefix + name in SECTIONS or (not prefix and name in ("delta", "network")):
            continue
        target.ClearField(name)
        if descriptor.is_repeated:
            getattr(target, name).extend(getattr(source, name))
        elif descriptor.message_type is not None:
            if source.HasField(name):
                getattr(target, name).CopyFrom(getattr(source, name))
        else:
            setattr(target, name, getattr(source, name))


def _rebuild(target, added, base_digests: list[bytes], removed: list[bytes], name: str,
             removed_items: dict[str, list]) -> list[bytes]:
    """Make `target` (a copy of the base's section) base − removed + `added`; returns its digests
    and puts the removed items in `removed_items[name]`. A removed digest takes the first base item of that
    digest not yet taken (a multiset)."""
    if not removed and not added:  # most sections of most deltas: the base's digests, shared (never changed in place)
        return base_digests
    kept = list(base_digests)
    gone = []
    for digest in removed:
        try:
            index = kept.index(digest)
        except ValueError:
            raise DeltaMismatch(f"the delta removes {name} items the base does not hold") from None
        kept[index] = None
        gone.append(index)
    if gone:
        removed_items[name] = [type(target[index]).FromString(target[index].SerializeToString()) for index in gone]
    for index in sorted(gone, reverse=True):
        del target[index]
    target.extend(added)
    return [digest for digest in kept if digest is not None] + [item_digest(item) for item in added]


def _replace(target, items: list) -> None:
    """Make the repeated field `target` hold `items` (copies); an empty field stays untouched, so
    an absent `network` is not made present."""
    if not items and not target:
        return
    items = [type(item).FromString(item.SerializeToString()) for item in items]
    del target[:]
    target.extend(items)


def make_delta(base: DeviceState, base_report_id: str, base_sequence: int,
               report: report_pb2.AgentReport) -> report_pb2.AgentReport:
    """`report` (full) as a delta on `base`: its sections cut to the items added since."""
    delta = report_pb2.AgentReport()
    delta.CopyFrom(report)
    new = DeviceState.of(report)
    delta.delta.base_report_id = base_report_id
    delta.delta.base_sequence = base_sequence
    delta.delta.state_digest = new.state_digest()
    for name in SECTIONS:
        left = Counter(base.digests[name])
        added = []
        for item, digest in zip(section(report, name), new.digests[name]):
            if left[digest] > 0:
                left[digest] -= 1
            else:
                added.append(item)
        _replace(section(delta, name), added)
        gone = list(left.elements())
        if gone:
            delta.delta.removed.add(section=name, item_digests=gone)
    return delta


def changed_sections(delta_report: report_pb2.AgentReport) -> set[str]:
    """The sections a delta report adds items to or removes items from."""
    return ({entry.section for entry in delta_report.delta.removed if entry.item_digests}
            | {name for name in SECTIONS if section(delta_report, name)})


def worth_sending(delta_report: report_pb2.AgentReport, full: report_pb2.AgentReport) -> bool:
    """A delta is sent when it is under half the full report and within the collector's limits;
    otherwise (a reinstall, a new user profile) the full report is as cheap and simpler."""
    if any(len(entry.item_digests) > MAX_REMOVED for entry in delta_report.delta.removed):
        return False
    return delta_report.ByteSize() * 2 < full.ByteSize()


def canonical(report: report_pb2.AgentReport) -> bytes:
    """The report's bytes with every section sorted: equal for equal states (tests, tools)."""
    copy = report_pb2.AgentReport()
    copy.CopyFrom(report)
    for name in SECTIONS:
        target = section(copy, name)
        _replace(target, sorted(target, key=lambda item: item.SerializeToString(deterministic=True)))
    return copy.SerializeToString(deterministic=True)
