"""How large the parts of one report may be: a laptop has hundreds of processes, not 100,000.

The transport's message limit (max_message_bytes, 4 MiB) bounds a report's bytes, not its cost:
4 MiB of tiny processes is 120,000 items to classify and store, 14–22 s of collector CPU. These
limits bound the number of items in each list and the length of every string, with a wide margin
over real laptops (docs/design.md "Limits on a report" gives the figures they come from). A report
over one is refused as a whole with INVALID_ARGUMENT naming the field and the limit: the agent
drops that one report (it can never be taken) and sends the next, so an honest laptop that ever
met a limit would lose one report, not its voice.
"""
from __future__ import annotations

import functools
import operator

from google.protobuf.descriptor import FieldDescriptor

# Items in one list, by its path in the report; every other list may hold DEFAULT_ITEMS.
ITEMS = {
    "processes": 10_000,              # laptops: 200–800; busy build hosts a few thousand
    "processes.cmdline": 10_000,      # arguments; the agent keeps 16,384 characters a process
    "applications": 20_000,           # a Linux laptop's dpkg packages and services: 2,000–6,000
    "network.connections": 10_000,
    "network.listeners": 2_000,
}
DEFAULT_ITEMS = 1_000                 # USB devices, displays, interfaces, sessions, probe errors …
MAX_STRING = 16_384                   # characters; the agent cuts arguments at 4,096, paths are shorter
MAX_BYTES = 32_768                    # a bytes field: the largest EDID (128 bytes × 256 blocks)


# Each list item, string character or byte takes at least one byte of the serialized message, so a
# message no larger than the smallest limit holds nothing over any limit: `check` skips it unread.
_SMALLEST_LIMIT = min(DEFAULT_ITEMS, *ITEMS.values(), MAX_STRING, MAX_BYTES)
_BYTE_SIZE = operator.methodcaller("ByteSize")


class TooLarge(ValueError):
    """A part of the report is over its limit; the message names it and the limit."""


def check(message, path: str = "") -> None:
    """Raise TooLarge for the first list or string of `message` over its limit. Counts are checked
    before the items are visited, so an oversized list is refused without walking it."""
    if message.ByteSize() <= _SMALLEST_LIMIT:  # most items: nothing in them can be over a limit
        return
    for field, value in message.ListFields():
        where = f"{path}.{field.name}" if path else field.name
        if field.is_repeated:
            _check_count(where, len(value))
            if _is_map(field):
                if field.message_type.fields_by_name["key"].type in _SIZED:
                    _check_scalars(where, list(value))
            elif _is_message(field):
                if value and max(map(_BYTE_SIZE, value)) > _SMALLEST_LIMIT:  # sizes in C; items only if needed
                    for item in value:
                        check(item, where)
            elif field.type in _SIZED:
                _check_scalars(where, value)
        elif _is_message(field):
            check(value, where)
        elif field.type in _SIZED:
            _check_scalar(where, value)


_SIZED = (FieldDescriptor.TYPE_STRING, FieldDescriptor.TYPE_BYTES)


def _check_scalars(where: str, values) -> None:
    """`_check_scalar` of each value; the lengths are compared in C first, the values visited only to
    name the one over its limit."""
    if values and max(map(len, values)) > min(MAX_STRING, MAX_BYTES):
        for value in values:
            _check_scalar(where, value)


def _check_count(where: str, count: int) -> None:
    limit = ITEMS.get(where, DEFAULT_ITEMS)
    if count > limit:
        raise TooLarge(f"{where} has {count} entries, more than the collector's limit of {limit} a report")


def _check_scalar(where: str, value) -> None:
    if isinstance(value, str) and len(value) > MAX_STRING:
        raise TooLarge(f"{where} is {len(value)} characters long, more than the collector's limit of {MAX_STRING}")
    if isinstance(value, bytes) and len(value) > MAX_BYTES:
        raise TooLarge(f"{where} is {len(value)} bytes long, more than the collector's limit of {MAX_BYTES}")


@functools.cache
def _is_map(field) -> bool:
    return field.message_type is not None and field.message_type.GetOptions().map_entry


def _is_message(field) -> bool:
    return field.message_type is not None
