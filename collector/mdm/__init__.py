"""MDM integration: the roster read from Jamf Pro, Microsoft Intune and Kandji over their APIs, and
farmwatch's verdicts written back where IT works.

    from farmwatch.collector import mdm
    for client in mdm.clients(config.mdm):
        outcome = mdm.sync_source(store, client, mdm=config.mdm)
        if client.settings.write_back:
            mdm.write_back(store, client, mdm=config.mdm)

Modules: `settings` (the `[mdm]` tables), `http` (HTTPS, tokens, throttling, the shared failure
rules), `inventory` (records into roster entries; what a malformed record means), one module per
vendor (`jamf`, `intune`, `kandji`: where its API is and how it pages), `sync` (listing → roster,
all or nothing), `writeback` (verdicts → the MDM, on change, paced, audited), `schedule` (serve's
periodic run). The roster's own rules (what is new, reassigned, removed; the history) are in
`farmwatch.collector.roster.sync`; all SQL is in `farmwatch.collector.storage`.
"""
from __future__ import annotations

import time

from farmwatch.collector.mdm.http import MdmError
from farmwatch.collector.mdm.intune import IntuneClient
from farmwatch.collector.mdm.jamf import JamfClient
from farmwatch.collector.mdm.kandji import KandjiClient
from farmwatch.collector.mdm.settings import KINDS, MdmSettings, MdmSettingsError, SourceSettings
from farmwatch.collector.mdm.sync import SyncOutcome, last_runs, sync_source
from farmwatch.collector.mdm.writeback import WriteBackOutcome, due_writes, write_back

CLIENTS = {"jamf": JamfClient, "intune": IntuneClient, "kandji": KandjiClient}


def client_for(source: SourceSettings, mdm: MdmSettings, sleep=time.sleep, stop=None):
    """The API client of one `[mdm.KIND]` table; reads its secret now (MdmSettingsError if it cannot;
    MdmError if its ca_file cannot be read). `sleep` and `stop`: see http.ApiClient."""
    return CLIENTS[source.kind](source, mdm, sleep=sleep, stop=stop)


def clients(mdm: MdmSettings, only: str | None = None) -> list:
    return [client_for(source, mdm) for source in mdm.sources if only in (None, source.kind)]


__all__ = ["KINDS", "MdmError", "MdmSettings", "MdmSettingsError", "SourceSettings", "SyncOutcome",
           "WriteBackOutcome", "client_for", "clients", "due_writes", "last_runs", "sync_source", "write_back"]
