"""Findings and verdicts: the opinions the collector forms about one report."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Subject:
    """What an allow-list entry can name: a catalogue tool or hardware entry, as observed."""

    kind: str                      # "tool" | "hardware"
    id: str                        # catalogue id, or a device id such as "usb:1d6b:0104"
    paths: tuple[str, ...] = ()    # executable / install paths seen for it
    signers: tuple[str, ...] = ()  # code-signing subjects seen for it
    aliases: tuple[str, ...] = ()  # other ids naming the same thing ("usb:1d6b:0104", "edid:LNX7773")

    def named_by(self, ident: str) -> bool:
        return ident == self.id or ident in self.aliases


@dataclass
class Finding:
    rule: str
    severity: str
    summary: str
    evidence: dict[str, Any] = field(default_factory=dict)

    @property
    def allowed(self) -> bool:
        return bool(self.evidence.get("allowed"))

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "severity": self.severity, "summary": self.summary, "evidence": self.evidence}


@dataclass
class Verdict:
    device_id: str
    verdict: str
    score: int
    findings: list[Finding]

    def to_dict(self) -> dict[str, Any]:
        return {"device_id": self.device_id, "verdict": self.verdict, "score": self.score,
                "findings": [f.to_dict() for f in self.findings]}
