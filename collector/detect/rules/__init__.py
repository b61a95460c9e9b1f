"""The detection rules, one small unit each; importing this package registers them all."""

from farmwatch.collector.detect.rules import context, exposure, hardware, network, software  # noqa: F401  (registration)
from farmwatch.collector.detect.rules.base import REGISTRY, Context, Hit, Rule

RULES: tuple[Rule, ...] = tuple(REGISTRY)
RULES_BY_ID = {r.id: r for r in RULES}

__all__ = ["RULES", "RULES_BY_ID", "Context", "Hit", "Rule"]
