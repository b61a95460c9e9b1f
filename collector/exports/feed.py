"""Flags as a feed of events: what is new, what changed, what cleared since a sink last looked.

A **flag** is one rule firing on a suspicious or relay device (`queries.flags`). Its identity is
(device, rule): a device reports every few minutes and the same AnyDesk session comes back with
a new source port each time, so the summary is not part of the identity. A flag **changes** when
its severity, the device's verdict or its triage state (`collector.triage`) changes; it **clears**
when the rule no longer fires on the device's latest report or the device is no longer flagged.

Each export sink keeps its cursor in the database (`export_cursor`): the flags it has been sent,
each with the state it was sent in. Events are marked sent only after the sink took them, so a
crash or a failed delivery repeats an event rather than losing it (at-least-once).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

from farmwatch.collector import queries
from farmwatch.common.printable import json_text
from farmwatch.collector.storage import Storage
from farmwatch.common.vocabulary import TriageState, severity_rank

NEW, CHANGED, CLEARED = "new", "changed", "cleared"
_FLAG_FIELDS = ("device_id", "hostname", "verdict", "score", "rule", "severity", "summary", "evidence",
                "report_id", "received_at", "source", "triage", "assignee")  # source: "report" or "fleet"


@dataclass(frozen=True)
class FlagEvent:
    event: str  # new | changed | cleared
    key: str
    flag: dict  # the flag as it is now (as it was last sent, for `cleared`)
    previous: dict | None = None  # the state last sent, for `changed` and `cleared`

    @property
    def state(self) -> str:
        return _state(self.flag)

    def to_dict(self) -> dict:
        out = {"event": self.event, **self.flag}
        if self.previous is not None:
            out["previous"] = self.previous
        return out

    def to_json(self) -> str:
        return json_text(self.to_dict(), default=str)


def flag_key(device_id: str, rule: str) -> str:
    return f"{device_id}\x1f{rule}"


def current_flags(store: Storage) -> dict[str, dict]:
    """The flags now, one per (device, rule): the worst finding of that rule stands for it."""
    flags: dict[str, dict] = {}
    for row in queries.flags(store):
        key = flag_key(row["device_id"], row["rule"])
        held = flags.get(key)
        if held is None or severity_rank(row["severity"]) > severity_rank(held["severity"]):
            flags[key] = {name: row.get(name) for name in _FLAG_FIELDS}
    return flags


def _state(flag: dict) -> str:
    # a flag sent before triage existed (no "triage" key) was new: no change to report for it
    return json.dumps({"verdict": flag.get("verdict"), "severity": flag.get("severity"),
                       "triage": flag.get("triage") or TriageState.NEW.value}, sort_keys=True)


def diff(now: dict[str, dict], sent: dict[str, dict]) -> list[FlagEvent]:
    """Events that bring a sink that was sent `sent` up to `now` (both keyed by flag key)."""
    events = []
    for key, flag in now.items():
        before = sent.get(key)
        if before is None:
            events.append(FlagEvent(NEW, key, flag))
        elif _state(before) != _state(flag):
            events.append(FlagEvent(CHANGED, key, flag, previous=json.loads(_state(before))))
    for key in sent.keys() - now.keys():
        events.append(FlagEvent(CLEARED, key, sent[key], previous=json.loads(_state(sent[key]))))
    return sorted(events, key=_event_order)


def _event_order(event: FlagEvent):
    # worst first, so a sink that fails part-way has delivered what matters most
    return (event.event == CLEARED, -severity_rank(event.flag.get("severity") or "info"), event.key)


@dataclass
class MemoryCursor:
    """What one live stream has sent so far (gRPC FollowFlags); forgotten when it ends."""

    sent: dict[str, dict] = field(default_factory=dict)

    def pending(self, store: Storage) -> list[FlagEvent]:
        return _where_devices_stand(store, diff(current_flags(store), self.sent))

    def mark(self, event: FlagEvent) -> None:
        if event.event == CLEARED:
            self.sent.pop(event.key, None)
        else:
            self.sent[event.key] = event.flag


class SinkCursor(MemoryCursor):
    """A named export sink's cursor, kept in the database across runs."""

    def __init__(self, store: Storage, sink: str):
        super().__init__()
        self.store, self.sink = store, sink
        self.sent.update(store.export_cursor(sink))  # its table is made for an older database too

    def mark(self, event: FlagEvent) -> None:
        if event.event == CLEARED:
            self.store.forget_exported(self.sink, event.key)
        else:
            self.store.mark_exported(self.sink, event.key, event.state, event.flag)
        super().mark(event)

    def reset(self) -> None:
        """Forget what was sent: the next run sends every current flag again as new."""
        self.store.forget_exported(self.sink)
        self.sent.clear()


def _where_devices_stand(store: Storage, events: list[FlagEvent]) -> list[FlagEvent]:
    """Cleared flags carry their device's verdict and score as they are now, not as last sent."""
    verdicts = store.device_verdicts(sorted({e.flag["device_id"] for e in events if e.event == CLEARED}))
    return [FlagEvent(e.event, e.key, {**e.flag, **verdicts.get(e.flag["device_id"], {})}, e.previous)
            if e.event == CLEARED else e for e in events]
