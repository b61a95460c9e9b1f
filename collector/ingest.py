"""The one path every report takes into the database, whether it came over gRPC or from a file.

validate → classify → queue → one writer thread stores batches in a single transaction and
acknowledges each report only after its batch is committed (durable before the ack).

Ingest decides, storage writes: per report, inside the batch's transaction (so reports of one
device in one batch see each other), ingest reads the device's state, applies the replay rule
(`ordering`), combines the verdict with the device's fleet findings (`fleet.verdict.combine`) and
has fleet make the location rows (`fleet.locations`); `Storage.batch()` writes that decision.
"""
from __future__ import annotations

import datetime as dt
import functools
import ipaddress
import json
import logging
import queue
import threading
import time
import uuid
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path

from google.protobuf import json_format

from farmwatch.collector import report_limits
from farmwatch.collector.fleet.locations import location_rows
from farmwatch.collector.fleet.neighbourhood import WifiHasher, take_nearby
from farmwatch.collector.fleet.verdict import combine
from farmwatch.collector.ordering import order_of
from farmwatch.collector.storage import Decision, Storage, StoreFull, Unavailable, open_storage
from farmwatch.common.clock import now_rfc3339
from farmwatch.common.device_id import valid_device_id
from farmwatch.common.names import AGENT_PROGRAM
from farmwatch.v1 import report_pb2

log = logging.getLogger("farmwatch.collector.ingest")


class InvalidReport(ValueError):
    """The report cannot be stored as it is; the message names the field."""


class Overloaded(Exception):
    """Too many reports waiting for the database; the agent should retry later."""


def validate(report: report_pb2.AgentReport) -> None:
    """InvalidReport naming the field when the report cannot be stored as it is: ids, times, and
    the size of every list and string (`report_limits`)."""
    try:
        uuid.UUID(report.report_id)
    except ValueError:
        raise InvalidReport(f"report_id {report.report_id!r} is not a UUID") from None
    if not valid_device_id(report.device_id):
        raise InvalidReport(f"device_id {report.device_id!r} is not a hardware serial")
    try:
        report_limits.check(report)
    except report_limits.TooLarge as exc:
        raise InvalidReport(f"{exc}; this report is dropped, the agent's next ones are taken") from None
    _check_timestamps(report)


# What google.protobuf.Timestamp allows: 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999999Z.
_MIN_SECONDS, _MAX_SECONDS = -62135596800, 253402300799
_TIMESTAMP = "google.protobuf.Timestamp"


def _check_timestamps(message, path: tuple = ()) -> None:
    """Refuse a time no calendar has: it would break every reader of the report, not only ours.
    `path` is the (field, index) steps down to `message`, spelled out only for an error."""
    for time_field in _fields_with_times(message.DESCRIPTOR):
        if time_field.is_repeated:
            items = enumerate(getattr(message, time_field.name))
        elif message.HasField(time_field.name):
            items = ((None, getattr(message, time_field.name)),)
        else:
            continue
        is_time = time_field.message_type.full_name == _TIMESTAMP
        for index, item in items:
            if not is_time:
                _check_timestamps(item, (*path, (time_field.name, index)))
            elif not (_MIN_SECONDS <= item.seconds <= _MAX_SECONDS and 0 <= item.nanos <= 999_999_999):
                where = ".".join(name if i is None else f"{name}[{i}]" for name, i in (*path, (time_field.name, index)))
                raise InvalidReport(f"{where} is not a valid time (seconds={item.seconds}, nanos={item.nanos})")


@functools.cache
def _fields_with_times(descriptor) -> tuple:
    """The fields of a message type that are Timestamps or hold one below them: the check visits
    only these, not the hundreds of applications and other items that cannot hold a time."""
    return tuple(
        field for field in descriptor.fields
        if field.message_type is not None and not field.message_type.GetOptions().map_entry
        and (field.message_type.full_name == _TIMESTAMP or _fields_with_times(field.message_type))
    )


def classifier(policy=None, group_of=None):
    """A function report → contract verdict dict, with the collector's allow-list applied.

    `group_of(device_id)` names the device's group for allow-list entries with `groups`
    (see `DeviceGroups`); without it only the entries without groups apply."""
    from farmwatch.collector import detect

    def classify(report: report_pb2.AgentReport) -> dict | None:
        try:
            group = group_of(report.device_id) if group_of else None
            return detect.classify(report, policy, device_group=group).to_dict()
        except Exception:  # reports are facts: store it even when an opinion cannot be formed
            log.exception("event=classify_failed report_id=%s", report.report_id)
            return None

    return classify


