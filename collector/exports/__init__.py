"""Exports of new, changed and cleared flags to what security teams already run.

    from farmwatch.collector.exports import SinkCursor, JsonLinesSink, send_pending, RetryPolicy
    cursor = SinkCursor(store, sink.name)         # what this sink was already sent
    send_pending(store, cursor, sink, RetryPolicy())

Sinks: JSON lines (`jsonl`), CEF over syslog (`cef`), webhook POSTs (`webhook`). Each sink module
declares its kind, settings and builder in one `registry.SinkSpec`; collector.toml's checks and the
`export` command's flags come from those (`sinks()` lists them). `feed` says what a flag is and
when it counts as new, changed or cleared.
"""
from farmwatch.collector.exports.cef import SyslogSink, to_cef
from farmwatch.collector.exports.delivery import DeliveryError, Stopped
from farmwatch.collector.exports.feed import (CHANGED, CLEARED, NEW, FlagEvent, MemoryCursor, SinkCursor,
                                              current_flags, diff)
from farmwatch.collector.exports.jsonl import JsonLinesSink
from farmwatch.collector.exports.registry import Flag, Setting, SinkSpec, register, sinks
from farmwatch.collector.exports.runner import RetryPolicy, Sink, follow, send_pending
from farmwatch.collector.exports.webhook import WebhookSink

__all__ = ["SyslogSink", "to_cef", "DeliveryError", "Stopped", "NEW", "CHANGED", "CLEARED", "FlagEvent",
           "MemoryCursor", "SinkCursor", "current_flags", "diff", "JsonLinesSink",
           "RetryPolicy", "Sink", "follow", "send_pending", "WebhookSink", "Flag", "Setting", "SinkSpec",
           "register", "sinks"]
