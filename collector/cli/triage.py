"""`triage`: where the security team stands on a flagged device — show it, or record a change."""
from __future__ import annotations

from farmwatch.collector import audit, triage
from farmwatch.collector.cli.shared import CommandError, Commands, open_store
from farmwatch.common import output, triage_view, views
from farmwatch.common.vocabulary import TRIAGE_STATES


def cmd_triage(args, config):
    store = open_store(config)
    changes = triage_view.changes_given(args)
    detail = triage_view.describe(args.device_id, changes)
    with audit.local_question(config.database, "triage" if changes else "triage-show", detail) as entry:
        try:
            if changes:
                triage.change(store, args.device_id, who=audit.local_user(), via=audit.VIA_CLI, **changes)
            record = {**triage.current(store, args.device_id), "history": store.triage_history(args.device_id)}
        except triage.TriageError as exc:
            raise CommandError(str(exc)) from exc
        entry.rows = 1
    views.show(record, views.TRIAGE, args.format)


def register(commands: Commands) -> None:
    p = commands.command("triage", cmd_triage, "show or change where the security team stands on a device "
                         "(state, assignee, notes; every change kept)",
                         example="farmwatch-collector --home /srv/fw triage PFWCWBL5 --state investigating "
                                 "--assignee alice --note 'asked IT for the shipping record'")
    triage_view.add_arguments(p, TRIAGE_STATES)
    output.add_format_flags(p, "print one JSON object (for scripts)")
