"""Per-device inventory: what each laptop has, with when each item was first and last seen.

A laptop repeats the same few hundred processes all day, so the inventory is written only when
something changes: a row is added when an item appears and closed (`present = 0`, `last_seen`
set) when it disappears. While an item is present its last sighting is the device's `last_seen`;
the `current_<table>` views show that. One `InventoryTable` description per kind of item drives
the schema, the diff and the queries alike (the SQL of both: `storage.inventory`).
"""
from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass
from functools import cached_property, lru_cache
from operator import attrgetter
from typing import Callable, Iterable

from google.protobuf.message import Message

from farmwatch.common.delta import section
from farmwatch.v1 import report_pb2

Row = dict


@dataclass(frozen=True)
class InventoryTable:
    """Either `source` (the report's repeated field, dotted) and `row` (one message -> one row),
    when every identity column is a plain field of those messages, so identities are read
    without building rows; or `derive` (report -> rows) when an item is computed.

    Column types come from the proto (`storage.inventory`): a column named like a field of the
    messages of `source` (or of `typed_by`, the repeated field a derived table is made from) takes
    that field's type; any other column is text."""
    name: str
    identity: tuple[str, ...]  # columns whose values make an item the same item
    attributes: tuple[str, ...]  # columns recorded as first seen
    source: str | None = None
    row: Callable[[Message], Row] | None = None
    derive: Callable[[report_pb2.AgentReport], Iterable[Row]] | None = None
    typed_by: str | None = None  # for a derived table: the report's repeated field its rows come from

    @property
    def columns(self) -> tuple[str, ...]:
        return self.identity + self.attributes

    def key(self, row: Row) -> str:
        return json.dumps([row[c] for c in self.identity], ensure_ascii=False, separators=(",", ":"))

    def identities(self, report) -> Iterable[tuple]:
        """The identity values of every item in the report, cheaply when the table allows."""
        if self.source is None:
            return (self._identity_of_row(row) for row in self.derive(report))
        return map(self._identity_of_message, attrgetter(self.source)(report))

    def rows(self, report, wanted: set[tuple] | None = None) -> dict[tuple, Row]:
        """Rows by identity (the first item of each), only those in `wanted` when given."""
        rows = {}
        if self.source is None:
            for row in self.derive(report):
                identity = self._identity_of_row(row)
                if wanted is None or identity in wanted:
                    rows.setdefault(identity, row)
            return rows
        for message in attrgetter(self.source)(report):
            identity = self._identity_of_message(message)
            if (wanted is None or identity in wanted) and identity not in rows:
                rows[identity] = self.row(message)
        return rows

    def _identity_of_row(self, row: Row) -> tuple:
        return tuple(row[c] for c in self.identity)

    @cached_property
    def _identity_of_message(self) -> Callable[[Message], tuple]:
        if len(self.identity) == 1:  # attrgetter of one name gives the value, not a tuple
            return lambda message: (getattr(message, self.identity[0]),)
        return attrgetter(*self.identity)


def _process(p) -> Row:
    return {"name": p.name, "exe": p.exe, "username": p.username, "signer": p.signer,
            "bundle_id": p.bundle_id, "cmdline": json.dumps(list(p.cmdline), ensure_ascii=False)}


def _application(a) -> Row:
    return {"name": a.name, "version": a.version, "path": a.path, "bundle_id": a.bundle_id,
            "publisher": a.publisher, "signer": a.signer, "source": a.source}


def _usb_device(d) -> Row:
    interfaces = [
        {"class": i.interface_class, "subclass": i.interface_subclass,
         "protocol": i.interface_protocol, "driver": i.driver}
        for i in d.interfaces
    ]
    return {"vendor_id": d.vendor_id, "product_id": d.product_id, "serial": d.serial,
            "bus_path": d.bus_path, "manufacturer": d.manufacturer, "product": d.product,
            "device_class": d.device_class, "bcd_device": d.bcd_device, "speed_mbps": d.speed_mbps,
            "interfaces": json.dumps(interfaces)}


def _display(d) -> Row:
    return {"connector": d.connector, "manufacturer_id": d.manufacturer_id,
            "product_code": d.product_code, "serial_number": d.serial_number,
            "monitor_name": d.monitor_name, "width_mm": d.width_mm, "height_mm": d.height_mm,
            "built_in": int(d.built_in)}


def _listener(entry) -> Row:
    return {"ip": entry.ip, "port": entry.port, "protocol": entry.protocol, "process_name": entry.process_name}


def _connections(report):
    """Connections keyed without the ephemeral port, so a long-lived peer is one item."""
    listening = {entry.port for entry in report.network.listeners}
    for c in report.network.connections:
        inbound = c.local_port in listening
        yield {"direction": "inbound" if inbound else "outbound", "process_name": c.process_name,
               "local_port": c.local_port if inbound else 0, "remote_ip": c.remote_ip,
               "remote_port": 0 if inbound else c.remote_port, "status": c.status}


def _sessions(report):
    for s in report.sessions:
        yield {"user": s.user, "terminal": s.terminal, "remote_host": s.remote_host,
               "started_at": s.started_at.ToJsonString() if s.HasField("started_at") else ""}


