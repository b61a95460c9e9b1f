"""`correlate`, `clusters`, `cluster`: laptops of different people that share a place."""
from __future__ import annotations

from farmwatch.collector import audit, queries
from farmwatch.common import output, views
from farmwatch.collector.cli.shared import Commands, open_store, show_one


def cmd_correlate(args, config):
    from farmwatch.collector import fleet

    result = fleet.correlate(open_store(config), config)
    found = [{**c, "status": "active"} for c in result.clusters]  # what a run finds is active by definition
    if args.format == "csv":  # the clusters it found, one row each, with the columns of `clusters --csv`
        output.emit(found, queries.CLUSTER_COLUMNS, "csv")
        return
    if args.format == "json":
        output.emit(result.to_dict(), (), "json")
        return
    print(output.paragraph(f"correlated in {result.seconds:.2f}s: {len(result.clusters)} active cluster(s), "
                           f"{sum(result.findings.values())} fleet finding(s), "
                           f"{len(result.verdict_changes)} verdict change(s)"), end="")
    output.emit(found, queries.CLUSTER_COLUMNS, "table")


def cmd_clusters(args, config):
    store = open_store(config)
    with audit.local_question(config.database, "clusters", audit.describe_filters(min_score=args.min_score)) as entry:
        rows = queries.clusters(store, include_inactive=args.all, min_score=args.min_score)
        entry.rows = len(rows)
    output.emit(rows, queries.CLUSTER_COLUMNS, args.format)


def cmd_cluster(args, config):
    show_one(args, config, "cluster", args.cluster_id, queries.cluster, "`clusters --all` lists them",
             views.CLUSTER)


def register(commands: Commands) -> None:
    p = commands.command("correlate", cmd_correlate, "correlate the fleet now: clusters, fleet findings, "
                         "combined verdicts (serve does it periodically)")
    output.add_format_flags(p, "print the run's summary as one JSON object (--csv: the clusters)")
    p = commands.command("clusters", cmd_clusters,
                         "location keys shared by laptops of different people (laptop farms)")
    p.add_argument("--all", action="store_true", help="include clusters that are no longer active")
    p.add_argument("--min-score", type=int, default=0, metavar="N", help="only clusters scoring at least N")
    output.add_format_flags(p)
    p = commands.command("cluster", cmd_cluster, "one cluster: its key, members with their people, history",
                         example="farmwatch-collector --home /srv/fw cluster ip-3b61f4f3c35b")
    p.add_argument("cluster_id", help="as `clusters` shows it")
    output.add_format_flags(p, "print one JSON object (for scripts)")