class DeviceGroups:
    """device id → its group: the department the MDM roster gives the device (`roster import`).

    Looked up per report and remembered for `ttl` seconds, so a roster import reaches the
    allow-list within that time without a database read per report."""

    def __init__(self, store: Store, ttl: float = 60.0):
        self.store, self.ttl = store, ttl
        self._known: dict[str, tuple[float, str | None]] = {}

    def __call__(self, device_id: str) -> str | None:
        now = time.monotonic()
        known = self._known.get(device_id)
        if known is None or known[0] <= now:
            known = self._known[device_id] = (now + self.ttl, self._lookup(device_id))
        return known[1]

    def _lookup(self, device_id: str) -> str | None:
        from farmwatch.collector import roster

        serial = roster.normalise_serial(device_id)
        return self.store.department_of(serial) if serial else None


@dataclass
class Incoming:
    """One report as received, with what the collector itself observed."""

    report: report_pb2.AgentReport
    received_at: str  # RFC 3339
    peer_ip: str
    cert_serial: str = ""
    verdict: dict | None = None  # classify() output, computed before the write
    replay: bool = field(default=False, init=False)


def prepare(report, *, peer_ip: str, cert_serial: str = "", received_at: str | None = None,
            classify=None) -> Incoming:
    """Validate and classify `report`. Fields this collector does not know (a newer agent's, or
    padding) are dropped first: they are neither counted against the limits nor stored."""
    report.DiscardUnknownFields()
    validate(report)
    return Incoming(
        report=report, received_at=received_at or now_rfc3339(), peer_ip=peer_ip,
        cert_serial=cert_serial, verdict=classify(report) if classify else None,
    )


@dataclass
class IngestResult:
    stored: bool  # False: a duplicate of a report stored earlier


class IngestQueue:
    """Bounded queue in front of a single database writer (group commit)."""

    def __init__(self, store: Store, *, max_pending: int = 2048, max_batch: int = 256):
        self.store, self.max_batch = store, max_batch
        self._queue: queue.Queue = queue.Queue(maxsize=max_pending)
        self._thread = threading.Thread(target=self._run, name="ingest-writer", daemon=True)
        self._thread.start()

    def submit(self, item: Incoming) -> Future:
        future: Future = Future()
        try:
            self._queue.put_nowait((item, future))
        except queue.Full:
            raise Overloaded("the collector is busy; retry with backoff") from None
        return future

    def close(self) -> None:
        """Store what is queued, then stop the writer."""
        self._queue.put(None)
        self._thread.join()

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < self.max_batch:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    self._queue.put(None)
                    break
                batch.append(nxt)
            self._write(batch)

    def _write(self, batch) -> None:
        try:
            stored = self.store.ingest([item for item, _ in batch])
        except (StoreFull, Unavailable) as exc:
            event, fix = (("store_full", "free disk space") if isinstance(exc, StoreFull)
                          else ("database_unavailable", "bring the database back"))
            log.error("event=%s reports=%d error=%r: %s; agents keep their spool", event, len(batch), str(exc), fix)
            for _, future in batch:
                future.set_exception(exc)
            return
        except Exception as exc:  # a bug must fail these calls, not the writer thread
            if len(batch) > 1:  # the whole batch rolled back: store each alone, so only the culprit fails
                for one in batch:
                    self._write([one])
                return
            log.exception("event=store_failed report_id=%s", batch[0][0].report.report_id)
            batch[0][1].set_exception(exc)
            return
        for (_item, future), new in zip(batch, stored):
            future.set_result(IngestResult(stored=new))


# -- deciding and storing ------------------------------------------------------------------

def store_batch(storage: Storage, batch: list[Incoming], wifi: WifiHasher | None = None) -> list[bool]:
    """Store a batch in one transaction; returns, per report, whether it was new. `wifi` hashes
    the access points each report heard; without it they are dropped (fleet.neighbourhood).

    A report whose `report_id` is already stored is a duplicate: it succeeds and changes
    nothing. Raises StoreFull (and stores nothing) when the database cannot grow.
    """
    with storage.batch() as tx:
        return [_store_one(tx, item, wifi) for item in batch]


def _store_one(tx, item: Incoming, wifi: WifiHasher | None) -> bool:
    report = item.report
    if tx.is_stored(report.report_id):
        return False
    device = tx.device_state(report.device_id)
    order = order_of(report, item.received_at, item.cert_serial, device)
    item.replay = order.replay
    combined = _combined(item.verdict, lambda: tx.fleet_findings(report.device_id)) if order.moves_device else None
    locations = location_rows(report.device_id, item.received_at, item.peer_ip,
                              report.network.default_gateway.mac, report.network.wifi.bssid)
    scans = take_nearby(report, item.received_at, item.peer_ip, wifi)  # stored raw reports keep no neighbour
    tx.write(item, Decision(item.replay, order.moves_device, combined, locations, scans), device)
    return True


