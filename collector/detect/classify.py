"""classify(): one report in, a verdict with its evidence out."""

from __future__ import annotations

from farmwatch.collector.detect.catalogue import Catalogue, load_catalogue
from farmwatch.collector.detect.findings import Finding, Verdict
from farmwatch.collector.detect.policy import Policy
from farmwatch.collector.detect.report import read_report
from farmwatch.collector.detect.rules import RULES, Context, Hit, Rule
from farmwatch.collector.detect.scoring import score_findings, verdict_for
from farmwatch.common.vocabulary import severity_rank
from farmwatch.v1.report_pb2 import AgentReport


def _finding(rule: Rule, hit: Hit, policy: Policy) -> Finding:
    evidence = dict(hit.evidence)
    entry = policy.match(rule.id, hit.subject)
    if entry is not None:
        evidence["allowed"] = True
        evidence["allowed_by"] = entry.describe()
    return Finding(rule.id, hit.severity or rule.severity, rule.summary.format(**hit.values), evidence)


def _order(finding: Finding) -> tuple:
    return (finding.allowed, -severity_rank(finding.severity), finding.rule, finding.summary)


def bound_policy(policy: Policy | None, device_group: str | None) -> Policy:
    """The allow-list entries that apply to a device in `device_group` (see `classify`)."""
    policy = policy or Policy()
    return policy.for_device(device_group) if not policy.bound or device_group is not None else policy


def rule_findings(rule: Rule, ctx: Context) -> list[Finding]:
    return [_finding(rule, hit, ctx.policy) for hit in rule.run(ctx)]


def verdict_of(device_id: str, findings: list[Finding]) -> Verdict:
    """Findings strongest first, allowed ones last, and their score."""
    findings = sorted(findings, key=_order)
    score = score_findings(findings)
    return Verdict(device_id, verdict_for(score), score, findings)


def classify(report: dict | AgentReport, policy: Policy | None = None, catalogue: Catalogue | None = None,
             device_group: str | None = None) -> Verdict:
    """Run every rule over `report` (an AgentReport message, its JSON dict, or a stored envelope
    dict) and score the findings.

    `policy` is the allow-list (`Policy.from_config(cfg)`); only its entries for
    `device_group` apply (or those of a policy already narrowed with `for_device`). `catalogue`
    defaults to the bundled signatures. Findings come strongest first, allowed ones last.
    """
    ctx = Context(read_report(report), catalogue or load_catalogue(), bound_policy(policy, device_group))
    return verdict_of(ctx.view.device_id, [f for rule in RULES for f in rule_findings(rule, ctx)])
