"""`serve`'s MDM turn, every `[mdm] sync_every_minutes`: each configured MDM synced into the roster,
then the verdicts that changed written back to it.

A turn writes back at most what its interval allows at `writes_per_minute`, so a first turn over a
large fleet spreads over several turns instead of running into the next one; the serve's stop
event ends it between two writes.
"""
from __future__ import annotations

import logging
import threading

from farmwatch.collector.mdm import client_for
from farmwatch.collector.mdm.http import MdmError
from farmwatch.collector.mdm.settings import MdmSettingsError
from farmwatch.collector.mdm.sync import sync_source
from farmwatch.collector.mdm.writeback import write_back

log = logging.getLogger("farmwatch.collector.mdm")


def run_scheduled(store, config, stopping: threading.Event) -> None:
    settings = config.mdm
    for source in settings.sources:
        if stopping.is_set():
            return
        try:
            client = client_for(source, settings, sleep=stopping.wait, stop=stopping)
        except (MdmSettingsError, MdmError) as exc:
            log.error("event=mdm_sync_skipped mdm=%s error=%r", source.source, str(exc))
            continue
        outcome = sync_source(store, client, mdm=settings)
        if outcome.ok and source.write_back:
            budget = max(int(source.writes_per_minute * settings.sync_every_minutes), 1)
            written = write_back(store, client, mdm=settings, limit=budget, sleep=stopping.wait, stop=stopping)
            log.info("event=mdm_written_back mdm=%s written=%d failed=%d due=%d", source.source,
                     len(written.written), len(written.failed), written.due)
