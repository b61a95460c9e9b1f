"""Flag events as ArcSight CEF inside syslog (RFC 5424 or RFC 3164), over TCP or UDP.

CEF: `CEF:0|Vendor|Product|Version|SignatureID|Name|Severity|key=value ...`. In the header a
backslash and a pipe are escaped (`\\\\`, `\\|`); in extension values a backslash and an equals
sign are (`\\\\`, `\\=`), and line breaks become `\\n` / `\\r`. Severity is 0-10. CEF has no escape
for other control characters, yet a laptop's user controls its hostname: ESC, BEL, NUL, C1, bidi
overrides and U+2028 are written as visible escapes (`printable.escape`, e.g. `\\x1b`), whose
backslash is escaped in turn, so a CEF reader shows `\\x1b` and a terminal or SIEM never gets them raw.

Over TCP, RFC 5424 messages are framed by octet counting (RFC 6587 §3.4.1, as RFC 5425 does);
RFC 3164 messages end with a newline, as traditional syslog daemons expect. Over UDP one
datagram carries one message, and nothing confirms it arrived.
"""
from __future__ import annotations

import datetime as dt
import os
import socket
from dataclasses import dataclass, field

from farmwatch.collector.exports.delivery import DeliveryError
from farmwatch.collector.exports.feed import CLEARED, FlagEvent
from farmwatch.collector.exports.registry import Flag, Setting, SinkSpec, register
from farmwatch.common.printable import escape, is_hidden, visible
from farmwatch.common.names import installed_version

VENDOR, PRODUCT = "farmwatch", "farmwatch-collector"
CEF_SEVERITY = {"info": 1, "low": 3, "medium": 5, "high": 8, "critical": 10}
# syslog severities: 2 critical, 3 error, 4 warning, 5 notice, 6 informational
SYSLOG_SEVERITY = {"critical": 2, "high": 3, "medium": 4, "low": 5, "info": 6}
FACILITIES = {"kern": 0, "user": 1, "daemon": 3, "auth": 4, "syslog": 5, "authpriv": 10,
              **{f"local{n}": 16 + n for n in range(8)}}
FORMATS = ("rfc5424", "rfc3164")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_NAME_LIMIT = 512


def escape_header(text: str) -> str:
    """A header field: hidden characters as visible escapes, then the spec's escaping of `\\` and `|`."""
    return visible(text).replace("\\", "\\\\").replace("|", "\\|")


_VALUE_ESCAPES = {"\\": "\\\\", "=": "\\=", "\n": "\\n", "\r": "\\r"}


def escape_value(text: str) -> str:
    """An extension value: the spec's escapes (`\\`, `=`, line breaks as `\\n` / `\\r`); any other
    hidden character as a visible escape whose backslash is escaped too (ESC arrives as `\\x1b`)."""
    return "".join(_VALUE_ESCAPES.get(ch) or (escape(ch).replace("\\", "\\\\") if is_hidden(ch) else ch)
                   for ch in text)


def to_cef(event: FlagEvent, version: str | None = None) -> str:
    flag = event.flag
    cleared = event.event == CLEARED
    name = ("cleared: " if cleared else "") + (flag.get("summary") or flag["rule"])
    severity = 1 if cleared else CEF_SEVERITY.get(flag.get("severity"), 5)
    header = [VENDOR, PRODUCT, version or installed_version(), flag["rule"], name[:_NAME_LIMIT], str(severity)]
    extension = {
        "rt": _epoch_ms(flag.get("received_at")),
        "act": event.event,
        "deviceExternalId": flag.get("device_id"),
        "dvchost": flag.get("hostname"),
        "externalId": f"{flag.get('device_id')}/{flag['rule']}",
        "msg": flag.get("summary"),
        "cs1Label": "verdict", "cs1": flag.get("verdict"),
        "cs2Label": "findingSeverity", "cs2": flag.get("severity"),
        "cs3Label": "reportId", "cs3": flag.get("report_id"),
        "cn1Label": "score", "cn1": flag.get("score"),
    }
    if event.previous:
        extension.update({"cs4Label": "previousVerdict", "cs4": event.previous.get("verdict"),
                          "cs5Label": "previousSeverity", "cs5": event.previous.get("severity")})
    pairs = " ".join(f"{key}={escape_value(str(value))}" for key, value in extension.items()
                     if value not in (None, ""))
    return "CEF:0|" + "|".join(escape_header(part) for part in header) + "|" + pairs


def _epoch_ms(rfc3339: str | None) -> str | None:
    if not rfc3339:
        return None
    try:
        when = dt.datetime.fromisoformat(rfc3339.replace("Z", "+00:00"))
    except ValueError:
        return None
    return str(round(when.timestamp() * 1000))


