"""What one MDM's device list reads into: roster entries with the MDM's own device ids, and the
records that could not be read.

A record is read into a roster entry the way a CSV row is (`farmwatch.collector.roster`: serial,
e-mail and date spellings). What a record that is not whole means is decided here, once for
every MDM:

- a well-formed record without a usable serial (a BYOD phone, a virtual machine's placeholder) is
  skipped and noted: the roster is keyed on serials and never held it;
- a malformed record (not an object, a field of the wrong type, a section missing) is skipped and
  reported. If its serial can be read, the roster row of that serial is kept as it was; if not,
  the sync cannot know which row it was, so it removes no rows at all this time (`hold_removals`).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from farmwatch.collector.roster import Problem, RosterEntry, normalise_date, normalise_email, normalise_serial


class MalformedRecord(ValueError):
    """A record the MDM should not have sent; the message says what is wrong with it."""


@dataclass(frozen=True)
class MdmDevice:
    mdm_id: str
    entry: RosterEntry
    device_name: str = ""
    os: str = ""
    groups: str = ""  # kandji: the blueprint
    directory_id: str = ""  # intune: the Entra device id (azureADDeviceId), where write-back goes


@dataclass
class Inventory:
    source: str
    provided: tuple[str, ...]  # the roster fields this MDM has (others are left alone)
    devices: list[MdmDevice] = field(default_factory=list)
    skipped: list[Problem] = field(default_factory=list)  # `line`: the record's place in the listing, from 1
    kept: set[str] = field(default_factory=set)  # serials of malformed records: their rows stay as they were
    hold_removals: bool = False  # a malformed record without a readable serial

    def add(self, position: int, record, read, serial_of) -> None:
        """Read one record with `read(position, record)` into the inventory, or note why not;
        `serial_of(record)` finds the serial of a malformed one, if it can."""
        try:
            device = read(position, record)
        except MalformedRecord as exc:
            serial = serial_of(record)
            self.skipped.append(Problem(position, f"malformed: {exc}"))
            if serial:
                self.kept.add(serial)
            else:
                self.hold_removals = True
            return
        if device is None:
            self.skipped.append(Problem(position, "the device has no usable serial number; not on the roster"))
        else:
            self.devices.append(device)


def text(record: dict, key: str, where: str = "") -> str:
    """A string field ("" when absent or null); MalformedRecord when it holds anything else."""
    value = record.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise MalformedRecord(f"{where}{key} is {type(value).__name__}, not text")
    return value.strip()


def record_id(record, key: str) -> str:
    """The MDM's own id of a record (text; Jamf's numeric ids taken as text); MalformedRecord when
    the record is no object or has no id, since write-back could not address it."""
    if not isinstance(record, dict):
        raise MalformedRecord(f"the record is {type(record).__name__}, not an object")
    value = record.get(key)
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise MalformedRecord(f"{key} is {value!r}, not an id")
    return value.strip()


def section(record, key: str) -> dict:
    """A nested object ({} when null); MalformedRecord when it is anything else."""
    if not isinstance(record, dict):
        raise MalformedRecord(f"the record is {type(record).__name__}, not an object")
    value = record.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise MalformedRecord(f"{key} is {type(value).__name__}, not an object")
    return value


def entry(position: int, serial: str, *, user_name: str = "", email: str = "", department: str = "",
          issue_date: str = "") -> RosterEntry | None:
    """The roster entry of one record, None when its serial is no serial."""
    key = normalise_serial(serial)
    if key is None:
        return None
    return RosterEntry(line=position, serial=key, user_name=user_name or None,
                       email=normalise_email(email) if email else None, department=department or None,
                       issue_date=normalise_date(issue_date) if issue_date else None)


def serial_at(record, *keys: str) -> str | None:
    """The normalised serial at `keys` (a path into nested objects) of a record that may be malformed."""
    value = record
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    return normalise_serial(value) if isinstance(value, str) else None
