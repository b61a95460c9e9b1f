"""The one path every report takes into the database, whether it came over gRPC or from a file.

validate (a delta rebuilt on the device's state) → classify → `prepare_write` (the rows and
compressed bodies that need no transaction, made in the caller's thread, in parallel) → queue →
one writer thread stores batches in a single transaction and acknowledges each report only after
its batch is committed (durable before the ack).

Ingest decides, storage writes: per report, inside the batch's transaction (so reports of one
device in one batch see each other), ingest reads the device's state, applies the replay rule
(`ordering`) and combines the verdict with the device's fleet findings (`fleet.verdict.combine`);
`Storage.batch()` writes that decision with the rows `prepare_write` made (fleet's location rows,
`fleet.locations`, among them).
"""
from __future__ import annotations

import datetime as dt
import functools
import ipaddress
import json
import logging
import operator
import queue
import threading
import time
import uuid
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path

from google.protobuf import json_format

from farmwatch.collector import report_limits
from farmwatch.collector.deltas import DeviceStates, Known, check_counts
from farmwatch.collector.fleet.locations import location_rows
from farmwatch.collector.fleet.neighbourhood import WifiHasher, take_nearby
from farmwatch.collector.fleet.verdict import combine
from farmwatch.collector.ordering import order_of
from farmwatch.collector.storage import Decision, Storage, StoredForm, StoreFull, Unavailable, open_storage, stored_form
from farmwatch.common.clock import now_rfc3339
from farmwatch.common.device_id import valid_device_id
from farmwatch.common.names import AGENT_PROGRAM
from farmwatch.v1 import collector_pb2, report_pb2

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
_SECONDS, _NANOS = operator.attrgetter("seconds"), operator.attrgetter("nanos")


def _check_timestamps(message, path: tuple = ()) -> None:
    """Refuse a time no calendar has: it would break every reader of the report, not only ours.
    `path` is the (field, index) steps down to `message`, spelled out only for an error."""
    for time_field in _fields_with_times(message.DESCRIPTOR):
        if time_field.is_repeated:
            values = getattr(message, time_field.name)
            if _all_valid(values, time_field.message_type):
                continue
            items = enumerate(values)
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


def _all_valid(items, descriptor) -> bool:
    """True when every time in `items` is valid, as far as can be told a field at a time in C, not
    item by item in Python (400 processes a report): times of the items themselves or of their
    own Timestamp fields. False: some time is invalid, or lies deeper; look item by item."""
    if not items:
        return True
    if descriptor.full_name == _TIMESTAMP:
        lists = (items,)
    elif (names := _direct_times(descriptor)) is not None:
        lists = [list(map(operator.attrgetter(name), items)) for name in names]
    else:
        return False
    for times in lists:
        seconds, nanos = list(map(_SECONDS, times)), list(map(_NANOS, times))
        if min(seconds) < _MIN_SECONDS or max(seconds) > _MAX_SECONDS or min(nanos) < 0 or max(nanos) > 999_999_999:
            return False
    return True


@functools.cache
def _direct_times(descriptor) -> tuple[str, ...] | None:
    """("started_at", …): a message type's Timestamp fields, when all its times are such fields of
    its own; None when one lies deeper or in a list."""
    fields = _fields_with_times(descriptor)
    if all(not f.is_repeated and f.message_type.full_name == _TIMESTAMP for f in fields):
        return tuple(f.name for f in fields)
    return None


@functools.cache
def _fields_with_times(descriptor) -> tuple:
    """The fields of a message type that are Timestamps or hold one below them: the check visits
    only these, not the hundreds of applications and other items that cannot hold a time."""
    return tuple(
        field for field in descriptor.fields
        if field.message_type is not None and not field.message_type.GetOptions().map_entry
        and (field.message_type.full_name == _TIMESTAMP or _fields_with_times(field.message_type))
    )


def classifier(policy=None, group_of=None, *, incremental: bool = True):
    """A function report → contract verdict dict, with the collector's allow-list applied.

    `group_of(device_id)` names the device's group for allow-list entries with `groups`
    (see `DeviceGroups`); without it only the entries without groups apply. `incremental` keeps
    each device's previous report and re-runs only the rules whose inputs changed
    (`detect.IncrementalClassifier`: the same verdicts as `detect.classify`)."""
    from farmwatch.collector import detect

    run = detect.IncrementalClassifier().classify if incremental else detect.classify

    def classify(report: report_pb2.AgentReport, hints: dict | None = None) -> dict | None:
        """`hints`: `IncrementalClassifier.classify`'s (the verdict is the same without them)."""
        try:
            group = group_of(report.device_id) if group_of else None
            return run(report, policy, device_group=group, **(hints if incremental and hints else {})).to_dict()
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
    delta: report_pb2.AgentReport | None = None  # a delta report as received; `report` is then its full one
    known: Known | None = None  # `report` as the device's state, once the write moved the device
    send_full: int = 0  # a FullReportReason: nothing is stored, the agent sends the report in full
    form: StoredForm | None = None  # what is written of it, made by `prepare_write` once its verdict is final
    locations: list[tuple] = field(default_factory=list)  # its device_locations rows
    scans: list[tuple] = field(default_factory=list)  # its device_scans row, if any
    replay: bool = field(default=False, init=False)
    moved: bool = field(default=False, init=False)

    def __post_init__(self):
        if self.known is None and self.delta is None:  # a full report is the device's state as it is
            self.known = Known(self.report.report_id, self.report.sequence, self.received_at, self.report)


