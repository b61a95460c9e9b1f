"""Where a new report stands against the device's last one: news, or history (the replay rule).

Sequences count per certificate (a re-enrolled agent with a fresh state directory starts again at
1); the first report of a certificate is news. After that:

- NEWS: a sequence above the last one, by no more than the time since allows. It moves the device.
- RESTARTED: at or below the last sequence but collected after the last report: an agent whose
  outbox was wiped, so its count restarted. Marked a replay; it moves the device, whose sequence
  restarts with it (otherwise wiping the spool would freeze the device's verdict).
- OLD: at or below the last sequence and collected no later: an old report sent again. Marked a
  replay; history, not news.
- FORGED: further ahead of the last sequence than one report a minute (the agent's floor) since
  the last report, plus `SEQUENCE_SLACK`. No agent counts like that; a client that does must not
  set the device's sequence so high that every honest report after it looks like a replay. Marked
  a replay; history, not news.

Neither side of the comparison is taken on the agent's word alone: a `collected_at` more than
`CLOCK_AHEAD_TRUSTED` after the collector received the report (9999-12-31) counts as its receipt
time, so it cannot make later reports look older than it for longer than that. Clocks a few hours
off (time zone mistakes) stay trusted. Replays of all kinds raise a fleet finding when they repeat
(`fleet.replays`). Times the collector cannot read (none it writes itself) leave the rule as it
was before these checks: sequences alone.
"""
from __future__ import annotations

import datetime as dt
import enum

from google.protobuf.timestamp_pb2 import Timestamp

from farmwatch.common.intervals import MIN_REPORT_INTERVAL

# Reports an agent may make beyond one a minute since its last report reached us: `run --once`
# by hand, scans while the collector was unreachable are already covered by the elapsed time.
SEQUENCE_SLACK = 1000
CLOCK_AHEAD_TRUSTED = dt.timedelta(days=1)
_AHEAD_NANOS = int(CLOCK_AHEAD_TRUSTED.total_seconds()) * 10**9


class Order(enum.Enum):
    NEWS = "news"
    RESTARTED = "restarted"
    OLD = "old"
    FORGED = "forged"

    @property
    def replay(self) -> bool:
        return self is not Order.NEWS

    @property
    def moves_device(self) -> bool:
        return self in (Order.NEWS, Order.RESTARTED)


def order_of(report, received_at: str, cert_serial: str, device) -> Order:
    """`device`: the storage's DeviceState of the report's device (None: never seen)."""
    if device is None or device.last_cert_serial != cert_serial:
        return Order.NEWS
    last = device.last_sequence or 0
    if report.sequence > last + sequence_allowance(device.last_seen, received_at):
        return Order.FORGED
    if report.sequence > last:
        return Order.NEWS
    return Order.RESTARTED if _collected_after(report, received_at, device) else Order.OLD


def sequence_allowance(last_seen: str | None, received_at: str) -> float:
    """How far a sequence may run ahead of the last one received at `last_seen`."""
    then, now = _nanos(last_seen), _nanos(received_at)
    if then is None or now is None:
        return float("inf")
    return max(0, now - then) // 10**9 // MIN_REPORT_INTERVAL + SEQUENCE_SLACK


def _collected_after(report, received_at: str, device) -> bool:
    if not report.HasField("collected_at") or not device.last_collected_at:
        return False
    last_collected = _nanos(device.last_collected_at)
    collected = _trusted(report.collected_at.ToNanoseconds(), _nanos(received_at))
    return collected > _trusted(last_collected, _nanos(device.last_seen))


def _trusted(collected: int, received: int | None) -> int:
    """`collected`, or `received` when `collected` is too far after it to be believed."""
    return received if received is not None and collected > received + _AHEAD_NANOS else collected


def _nanos(rfc3339: str | None) -> int | None:
    stamp = Timestamp()
    try:
        stamp.FromJsonString(rfc3339 or "")
    except ValueError:
        return None
    return stamp.ToNanoseconds()
