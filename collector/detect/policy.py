"""The allow-list: what the company sanctions, read from the collector's TOML config.

```toml
# collector.toml
[[allow]]
tool = "teamviewer"                              # a catalogue tool id
paths = ['C:\\Program Files\\TeamViewer\\*', "/Applications/TeamViewer.app"]
signer = "TeamViewer Germany GmbH"               # optional: code-signing subject / macOS Team ID
groups = ["helpdesk"]                            # optional: device groups it applies to
sessions = true                                  # optional: also allow live inbound sessions
reason = "IT help desk (ticket SEC-142)"

[[allow]]
hardware = "pikvm-usb-manufacturer"              # a catalogue hardware id (lab machines)
groups = ["hw-lab"]

[[allow]]
hardware = "usb:256c:006d"                       # or a device by id: usb:VID:PID / edid:PNPCODE
reason = "design team's pen tablet (keyboard keys + driver CD)"

[[allow]]
rule = "ip-forwarding"                           # a whole rule, for one group
groups = ["build-agents"]
```

Each entry names exactly one of `tool`, `hardware` or `rule`. `hardware` takes a catalogue id
or a device id (`usb:vvvv:pppp`, `edid:PNP` + 4 hex digits of the product code), so a device
the heuristics flag can be sanctioned after review. `path` (one string) is accepted
for `paths`. Without `groups` an entry applies to every device.

Narrowing follows Elastic's advice in docs/detection.md §T5 (never allow on a name alone when more
is known): when `paths` is given, every executable/install path seen for the tool must lie under
one of them (a tool seen without a path is then not allowed); when `signer` is given, a seen
signer must equal it. A live inbound session of an allowed tool stays counted unless the entry
sets `sessions = true` (a help desk that connects in).

Allowed findings are still reported, marked `evidence["allowed"] = true` with the entry in
`evidence["allowed_by"]`, and add nothing to the score.

The policy also reads the company's own networks from the `[fleet]` table (`office_networks`,
`shared_egress_networks`): a peer there inside one of a laptop's listeners is the company, not a
stranger (`inbound-internet-session`, docs/detection.md §S6).

Device group: the collector gives each device the department its MDM roster row names
(`farmwatch-collector roster import`), compared exactly, so `groups = ["Help Desk"]` matches
the roster's "Help Desk"; a device not on the roster has no group. A roster import reaches
ingest within a minute; `reclassify` applies it to stored reports.
In code: `classify(report, policy, device_group="helpdesk")`, or pass
`policy.for_device("helpdesk")` (the entries that apply to that group). An unbound policy
given to `classify` without a group applies only its group-less entries.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Any

from farmwatch.collector.detect.catalogue import Catalogue, path_matches
from farmwatch.collector.detect.findings import Subject

SESSION_RULES = {"remote-session-inbound", "remote-session-active"}
ENTRY_KEYS = {"tool", "hardware", "rule", "paths", "path", "signer", "groups", "sessions", "reason"}
TARGETS = ("tool", "hardware", "rule")


@dataclass(frozen=True)
class AllowEntry:
    target: str                      # "tool" | "hardware" | "rule"
    id: str
    paths: tuple[str, ...] = ()
    signer: str = ""
    groups: tuple[str, ...] = ()
    sessions: bool = False
    reason: str = ""

    def applies_to_group(self, group: str | None) -> bool:
        return not self.groups or group in self.groups

    def allows(self, rule: str, subject: Subject | None) -> bool:
        if self.target == "rule":
            return rule == self.id
        if subject is None or subject.kind != self.target or not subject.named_by(self.id):
            return False
        if rule in SESSION_RULES and not self.sessions:
            return False
        return self._paths_ok(subject) and self._signer_ok(subject)

    def _paths_ok(self, subject: Subject) -> bool:
        if not self.paths:
            return True
        return bool(subject.paths) and all(any(path_matches(p, allowed) for allowed in self.paths)
                                           for p in subject.paths)

    def _signer_ok(self, subject: Subject) -> bool:
        wanted = self.signer.casefold()
        return not wanted or any(s.casefold() == wanted for s in subject.signers)

    def describe(self) -> dict[str, Any]:
        shown = {self.target: self.id, "paths": list(self.paths), "signer": self.signer,
                 "groups": list(self.groups), "sessions": self.sessions, "reason": self.reason}
        return {k: v for k, v in shown.items() if v not in ("", [], False)}


def _string_list(value: Any, where: str, key: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ValueError(f"{where}: '{key}' must be a string or a list of strings")
    return tuple(value)


def _entry(raw: Any, where: str) -> AllowEntry:
    if not isinstance(raw, dict):
        raise ValueError(f"{where}: must be a table")
    unknown = set(raw) - ENTRY_KEYS
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    targets = [t for t in TARGETS if t in raw]
    if len(targets) != 1 or not isinstance(raw[targets[0]], str) or not raw[targets[0]]:
        raise ValueError(f"{where}: name exactly one of 'tool', 'hardware' or 'rule'")
    if "path" in raw and "paths" in raw:
        raise ValueError(f"{where}: use 'paths' or 'path', not both")
    if not isinstance(raw.get("sessions", False), bool):
        raise ValueError(f"{where}: 'sessions' must be true or false")
    paths = raw.get("paths", raw.get("path", []))
    return AllowEntry(
        target=targets[0], id=raw[targets[0]],
        paths=_string_list(paths, where, "paths") if paths else (),
        signer=str(raw.get("signer", "")),
        groups=_string_list(raw.get("groups", []), where, "groups") if raw.get("groups") else (),
        sessions=raw.get("sessions", False), reason=str(raw.get("reason", "")),
    )


DEVICE_ID = re.compile(r"usb:[0-9a-f]{4}:[0-9a-f]{4}|edid:[A-Z]{3}[0-9A-F]{4}")


def _check_known(entry: AllowEntry, catalogue: Catalogue, where: str) -> None:
    known = {"tool": catalogue.tools_by_id, "hardware": catalogue.hardware_by_id}.get(entry.target)
    if known is None or entry.id in known or entry.target == "hardware" and DEVICE_ID.fullmatch(entry.id):
        return
    raise ValueError(f"{where}: no {entry.target} '{entry.id}' in the signature catalogue")


# Networks of the company's own (the `[fleet]` table's offices and shared egress: VPN/SASE exits): a peer
# there that reaches a laptop's listener is the company, not a stranger on the internet.
TRUSTED_NETWORK_KEYS = ("office_networks", "shared_egress_networks")


def _trusted_networks(cfg: dict) -> tuple:
    """The `[fleet]` table's networks, from the parsed TOML or the collector's loaded fleet settings."""
    fleet = cfg.get("fleet", {}) if isinstance(cfg, dict) else {}
    networks = []
    for key in TRUSTED_NETWORK_KEYS:
        values = fleet.get(key, []) if isinstance(fleet, dict) else getattr(fleet, key, ())
        for value in values:
            try:
                networks.append(ipaddress.ip_network(str(value), strict=False))
            except ValueError:
                raise ValueError(f"fleet.{key}: {value!r} is not an address or CIDR range") from None
    return tuple(networks)


@dataclass(frozen=True)
class Policy:
    entries: tuple[AllowEntry, ...] = ()
    bound: bool = False   # narrowed to one device's group by for_device()
    trusted_networks: tuple = ()   # the company's offices and egress (`[fleet]`), see TRUSTED_NETWORK_KEYS

    @classmethod
    def from_config(cls, cfg: dict, catalogue: Catalogue | None = None) -> "Policy":
        """Read the `allow` list of a parsed collector config (see the module docstring).

        With `catalogue`, tool and hardware ids are checked against it. Raises ValueError
        naming the entry for anything malformed.
        """
        raw = cfg.get("allow", []) if isinstance(cfg, dict) else None
        if not isinstance(raw, list):
            raise ValueError("allow: must be a list of tables ([[allow]])")
        entries = []
        for index, item in enumerate(raw):
            where = f"allow[{index}]"
            entry = _entry(item, where)
            if catalogue is not None:
                _check_known(entry, catalogue, where)
            entries.append(entry)
        return cls(tuple(entries), trusted_networks=_trusted_networks(cfg))

    def for_device(self, group: str | None) -> "Policy":
        """The entries that apply to a device in `group` (None: a device in no group)."""
        return Policy(tuple(e for e in self.entries if e.applies_to_group(group)), bound=True,
                      trusted_networks=self.trusted_networks)

    def trusts(self, ip) -> bool:
        """Is `ip` (an ipaddress object) in one of the company's own networks?"""
        return any(ip.version == net.version and ip in net for net in self.trusted_networks)

    def match(self, rule: str, subject: Subject | None) -> AllowEntry | None:
        return next((e for e in self.entries if e.allows(rule, subject)), None)