TABLES = (
    InventoryTable("processes", ("name", "exe", "username"), ("signer", "bundle_id", "cmdline"),
                   source="processes", row=_process),
    InventoryTable("applications", ("name", "version", "path", "bundle_id", "source"), ("publisher", "signer"),
                   source="applications", row=_application),
    InventoryTable("usb_devices", ("vendor_id", "product_id", "serial", "bus_path"),
                   ("manufacturer", "product", "device_class", "bcd_device", "speed_mbps", "interfaces"),
                   source="usb_devices", row=_usb_device),
    InventoryTable("displays", ("connector", "manufacturer_id", "product_code", "serial_number"),
                   ("monitor_name", "width_mm", "height_mm", "built_in"), source="displays", row=_display),
    InventoryTable("listeners", ("ip", "port", "protocol", "process_name"), (),
                   source="network.listeners", row=_listener),
    InventoryTable("connections", ("direction", "process_name", "local_port", "remote_ip", "remote_port"),
                   ("status",), derive=_connections, typed_by="network.connections"),
    InventoryTable("sessions", ("user", "terminal", "remote_host", "started_at"), (), derive=_sessions,
                   typed_by="sessions"),
)


def inputs_of(table: InventoryTable) -> set[str]:
    """The report sections a table's rows are made from (connections: also the listeners, which
    tell inbound from outbound)."""
    made_from = {table.source or table.typed_by}
    return made_from | {"network.listeners"} if table.name == "connections" else made_from


@lru_cache(maxsize=1 << 14)  # laptops repeat their items, and a fleet its programs (~5 MB)
def identity_hash(identity: tuple) -> int:
    key = "\x1f".join(map(str, identity))
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=DIGEST_BYTES).digest(), "big")


DIGEST_BYTES = 12
_DIGEST_MODULUS = 1 << (8 * DIGEST_BYTES)


def digest(table: InventoryTable, report, identities: Iterable[tuple] | None = None) -> str:
    """A digest of the set of items' identities: equal digests, same items (attributes aside).

    The sum of the identities' hashes, so that a delta report's digest follows from the identities
    that came and went (`Present.changed`) instead of every item of the report.
    `identities`: the report's, when the caller has them already.
    """
    return Present.of(table.identities(report) if identities is None else identities).digest


@dataclass(frozen=True)
class Present:
    """A table's identities in one report, by their hashes (`identity_hash`, small beside the
    identities a device's state would otherwise keep): how many of its items hold each, and the sum
    of the distinct ones (`digest`). Never changed once made: a delta makes a new one."""

    counts: Counter
    total: int

    @classmethod
    def of(cls, identities: Iterable[tuple]) -> Present:
        counts = Counter(map(identity_hash, identities))
        return cls(counts, sum(counts))

    @property
    def digest(self) -> str:
        return f"{self.total % _DIGEST_MODULUS:0{2 * DIGEST_BYTES}x}"

    def __contains__(self, identity: tuple) -> bool:
        return identity_hash(identity) in self.counts

    def changed(self, added: list[tuple], removed: list[tuple]) -> tuple[Present, set[tuple], set[tuple]]:
        """(the identities once `added` came and `removed` went, those that appeared, those gone)."""
        touched = {identity_hash(identity): identity for identity in (*added, *removed)}
        counts = self.counts.copy()
        counts.update(map(identity_hash, added))
        counts.subtract(map(identity_hash, removed))
        appeared = {h for h in touched if counts[h] > 0 and h not in self.counts}
        gone = {h for h in touched if counts[h] <= 0 and h in self.counts}
        for h in touched:
            if counts[h] <= 0:
                del counts[h]
        total = self.total + sum(appeared) - sum(gone)
        return Present(counts, total), {touched[h] for h in appeared}, {touched[h] for h in gone}


@dataclass(frozen=True)
class Flip:
    """How a table's identities changed with a delta report: those that appeared (their items are
    in `added`, a report holding the new items) and those gone; both None when not worked out
    (any may have: `added` is then the whole report)."""

    appeared: set[tuple] | None
    gone: set[tuple] | None
    added: report_pb2.AgentReport


@dataclass(frozen=True)
class Inventory:
    """A report's inventory identities, per table (`Present`); for one rebuilt from a delta report,
    also how they changed per table whose sections the delta changed (`flips`; None: not known,
    any item may differ from the stored inventory's)."""

    tables: dict[str, Present]
    flips: dict[str, Flip] | None = None

    @classmethod
    def of(cls, report) -> Inventory:
        return cls({table.name: Present.of(table.identities(report)) for table in TABLES})

    def after(self, delta_report, removed: dict[str, list], report, changed: set[str]) -> Inventory:
        """The inventory of `report`, which is this one's report with `delta_report`'s items added
        and `removed` (section -> items) gone; `changed`: the sections the delta changed."""
        tables, flips = dict(self.tables), {}
        for table in TABLES:
            inputs = inputs_of(table)
            if not inputs & changed:
                continue
            before, main = self.tables[table.name], table.source or table.typed_by
            if (inputs - {main}) & changed:  # what tells its rows apart changed too: count afresh
                tables[table.name] = Present.of(table.identities(report))
                flips[table.name] = Flip(None, None, report)
                continue
            added = _items_report(report, table, main, section(delta_report, main))
            tables[table.name], appeared, gone = before.changed(
                list(table.identities(added)),
                list(table.identities(_items_report(report, table, main, removed.get(main, [])))))
            flips[table.name] = Flip(appeared, gone, added)
        return Inventory(tables, flips)


def _items_report(report, table: InventoryTable, main: str, items) -> report_pb2.AgentReport:
    """A report holding only `items` in section `main`, and the table's other inputs as `report` has
    them: what a table's identities of those items are read from."""
    part = report_pb2.AgentReport()
    section(part, main).extend(items)
    for other in inputs_of(table) - {main}:
        section(part, other).extend(section(report, other))
    return part
