"""What a rule is: an id, a default severity, a one-line summary template and a check.

A check reads the `Context` (the normalised report, the catalogue, the sightings) and yields
`Hit`s; `classify` turns each hit into a finding, filling the summary template with the hit's
values and marking it allowed when the policy says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Callable, Iterable, Iterator

from farmwatch.collector.catalogue import Catalogue, Tool
from farmwatch.collector.detect.findings import Subject
from farmwatch.collector.detect.policy import Policy
from farmwatch.collector.detect.report import ReportView
from farmwatch.collector.detect.sightings import Sighting, find_sightings


@dataclass(frozen=True)
class Hit:
    values: dict[str, Any]                 # fills the rule's summary template
    evidence: dict[str, Any]
    severity: str | None = None            # overrides the rule's default
    subject: Subject | None = None         # what an allow-list entry may name


@dataclass
class Context:
    view: ReportView
    catalogue: Catalogue
    policy: Policy = field(default_factory=Policy)

    @cached_property
    def sightings(self) -> list[Sighting]:
        return find_sightings(self.view, self.catalogue)

    def sightings_by_tool(self, roles: set[str], how: set[str]) -> dict[str, list[Sighting]]:
        grouped: dict[str, list[Sighting]] = {}
        for s in self.sightings:
            if s.tool.role in roles and s.how in how:
                grouped.setdefault(s.tool.id, []).append(s)
        return grouped

    def running_tools(self, roles: set[str]) -> dict[str, list[Sighting]]:
        return self.sightings_by_tool(roles, {"process"})

    def tools_of_process(self, pid: int, process_name: str, roles: set[str]) -> list[Tool]:
        """Catalogue tools the process behind a connection or listener belongs to."""
        proc = self.view.process_of(pid, process_name)
        if proc is None:
            return []
        return [s.tool for s in self.sightings if s.process is proc and s.tool.role in roles]


Check = Callable[[Context], Iterable[Hit]]


@dataclass(frozen=True)
class Rule:
    id: str
    severity: str
    summary: str
    check: Check
    description: str = ""

    def run(self, ctx: Context) -> Iterator[Hit]:
        yield from self.check(ctx)


REGISTRY: list[Rule] = []


def rule(id: str, severity: str, summary: str) -> Callable[[Check], Check]:
    """Register `check` as the rule `id`; its docstring says why the rule exists."""
    def register(check: Check) -> Check:
        REGISTRY.append(Rule(id, severity, summary, check, (check.__doc__ or "").strip()))
        return check
    return register


def tool_evidence(tool: Tool) -> dict[str, Any]:
    return {"id": tool.id, "name": tool.name, "category": tool.category, "role": tool.role,
            "relevance": tool.relevance}


def tool_subject(tool: Tool, sightings: list[Sighting]) -> Subject:
    paths = tuple(dict.fromkeys(s.path for s in sightings if s.path))
    signers = tuple(dict.fromkeys(s.signer for s in sightings if s.signer))
    return Subject("tool", tool.id, paths, signers)


RELEVANCE_SEVERITY = {"high": "high", "medium": "medium", "low": "low"}
