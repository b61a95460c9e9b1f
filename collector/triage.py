"""Triage: where the security team stands on a flagged device — a state, an assignee, notes — and
every change kept as history (storage/triage.py). The CLI, the Query API and the web console all
change it through `change`, each auditing the call in its own way.

A false positive is answered with an allow-list suggestion (`allow_list_diff`): the `[[allow]]`
entries that would sanction what was found, shown as a diff of collector.toml. It is never
applied here: an admin applies it on the collector host (the file holds every setting and
webhook secrets), then `farmwatch-collector reclassify` scores stored reports again.
"""
from __future__ import annotations

import difflib
import json

from farmwatch.common.clock import now_rfc3339
from farmwatch.common.vocabulary import TRIAGE_STATES, TriageState

MAX_NOTE_CHARS = 4000
MAX_ASSIGNEE_CHARS = 200


class TriageError(Exception):
    """A change that cannot be made; the message says why and what to do instead."""


class UnknownDevice(TriageError):
    pass


def change(store, device_id: str, *, who: str, via: str, state: str | None = None, assignee: str | None = None,
           note: str = "") -> dict:
    """Record one change (None keeps the state or assignee as it is; "" clears the assignee) and return
    the event as stored. Raises TriageError for a bad value, UnknownDevice for a device never seen."""
    if state is not None and state not in TRIAGE_STATES:
        raise TriageError(f"state {state!r} is not one of {', '.join(TRIAGE_STATES)}")
    note = (note or "").strip()
    if len(note) > MAX_NOTE_CHARS:
        raise TriageError(f"the note is {len(note)} characters; keep it under {MAX_NOTE_CHARS} "
                          "(put long material in your case system and link it)")
    if assignee is not None and len(assignee.strip()) > MAX_ASSIGNEE_CHARS:
        raise TriageError(f"the assignee is longer than {MAX_ASSIGNEE_CHARS} characters")
    if state is None and assignee is None and not note:
        raise TriageError("nothing to record: give a state, an assignee or a note")
    now = current(store, device_id)
    return store.record_triage({
        "device_id": device_id, "at": now_rfc3339(), "who": who, "via": via,
        "state": state or now["state"] or TriageState.NEW.value, "previous_state": now["state"],
        "assignee": (assignee.strip() or None) if assignee is not None else now["assignee"], "note": note or None})


def current(store, device_id: str) -> dict:
    """The device's triage now, with its history (`store.device` gives the same inside a device)."""
    if not store.device_verdicts([device_id]) and not store.fleet_findings(device_id):
        raise UnknownDevice(f"no device {device_id!r}; `devices` lists the known ones")
    return store.triage(device_id)


def allow_list_diff(config_text: str, device: dict, department: str | None, who: str) -> str:
    """A unified diff adding to collector.toml an `[[allow]]` entry for each finding of the device's
    latest report that is not allowed yet ("" when there is none)."""
    entries = []
    for finding in device.get("findings", []):
        entry = _allow_entry(finding, department, f"false positive on {device['device_id']}, triaged by {who}")
        if not finding.get("allowed") and entry not in entries:
            entries.append(entry)
    if not entries:
        return ""
    added = config_text + ("" if config_text.endswith("\n") or not config_text else "\n") + "".join(entries)
    return "".join(difflib.unified_diff(config_text.splitlines(True), added.splitlines(True),
                                        "collector.toml", "collector.toml (proposed)"))


def _allow_entry(finding: dict, department: str | None, reason: str) -> str:
    """One `[[allow]]` table, as narrow as the evidence allows (docs/console.md, "False positives")."""
    evidence = finding.get("evidence") or {}
    lines = ["", "[[allow]]"]
    if isinstance(evidence.get("tool"), dict):
        lines.append(f"tool = {_toml(evidence['tool']['id'])}")
        paths = sorted({path for seen in evidence.get("seen", []) for path in _paths(seen.get("object"))})
        if paths:
            lines.append(f"paths = [{', '.join(_toml(p) for p in paths)}]")
    elif isinstance(evidence.get("signature"), dict):
        lines.append(f"hardware = {_toml(evidence['signature']['id'])}")
    else:
        lines.append(f"rule = {_toml(finding['rule'])}")
    if department:
        lines.append(f"groups = [{_toml(department)}]")
    lines.append(f"reason = {_toml(reason + ' (' + finding['rule'] + ')')}")
    return "\n".join(lines) + "\n"


def _paths(item) -> list[str]:
    if not isinstance(item, dict):
        return []
    return [item[key] for key in ("exe", "path") if isinstance(item.get(key), str) and item[key]]


def _toml(text: str) -> str:
    """A TOML basic string: JSON's escapes are TOML's for every character JSON escapes."""
    return json.dumps(str(text), ensure_ascii=False)
