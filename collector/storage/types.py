"""The data that crosses the storage boundary: plain values, no cursors or connections."""
from __future__ import annotations

from dataclasses import dataclass, field


class StoreFull(Exception):
    """The database cannot grow (disk full or size limit); nothing of the batch was stored."""


@dataclass(frozen=True)
class DeviceState:
    """What ingest needs to know of a device before it stores the device's next report."""

    last_seen: str | None
    last_sequence: int | None
    inventory_digests: str | None  # JSON: inventory table -> digest of its items
    verdict: str | None
    last_cert_serial: str | None
    last_collected_at: str | None  # of the device's latest report
    last_report_id: str | None = None  # the report that last moved the device: the base of its next delta


@dataclass(frozen=True)
class Decision:
    """What ingest decided for one new report; storage writes it as told.

    `combined`: the report's verdict combined with the device's fleet findings (an object with
    `verdict`, `score`, `source`, as `fleet.verdict.combine` returns), None when unclassified.
    `locations`: the device_locations rows `fleet.locations.location_rows` made of it;
    `scans`: its device_scans row, if any (`fleet.neighbourhood.take_nearby`)."""

    replay: bool
    moves_device: bool  # False: an old report arriving late; it only counts
    combined: object | None = None
    locations: list[tuple] = field(default_factory=list)
    scans: list[tuple] = field(default_factory=list)


@dataclass(frozen=True)
class StoredForm:
    """What storage writes of one report that needs no transaction to work out
    (`reports.stored_form`): made before the writer's turn, which then holds only SQL."""

    raw: bytes              # the report as received, compressed (`blobs`)
    raw_size: int           # its serialized size
    findings: list[tuple]   # findings rows: (rule, severity, summary, evidence JSON, allowed)
    state: bytes            # the device's state after it (`device_states`), compressed


class WriteFailed(Exception):
    """A write the caller must not go on without could not be made (e.g. an audit row)."""


class ExportBusy(Exception):
    """Another run of the same export sink holds its lease (on this host, or on another collector
    host sharing the database): each sink is sent by one run at a time, so each event goes once."""


class Unavailable(Exception):
    """The database cannot be reached now (PostgreSQL down or unreachable); nothing was stored and
    the caller may retry (the collector answers UNAVAILABLE, agents keep the report spooled)."""
