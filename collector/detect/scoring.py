"""How findings combine into a 0-100 score and a verdict.

Each finding that is not allow-listed adds the weight of its severity:

    info 0 · low 10 · medium 30 · high 45 · critical 75

- Low findings together add at most LOW_SIGNAL_CAP (20): weak signals corroborate, they never
  raise an alarm on their own (docs/detection.md §I6: "corroborate, never alert alone").
- score >= SUSPICIOUS_AT (30) → `suspicious`; score >= RELAY_AT (70) → `relay`.
- `relay` also needs at least one critical finding — evidence that the laptop *is* driven
  (an IP-KVM, a capture input plus a foreign keyboard, a live inbound remote-control
  session); without one the score is held at RELAY_AT - 1. Capabilities (tools installed or
  idle, VPNs, tunnels), however many, make `suspicious`; one critical finding makes `relay`.
- The score is capped at 100.
"""

from __future__ import annotations

from farmwatch.collector.detect.findings import Finding
from farmwatch.common.vocabulary import Severity, Verdict, severity_rank

SEVERITY_WEIGHTS = {Severity.INFO: 0, Severity.LOW: 10, Severity.MEDIUM: 30, Severity.HIGH: 45, Severity.CRITICAL: 75}
LOW_SIGNAL_CAP = 20
SUSPICIOUS_AT = 30
RELAY_AT = 70
MAX_SCORE = 100
CONCLUSIVE = severity_rank(Severity.CRITICAL)


def score_findings(findings: list[Finding]) -> int:
    counted = [f for f in findings if not f.allowed]
    low = sum(SEVERITY_WEIGHTS[f.severity] for f in counted if f.severity == Severity.LOW)
    rest = sum(SEVERITY_WEIGHTS[f.severity] for f in counted if f.severity != Severity.LOW)
    score = min(MAX_SCORE, rest + min(low, LOW_SIGNAL_CAP))
    if not any(severity_rank(f.severity) >= CONCLUSIVE for f in counted):
        score = min(score, RELAY_AT - 1)
    return score


def verdict_for(score: int) -> str:
    if score >= RELAY_AT:
        return Verdict.RELAY.value
    return (Verdict.SUSPICIOUS if score >= SUSPICIOUS_AT else Verdict.CLEAN).value
