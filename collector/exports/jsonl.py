"""Flag events as JSON lines, to a file (appended) or to stdout, one flushed line per event."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

from farmwatch.collector.exports.delivery import DeliveryError
from farmwatch.collector.exports.feed import FlagEvent
from farmwatch.collector.exports.registry import Flag, Setting, SinkSpec, register


class JsonLinesSink:
    def __init__(self, path: Path | None = None, stream: TextIO | None = None):
        """Append to `path`, or write to `stream` (stdout when neither is given)."""
        self.path = Path(path).resolve() if path else None
        self._out = open(self.path, "a", encoding="utf-8") if self.path else (stream or sys.stdout)

    @property
    def name(self) -> str:
        return f"jsonl:{self.path}" if self.path else "jsonl:stdout"

    def send(self, event: FlagEvent) -> None:
        try:
            self._out.write(event.to_json() + "\n")
            self._out.flush()  # a reader tailing the file (or a pipe) sees each event at once
        except OSError as exc:
            raise DeliveryError(f"cannot write {self.name}: {exc}", permanent=True) from exc

    def close(self) -> None:
        if self.path:
            self._out.close()


def build(values: dict) -> JsonLinesSink:
    output = values["output"]
    return JsonLinesSink(Path(output) if output and output != "-" else None)


SINK = register(SinkSpec(
    kind="jsonl", order=10, help="one JSON object per line, to a file (appended) or stdout",
    example="farmwatch-collector --home /srv/fw export jsonl --follow --output /var/log/farmwatch/flags.jsonl",
    settings=(Setting("output", help="file to append to (default stdout)", flag=Flag("--output", "FILE")),),
    build=build))
