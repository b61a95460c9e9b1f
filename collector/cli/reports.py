"""`ingest`, `classify`, `reclassify`: reports from files, and the rules run again over stored ones."""
from __future__ import annotations

import sys

from farmwatch.collector.cli.shared import EXIT_FAIL, EXIT_OK, Commands, open_store
from farmwatch.common.printable import json_text
from farmwatch.common.names import AGENT_PROGRAM
from farmwatch.common.vocabulary import VERDICTS


def cmd_ingest(args, config):
    from farmwatch.collector import ingest
    from farmwatch.collector.cli.progress import Progress

    store = open_store(config, ingests=True)
    classify = _classifier(config, store)
    stored = duplicates = failed = 0
    progress = Progress(len(args.files), "ingested")
    for path in args.files:
        try:
            loaded = _load_report(path)
            item = ingest.prepare(loaded.report, peer_ip=loaded.peer_ip, received_at=loaded.received_at,
                                  classify=classify)
        except ingest.InvalidReport as exc:
            progress.say(_skipped(path, exc))
            failed += 1
        else:
            new = store.ingest([item])[0]
            stored += new
            duplicates += not new
        progress.advance()
    print(f"stored {stored}, duplicates {duplicates}, failed {failed}")
    return EXIT_FAIL if failed else EXIT_OK


def _load_report(path: str):
    """A report or envelope file; anything wrong with it is an InvalidReport naming the file."""
    from farmwatch.collector import ingest

    try:
        return ingest.load_report_file(path)
    except OSError as exc:
        raise ingest.InvalidReport(f"{path}: cannot read it ({exc.strerror or exc})") from exc


def _skipped(path: str, exc: Exception) -> str:
    return f"skipped {path}: {str(exc).removeprefix(f'{path}: ')}"  # the message may name the file too


def _classifier(config, store=None):
    """The allow-list's classifier; with a store, group entries apply by each device's roster department."""
    from farmwatch.collector import ingest
    from farmwatch.collector.detect import Policy

    if store is None and config.database_exists:
        store = open_store(config)
    group_of = ingest.DeviceGroups(store) if store is not None else None
    return ingest.classifier(Policy.from_config({"allow": config.allow, "fleet": config.fleet}), group_of)


def cmd_classify(args, config):
    from farmwatch.collector import ingest

    classify = _classifier(config)
    failed = 0
    for path in args.files:
        try:
            loaded = _load_report(path)
        except ingest.InvalidReport as exc:
            print(_skipped(path, exc), file=sys.stderr)
            failed += 1
            continue
        print(json_text(classify(loaded.report)))
    return EXIT_FAIL if failed else EXIT_OK


def cmd_reclassify(args, config):
    from farmwatch.collector.cli.progress import Progress

    store = open_store(config)
    classify = _classifier(config, store)
    progress = Progress(store.count("reports"), "reclassified")
    for report_id, device_id, report in store.stored_reports():
        verdict = classify(report)
        if verdict is not None:
            store.replace_verdict(report_id, device_id, verdict)
        progress.advance()
    after = store.verdict_counts()
    print(f"reclassified {progress.done} report(s); devices now: "
          + ", ".join(f"{after.get(v, 0)} {v}" for v in reversed(VERDICTS)))


def register(commands: Commands) -> None:
    p = commands.command("ingest", cmd_ingest, "store report or envelope files as if received over gRPC; exits 1 "
                         "if any file was skipped", example="farmwatch-collector --home /srv/fw ingest backfill/*.json")
    p.add_argument("files", nargs="+", metavar="FILE", help=f"a report JSON (as `{AGENT_PROGRAM} scan` prints it) "
                   "or an envelope; - reads standard input")
    p = commands.command("classify", cmd_classify, "print a verdict (one JSON line) per report or envelope file, "
                         "store nothing; exits 1 if any file was skipped",
                         example=f"{AGENT_PROGRAM} scan | farmwatch-collector classify -")
    p.add_argument("files", nargs="+", metavar="FILE", help="a report JSON or an envelope; - reads standard input")
    p.add_argument("--json", action="store_true", help="JSON lines, as always (accepted like on the other commands)")

    commands.command("reclassify", cmd_reclassify,
                     "re-run the rules over every stored report (after a catalogue or rule update)")
