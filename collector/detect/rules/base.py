"""What a rule is: an id, a default severity, a one-line summary template and a check.

A check reads the `Context` (the normalised report, the catalogue, the sightings) and yields
`Hit`s; `classify` turns each hit into a finding, filling the summary template with the hit's
values and marking it allowed when the policy says so.

Each rule declares what of the report it `reads` (INPUTS): the incremental classifier re-runs a
rule only when one of those changed since the device's previous report, so a rule that reads
more than it declares would keep a stale finding (tests/test_classify_incremental.py checks
every rule's reads against what it touches on the scenario corpus).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from itertools import combinations
from typing import Any, Callable, Iterable, Iterator

from farmwatch.collector.detect.catalogue import Catalogue, Tool, normalise_path
from farmwatch.collector.detect.findings import Subject
from farmwatch.collector.detect.policy import Policy
from farmwatch.collector.detect.report import ReportView
from farmwatch.collector.detect.sightings import Sighting, find_sightings


# What a rule may declare it reads: ReportView fields (the device id is no rule's business);
# "sightings", the catalogue's tools found in processes and applications (`Context.sightings`, with
# `products`, `running_tools` and the rest derived from them); and "socket_processes", the process
# behind each connection and listener (`socket_processes`), which is all of the process list that a
# rule reading sockets through `process_of` or `tools_of_process` sees.
VIEW_INPUTS = ("os", "timezone", "locale", "keyboard_layouts", "processes", "applications", "usb_devices",
               "displays", "interfaces", "ip_forwarding", "connections", "listeners", "sessions",
               "remote_access", "probe_errors", "probes_skipped")
SIGHTINGS, SOCKET_PROCESSES = "sightings", "socket_processes"
INPUTS = frozenset(VIEW_INPUTS) | {SIGHTINGS, SOCKET_PROCESSES}
# What a socket rule reads: the sockets, their processes and tools, and the OS whose remote-desktop
# servers the catalogue's ports stand for.
SOCKETS = frozenset({"connections", "listeners", SOCKET_PROCESSES, SIGHTINGS, "os"})


def socket_processes(view: ReportView) -> tuple:
    """`view.process_of` of every connection, then every listener."""
    return tuple(view.process_of(s.pid, s.process_name) for s in (*view.connections, *view.listeners))


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
    memo: dict = field(default_factory=dict, repr=False)

    def cached(self, key: tuple, compute: Callable[[], Any]) -> Any:
        """Compute once per report what several rules ask (e.g. a device's signature matches)."""
        if key not in self.memo:
            self.memo[key] = compute()
        return self.memo[key]

    @cached_property
    def sightings(self) -> list[Sighting]:
        return find_sightings(self.view, self.catalogue)

    @cached_property
    def product_of(self) -> dict[str, str]:
        """Tool id → id of the product it is part of in this report.

        Catalogue entries overlap (LOLRMM's generic "VNC" and RealVNC; UltraVNC and VNC share
        winvnc.exe): tools seen on the same process or under the same install folder are one
        product, so they are reported, counted and weighed once.
        """
        parent = {s.tool.id: s.tool.id for s in self.sightings}

        def root(tool_id: str) -> str:
            while parent[tool_id] != tool_id:
                tool_id = parent[tool_id]
            return tool_id

        for a, b in combinations(self.sightings, 2):
            if _same_object(a, b):
                parent[root(b.tool.id)] = root(a.tool.id)
        return {tool_id: root(tool_id) for tool_id in parent}

    def products(self, roles: set[str], how: set[str]) -> list[list[Sighting]]:
        """Sightings of tools in `roles` seen `how`, one list per product, lead tool first."""
        grouped: dict[str, list[Sighting]] = {}
        for s in self.sightings:
            if s.tool.role in roles and s.how in how:
                grouped.setdefault(self.product_of[s.tool.id], []).append(s)
        return [sorted(group, key=_lead_order) for group in grouped.values()]

    def sightings_by_tool(self, roles: set[str], how: set[str]) -> dict[str, list[Sighting]]:
        return {group[0].tool.id: group for group in self.products(roles, how)}

    def running_tools(self, roles: set[str]) -> dict[str, list[Sighting]]:
        return self.sightings_by_tool(roles, {"process"})

    def running_products(self, roles: set[str]) -> set[str]:
        return {self.product_of[s.tool.id] for s in self.sightings if s.tool.role in roles and s.how == "process"}

    def tools_of_process(self, pid: int, process_name: str, roles: set[str]) -> list[Tool]:
        """Catalogue tools the process behind a connection or listener belongs to."""
        proc = self.view.process_of(pid, process_name)
        if proc is None:
            return []
        return [s.tool for s in self.sightings if s.process is proc and s.tool.role in roles]


RELEVANCE_ORDER = {"high": 0, "medium": 1, "low": 2}


def _lead_order(s: Sighting) -> tuple:
    return (RELEVANCE_ORDER[s.tool.relevance], s.how != "process", s.tool.name.casefold())


def _under(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def _same_object(a: Sighting, b: Sighting) -> bool:
    if a.process is not None and a.process is b.process:
        return True
    pa, pb = normalise_path(a.path), normalise_path(b.path)
    return bool(pa and pb) and (_under(pa, pb) or _under(pb, pa))


Check = Callable[[Context], Iterable[Hit]]


@dataclass(frozen=True)
class Rule:
    id: str
    severity: str
    summary: str
    check: Check
    reads: frozenset[str]
    description: str = ""

    def run(self, ctx: Context) -> Iterator[Hit]:
        yield from self.check(ctx)


REGISTRY: list[Rule] = []


def rule(id: str, severity: str, summary: str, reads: Iterable[str]) -> Callable[[Check], Check]:
    """Register `check` as the rule `id`, reading the INPUTS named in `reads`; its docstring says
    why the rule exists."""
    reads = frozenset(reads)
    if not reads or not reads <= INPUTS:
        raise ValueError(f"rule {id}: reads must name some of {sorted(INPUTS)}, not {sorted(reads - INPUTS)}")

    def register(check: Check) -> Check:
        REGISTRY.append(Rule(id, severity, summary, check, reads, (check.__doc__ or "").strip()))
        return check
    return register


def tool_evidence(tool: Tool) -> dict[str, Any]:
    return {"id": tool.id, "name": tool.name, "category": tool.category, "role": tool.role,
            "relevance": tool.relevance}


def tool_subject(tool: Tool, sightings: list[Sighting]) -> Subject:
    paths = tuple(dict.fromkeys(s.path for s in sightings if s.path))
    signers = tuple(dict.fromkeys(s.signer for s in sightings if s.signer))
    return Subject("tool", tool.id, paths, signers)