def prepare(report, *, peer_ip: str, cert_serial: str = "", received_at: str | None = None,
            classify=None, states: DeviceStates | None = None) -> Incoming:
    """Validate and classify `report`. Fields this collector does not know (a newer agent's, or
    padding) are dropped first: they are neither counted against the limits nor stored.

    A delta report is first rebuilt into its full report on the device's state (`states`); when
    that cannot be proved, the Incoming says `send_full` and must not be stored."""
    report.DiscardUnknownFields()
    validate(report)
    received_at = received_at or now_rfc3339()
    if not report.HasField("delta"):
        item = Incoming(report=report, received_at=received_at, peer_ip=peer_ip, cert_serial=cert_serial)
        item.known.inventory()  # here, not in the writer's transaction
        if classify:  # without item digests: a full report may have no delta after it to make them for
            item.verdict = classify(report)
        return item
    if states is None:
        raise InvalidReport("a delta report means nothing outside the agent's chain of reports; "
                            f"give the full report (as `{AGENT_PROGRAM} scan` prints it, or an envelope)")
    known, reason = states.rebuild(report, received_at)
    if known is None:  # not taken (`send_full`), or already stored: the writer answers "duplicate"
        return Incoming(report=report, received_at=received_at, peer_ip=peer_ip, cert_serial=cert_serial,
                        delta=report, send_full=reason)
    try:
        check_counts(known.report)
    except report_limits.TooLarge as exc:
        raise InvalidReport(f"{exc} once rebuilt from its delta; send a full report") from None
    return Incoming(report=known.report, received_at=received_at, peer_ip=peer_ip, cert_serial=cert_serial,
                    verdict=classify(known.report, classify_hints(known)) if classify else None,
                    delta=report, known=known)


def prepare_write(item: Incoming, wifi: WifiHasher | None) -> None:
    """Work out what storing `item` needs and no transaction does: its location and access-point
    rows (the report keeps no neighbour afterwards), and its `stored_form`. Done before the write
    transaction, whose turn is taken one at a time by every serving process, so that turn holds
    only SQL. Nothing to do for a report that will not be stored: one refused (`send_full`), or a
    delta sent again after its ack was lost (no state: the writer finds it stored); nor for one
    prepared already."""
    if item.form is not None or item.send_full or item.known is None:
        return
    report = item.report
    item.locations = location_rows(report.device_id, item.received_at, item.peer_ip,
                                   report.network.default_gateway.mac, report.network.wifi.bssid)
    item.scans = take_nearby(report, item.received_at, item.peer_ip, wifi)  # stored reports keep no neighbour
    if item.delta is not None and item.delta.network.wifi_nearby:  # nor does a delta, stored as received
        del item.delta.network.wifi_nearby[:]
    item.form = stored_form(item)


def classify_hints(known: Known) -> dict:
    """What the incremental classifier may take from a report's state: its items' digests, made for
    the deltas anyway, which spare it serializing the items and tell it the sections that did not change."""
    return {"item_keys": known.state().digests}


@dataclass
class IngestResult:
    stored: bool  # False: a duplicate of a report stored earlier, or nothing stored (`send_full`)
    send_full: int = 0  # a FullReportReason (collector.proto): send this report again in full

    def ack_fields(self) -> dict:
        """What a ReportAck says of this result (beside the report id and interval)."""
        return {"duplicate": not self.stored and not self.send_full, "deltas_accepted": True,
                "send_full": self.send_full}


class IngestQueue:
    """Bounded queue in front of a single database writer (group commit)."""

    def __init__(self, store: Store, *, max_pending: int = 2048, max_batch: int = 256):
        self.store, self.max_batch = store, max_batch
        self._queue: queue.Queue = queue.Queue(maxsize=max_pending)
        self._thread = threading.Thread(target=self._run, name="ingest-writer", daemon=True)
        self._thread.start()

    def submit(self, item: Incoming) -> Future:
        future: Future = Future()
        if item.send_full:  # a delta that cannot be taken: answered at once, nothing to write
            future.set_result(IngestResult(stored=False, send_full=item.send_full))
            return future
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
        for (item, future), new in zip(batch, stored):
            future.set_result(IngestResult(stored=new, send_full=item.send_full))


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
    if item.send_full or tx.is_stored(report.report_id):  # a delta not taken stores nothing
        return False
    device = tx.device_state(report.device_id)
    if item.delta is not None and (device is None or device.last_report_id != item.delta.delta.base_report_id):
        item.send_full = collector_pb2.FULL_REPORT_SEQUENCE_GAP  # the device moved on since prepare()
        return False
    order = order_of(report, item.received_at, item.cert_serial, device)
    item.replay, item.moved = order.replay, order.moves_device
    combined = _combined(item.verdict, lambda: tx.fleet_findings(report.device_id)) if order.moves_device else None
    prepare_write(item, wifi)  # unless the caller did, before the writer's turn
    tx.write(item, item.form, Decision(item.replay, order.moves_device, combined, item.locations, item.scans), device)
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
        self.states = DeviceStates(self.storage.device_state)  # for delta reports

    def __getattr__(self, name: str):
        if name in ("storage", "wifi", "states"):  # not made yet (open_storage failed)
            raise AttributeError(name)
        return getattr(self.storage, name)

    def ingest(self, batch: list[Incoming]) -> list[bool]:
        stored = store_batch(self.storage, batch, self.wifi)
        for item, new in zip(batch, stored):  # committed: the next deltas build on these
            if new and item.moved:
                self.states.remember(item.report.device_id, item.known)
            elif item.send_full:
                self.states.forget(item.report.device_id)
        return stored

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