def _combined(verdict: dict | None, fleet_findings):
    """The report's own verdict combined with the device's stored fleet findings (read only when
    needed: `fleet_findings()`)."""
    if not verdict:
        return None
    return combine(verdict.get("verdict"), verdict.get("score"), verdict.get("findings", []), fleet_findings())


def replace_verdict(storage: Storage, report_id: str, device_id: str, verdict: dict) -> None:
    """Store a re-computed verdict for a stored report (after a catalogue or rule update)."""
    with storage.batch() as tx:
        tx.replace_findings(report_id, device_id, verdict)
        latest = tx.latest_verdict(device_id, report_id)
        if latest is None:
            return
        combined = _combined(verdict, lambda: tx.fleet_findings(device_id))
        tx.set_device_verdict(device_id, report_id, verdict, combined, latest[0])


class Store:
    """The collector's database as the collector uses it: a `Storage` backend with ingest's
    decisions applied on the way in (`ingest`, `replace_verdict`); every other attribute is the
    backend's own."""

    def __init__(self, path: Path, wifi: WifiHasher | None = None):
        self.storage = open_storage(path)
        self.wifi = wifi  # None: `[fleet] wifi_neighbourhood = false`, or a store that only reads

    def __getattr__(self, name: str):
        if name in ("storage", "wifi"):  # not made yet (open_storage failed)
            raise AttributeError(name)
        return getattr(self.storage, name)

    def ingest(self, batch: list[Incoming]) -> list[bool]:
        return store_batch(self.storage, batch, self.wifi)

    def replace_verdict(self, report_id: str, device_id: str, verdict: dict) -> None:
        replace_verdict(self.storage, report_id, device_id, verdict)


# -- files: reports as the agent's `scan` prints them, or stored envelopes ---------------------

@dataclass
class LoadedReport:
    path: str
    report: report_pb2.AgentReport
    received_at: str | None = None
    peer_ip: str = ""


def load_report_file(path: str | Path) -> LoadedReport:
    """Read one report JSON or envelope JSON; raises InvalidReport naming the file."""
    try:
        text = Path(path).read_text(encoding="utf-8") if str(path) != "-" else _stdin()
    except UnicodeDecodeError as exc:
        raise InvalidReport(f"{path}: not a JSON text file (byte {exc.start} is not UTF-8); expected a report "
                            f"as `{AGENT_PROGRAM} scan` prints it, or an envelope") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidReport(f"{path}: not JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise InvalidReport(f"{path}: expected a JSON object")
    is_envelope = "report" in data
    if is_envelope and not isinstance(data["report"], dict):
        raise InvalidReport(f"{path}: the envelope's \"report\" is not a JSON object")
    try:
        report = json_format.ParseDict(data["report"] if is_envelope else data,
                                       report_pb2.AgentReport(), ignore_unknown_fields=True)
    except json_format.ParseError as exc:
        raise InvalidReport(f"{path}: not an AgentReport ({exc})") from exc
    if not report.ByteSize():
        raise InvalidReport(f"{path}: no report fields in it; expected a report as `{AGENT_PROGRAM} scan` "
                            "prints it, or an envelope")
    if is_envelope:
        return LoadedReport(str(path), report, _received_at(path, data.get("received_at")),
                            _peer_ip(path, data.get("peer_ip")))
    return LoadedReport(str(path), report)


def _received_at(path, value) -> str | None:
    """The envelope's time in the collector's own form (UTC, milliseconds, Z), so that stored
    times compare as strings; RFC 3339 with a zone, and not in the future (a future time would
    keep a laptop that went quiet from ever counting as silent)."""
    if value is None:
        return None
    try:
        when = dt.datetime.fromisoformat(str(value))
    except ValueError:
        when = None
    if when is None or when.tzinfo is None:
        raise InvalidReport(f"{path}: received_at {value!r} is not an RFC 3339 time with a zone "
                            "(e.g. 2026-11-20T10:00:00Z)")
    if when > dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=5):
        raise InvalidReport(f"{path}: received_at {value!r} is in the future")
    return when.astimezone(dt.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _peer_ip(path, value) -> str:
    if not value:
        return ""
    try:
        return str(ipaddress.ip_address(str(value)))
    except ValueError:
        raise InvalidReport(f"{path}: peer_ip {value!r} is not an IP address") from None


def _stdin() -> str:
    import sys

    return sys.stdin.read()
