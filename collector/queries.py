"""What the security team asks of the database: devices, one device in depth, current flags, clusters.

A device's `verdict`/`score` are combined with its fleet findings (`farmwatch.collector.fleet.verdict`);
`own_verdict`/`own_score` are its latest report's alone and `verdict_source` says which decided.
The column lists are the contract's; the reads themselves are `Storage`'s (`storage.queries`).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # storage reads these column lists
    from farmwatch.collector.storage import Storage

DEVICE_COLUMNS = ("device_id", "hostname", "os", "verdict", "score", "last_seen", "last_peer_ip",
                  "reports", "agent_version", "triage", "assignee")
FLAG_COLUMNS = ("device_id", "hostname", "verdict", "score", "severity", "rule", "summary", "received_at",
                "triage", "assignee")
CLUSTER_COLUMNS = ("cluster_id", "kind", "value", "score", "severity", "people", "devices", "first_seen",
                   "last_seen", "status")


def devices(store: Storage, verdict: str | None = None, cluster: str | None = None,
            user: str | None = None) -> list[dict]:
    """Devices, worst first. `cluster`: members of that cluster id; `user`: devices the roster
    assigns to that e-mail or name (case-insensitive)."""
    return store.devices(verdict, cluster=cluster, user=user)


def flags(store: Storage) -> list[dict]:
    """Every finding of each flagged device's latest report, and the fleet's findings, worst first;
    allowed ones left out. `source` is "report" or "fleet"."""
    return store.flags()


def device(store: Storage, device_id: str, history: int = 20) -> dict | None:
    return store.device(device_id, history)


def fleet_findings(store: Storage, device_id: str | None = None) -> list[dict]:
    """Fleet findings of one device (or all, worst first), including roster devices that never reported."""
    return store.fleet_findings(device_id)


def clusters(store: Storage, include_inactive: bool = False, min_score: int = 0) -> list[dict]:
    """Clusters, strongest first, each with its member device ids."""
    return store.clusters(include_inactive, min_score)


def cluster(store: Storage, cluster_id: str, history: int = 100) -> dict | None:
    """One cluster: its key and score, members with their people and verdicts, and its history."""
    return store.cluster(cluster_id, history)