def syslog_severity(event: FlagEvent) -> int:
    return 6 if event.event == CLEARED else SYSLOG_SEVERITY.get(event.flag.get("severity"), 4)


def rfc5424(message: str, *, facility: int, severity: int, hostname: str, app: str = "farmwatch",
            msgid: str = "flag", when: dt.datetime | None = None) -> str:
    when = (when or dt.datetime.now(dt.timezone.utc)).astimezone(dt.timezone.utc)
    stamp = when.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return f"<{facility * 8 + severity}>1 {stamp} {hostname or '-'} {app} {os.getpid()} {msgid} - {message}"


def rfc3164(message: str, *, facility: int, severity: int, hostname: str, app: str = "farmwatch",
            when: dt.datetime | None = None) -> str:
    when = when or dt.datetime.now().astimezone()  # RFC 3164 stamps are the sender's local time
    stamp = f"{_MONTHS[when.month - 1]} {when.day:2d} {when:%H:%M:%S}"
    return f"<{facility * 8 + severity}>{stamp} {hostname} {app}[{os.getpid()}]: {message}"


def parse_destination(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"syslog destination {text!r} is not HOST:PORT (e.g. siem.example.com:514)")
    return host.strip("[]"), int(port)


@dataclass
class SyslogSink:
    """Sends each event as one CEF syslog message to `host:port`."""

    host: str
    port: int
    transport: str = "udp"  # or "tcp"
    format: str = "rfc5424"
    facility: str = "auth"
    timeout: float = 10.0
    hostname: str = field(default_factory=socket.gethostname)
    _tcp: socket.socket | None = field(default=None, init=False, repr=False)

    def __post_init__(self):
        if self.transport not in ("udp", "tcp"):
            raise ValueError(f"syslog transport must be udp or tcp, not {self.transport!r}")
        if self.format not in FORMATS:
            raise ValueError(f"syslog format must be one of {', '.join(FORMATS)}, not {self.format!r}")
        if self.facility not in FACILITIES:
            raise ValueError(f"unknown syslog facility {self.facility!r}; one of {', '.join(FACILITIES)}")

    @property
    def name(self) -> str:
        return f"cef:{self.transport}:{self.host}:{self.port}"

    def frame(self, event: FlagEvent) -> bytes:
        build = rfc5424 if self.format == "rfc5424" else rfc3164
        line = build(to_cef(event), facility=FACILITIES[self.facility], severity=syslog_severity(event),
                     hostname=self.hostname).encode("utf-8")
        if self.transport == "udp":
            return line
        return b"%d %s" % (len(line), line) if self.format == "rfc5424" else line + b"\n"

    def send(self, event: FlagEvent) -> None:
        data = self.frame(event)
        try:
            if self.transport == "udp":
                family, _, _, _, address = socket.getaddrinfo(self.host, self.port, type=socket.SOCK_DGRAM)[0]
                with socket.socket(family, socket.SOCK_DGRAM) as udp:
                    udp.sendto(data, address)
            else:
                self._connected().sendall(data)
        except OSError as exc:
            self.close()  # a broken TCP stream is reopened on the next try
            raise DeliveryError(f"syslog {self.transport} {self.host}:{self.port}: {exc}") from exc

    def _connected(self) -> socket.socket:
        if self._tcp is None:
            self._tcp = socket.create_connection((self.host, self.port), timeout=self.timeout)
        return self._tcp

    def close(self) -> None:
        if self._tcp is not None:
            self._tcp.close()
            self._tcp = None



def build(values: dict) -> SyslogSink:
    host, port = parse_destination(values["to"])
    return SyslogSink(host, port, transport=values["transport"], format=values["format"],
                      facility=values["facility"])


SINK = register(SinkSpec(
    kind="cef", order=20, help="CEF messages over syslog (RFC 5424, or 3164), over TCP or UDP (fire-and-forget)",
    example="farmwatch-collector --home /srv/fw export cef --follow --to siem.example.com:514 --tcp",
    settings=(
        Setting("to", help="syslog receiver", required="say where to send CEF", flag=Flag("--to", "HOST:PORT")),
        Setting("transport", default="udp", help="udp or tcp (default udp)",
                flag=Flag("--tcp", const="tcp", help="TCP instead of UDP. UDP is fire-and-forget: a lost message, "
                          "or one sent to a port nobody listens on, counts as delivered and is not sent again. "
                          "Over TCP a receiver that is down is an error, and the events wait for the next run")),
        Setting("format", default="rfc5424", help=f"one of {', '.join(FORMATS)} (default rfc5424)",
                flag=Flag("--rfc3164", const="rfc3164", help="BSD syslog lines instead of RFC 5424")),
        Setting("facility", default="auth", help="syslog facility (default auth)", flag=Flag("--facility")),
    ),
    build=build))
