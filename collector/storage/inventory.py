"""The inventory tables' SQL: their schema and views, and the change-only diff ingest writes.

What the tables are (`TABLES`, one `InventoryTable` per kind of item) is described in
`farmwatch.collector.inventory`; this module turns that description into tables and rows.
"""
from __future__ import annotations

from google.protobuf.descriptor import FieldDescriptor

from farmwatch.collector.inventory import TABLES, Inventory, InventoryTable, Present
from farmwatch.v1 import report_pb2

_MAX_TOUCHED = 500  # identities looked up by key; more (a reinstall) and the device's rows are read whole


def create_schema(db) -> None:
    """Tables and `current_*` views, through sqlite-utils."""
    for table in TABLES:
        columns = {"device_id": str, "key": str}
        columns.update(column_types(table))
        columns.update({"first_seen": str, "last_seen": str, "first_report_id": str, "present": int})
        db[table.name].create(columns, if_not_exists=True)
        db[table.name].create_index(["device_id", "present", "key"], if_not_exists=True)
        select = ", ".join(f't."{c}"' for c in table.columns)  # `user` is reserved in PostgreSQL
        db.create_view(
            f"current_{table.name}",
            f"SELECT t.device_id, {select}, t.first_seen, d.last_seen "
            f"FROM {table.name} t JOIN devices d USING (device_id) WHERE t.present = 1",
            ignore=True,
        )


_INTEGER_TYPES = {FieldDescriptor.TYPE_INT32, FieldDescriptor.TYPE_INT64, FieldDescriptor.TYPE_UINT32,
                  FieldDescriptor.TYPE_UINT64, FieldDescriptor.TYPE_SINT32, FieldDescriptor.TYPE_SINT64,
                  FieldDescriptor.TYPE_FIXED32, FieldDescriptor.TYPE_FIXED64, FieldDescriptor.TYPE_SFIXED32,
                  FieldDescriptor.TYPE_SFIXED64, FieldDescriptor.TYPE_BOOL}
_FLOAT_TYPES = {FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT}


def column_types(table: InventoryTable) -> dict[str, type]:
    """Each column's SQL type from the proto field of the same name (numbers and booleans as
    INTEGER or FLOAT); text for repeated fields and messages (stored as JSON or RFC 3339) and
    for columns no field names. A new repeated field's table needs no type list of its own."""
    message = _message_of(table.source or table.typed_by)
    return {column: _type_of(message.fields_by_name.get(column) if message else None) for column in table.columns}


def _message_of(path: str | None):
    """The message type of the report's repeated field at a dotted path (None without a path)."""
    if path is None:
        return None
    message = report_pb2.AgentReport.DESCRIPTOR
    for name in path.split("."):
        message = message.fields_by_name[name].message_type
    return message


def _type_of(field: FieldDescriptor | None) -> type:
    if field is None or field.is_repeated:
        return str
    if field.type in _FLOAT_TYPES:
        return float
    return int if field.type in _INTEGER_TYPES else str


def apply(conn, device_id: str, report_id: str, seen_at: str, previous_seen: str | None,
          report, digests: dict[str, str], known: Inventory) -> dict[str, str]:
    """Bring the device's inventory up to this report (`known`: its identities); returns the new
    digests. When `known` says which identities came and went since the report `digests` (and the
    stored inventory) are of (a delta report's `flips`), only those are looked at, and tables made
    from other sections are left as they are, unread; otherwise any item may differ."""
    new_digests = {}
    for table in TABLES:
        present = known.tables[table.name]
        new_digests[table.name] = present.digest
        if known.flips is not None and table.name in digests:
            flip = known.flips.get(table.name)
            touched = None if flip is None or flip.appeared is None else {*flip.appeared, *flip.gone}
            if flip is not None and touched != set():  # new rows: of the items the delta added
                _diff(conn, table, device_id, report_id, seen_at, previous_seen or seen_at, flip.added, present,
                      touched)
        elif digests.get(table.name) != new_digests[table.name]:
            _diff(conn, table, device_id, report_id, seen_at, previous_seen or seen_at, report, present, None)
    return new_digests


def _diff(conn, table, device_id, report_id, seen_at, previous_seen, report, current: Present,
          touched: set[tuple] | None):
    """Close the items that went away, add the new ones; rows are built for new items only, from
    `report`'s. `touched`: the only identities that may have come or gone (None: any, and `report`
    holds every item)."""
    select = f"SELECT rowid, {_names(table.identity)} FROM {table.name} WHERE device_id = ? AND present = 1"
    if touched is None or len(touched) > _MAX_TOUCHED:
        cursor = conn.execute(select, (device_id,))
    else:
        keys = [table.key(dict(zip(table.identity, identity))) for identity in touched]
        cursor = conn.execute(f"{select} AND key IN ({', '.join('?' * len(keys))})", (device_id, *keys))
    present = {tuple(values): rowid for rowid, *values in cursor}
    gone = [(previous_seen, rowid) for identity, rowid in present.items() if identity not in current]
    conn.executemany(f"UPDATE {table.name} SET present = 0, last_seen = ? WHERE rowid = ?", gone)
    wanted = set(table.identities(report)) if touched is None else {i for i in touched if i in current}
    new = table.rows(report, wanted - present.keys())
    columns = table.columns
    placeholders = ", ".join("?" * (len(columns) + 6))
    conn.executemany(
        f"INSERT INTO {table.name} (device_id, key, {_names(columns)}, first_seen, last_seen, "
        f"first_report_id, present) VALUES ({placeholders})",
        [(device_id, table.key(row), *(row[c] for c in columns), seen_at, seen_at, report_id, 1)
         for row in new.values()],
    )


def _names(columns) -> str:
    """Column names quoted: an inventory column may be a word PostgreSQL reserves (`user`)."""
    return ", ".join(f'"{c}"' for c in columns)
