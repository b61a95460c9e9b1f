"""The device verdict: its own latest report's findings and its fleet findings, scored together.

Rule: the combined score is `detect.scoring.score_findings` over both lists, so the same
weights, low-signal cap and "relay needs a critical finding" hold (no second set of thresholds).
The own verdict (latest report alone) is kept beside it, and `verdict_source` says which part
decided: "report" when the fleet findings leave the verdict where the report put it, "fleet"
when they raised it. Ingest recombines with the stored fleet findings, correlation with the
stored report findings, so neither erases the other's part.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

from farmwatch.collector.detect.findings import Finding
from farmwatch.collector.detect.scoring import score_findings, verdict_for
from farmwatch.common.vocabulary import VERDICTS


@dataclass(frozen=True)
class Combined:
    verdict: str
    score: int
    source: str  # "report" | "fleet"


def as_finding(item: dict) -> Finding:
    evidence = item.get("evidence") or {}
    if isinstance(evidence, str):
        evidence = json.loads(evidence)
    return Finding(item["rule"], item["severity"], item["summary"], evidence)


def combine(own_verdict: str | None, own_score: int | None, own_findings: list[dict],
            fleet_findings: list[dict]) -> Combined:
    """`own_*`: the latest report's classification (None when it could not be classified)."""
    if not fleet_findings:
        return Combined(own_verdict or "clean", own_score or 0, "report")
    score = score_findings([as_finding(f) for f in [*own_findings, *fleet_findings]])
    verdict = verdict_for(score)
    own_verdict = own_verdict or "clean"
    raised = VERDICTS.index(verdict) > VERDICTS.index(own_verdict)
    return Combined(verdict if raised else own_verdict, score, "fleet" if raised else "report")
