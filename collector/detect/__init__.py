"""Per-report detection: signatures (data, `farmwatch.collector.detect.catalogue`) + rules (code).

    from farmwatch.collector.detect import classify, Policy
    verdict = classify(report_dict, Policy.from_config(cfg), device_group="helpdesk")
    verdict.to_dict()  # {"device_id", "verdict", "score", "findings": [...]}

    incremental = IncrementalClassifier()            # one per collector: keeps each device's last report
    incremental.classify(report_dict, policy, device_group="helpdesk")  # the same verdict, cheaper

Scoring thresholds are documented in `farmwatch.collector.detect.scoring`, the verdict and
severity words in `farmwatch.common.vocabulary`; the allow-list
format in `farmwatch.collector.detect.policy`; every rule's reason in its docstring
(`RULES`).
"""

from farmwatch.collector.detect.classify import classify
from farmwatch.collector.detect.findings import Finding, Verdict
from farmwatch.collector.detect.incremental import IncrementalClassifier
from farmwatch.collector.detect.policy import AllowEntry, Policy
from farmwatch.collector.detect.rules import RULES, RULES_BY_ID
from farmwatch.collector.detect.scoring import (LOW_SIGNAL_CAP, RELAY_AT, SEVERITY_WEIGHTS, SUSPICIOUS_AT,
                                                 score_findings, verdict_for)

__all__ = ["classify", "IncrementalClassifier", "Policy", "AllowEntry", "Verdict", "Finding", "RULES", "RULES_BY_ID",
           "SEVERITY_WEIGHTS", "LOW_SIGNAL_CAP", "SUSPICIOUS_AT", "RELAY_AT", "score_findings",
           "verdict_for"]
