"""Hypothesis strategies for arbitrary protobuf messages, read from the message's descriptor.

Every field of every nested message may be set, to any value its wire type allows (timestamps
outside the calendar, ports above 65535, NaN speeds, odd Unicode), so a fuzz reaches parts of
the report that hand-written cases forget.
"""
from __future__ import annotations

from google.protobuf import timestamp_pb2
from google.protobuf.descriptor import FieldDescriptor as F
from google.protobuf.message import Message
from hypothesis import strategies as st

ODD_STRINGS = [
    "", "\x00", "a\x00b", "\u202eexe.tnedi", "\ufeffBOM", "Ｒｅａｌ ＶＮＣ", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 🖥️🐭", "e\u0301" * 40,
    "'; DROP TABLE reports; --", "%s%n%x", "../../etc/passwd", "C:\\Windows\\System32\\..\\..",
    "\u0000\u0001\u001f\u007f", "\U0010fffd", "null", "{\"json\": true}", " " * 300,
]
_INTS = {
    F.TYPE_INT32: (-2**31, 2**31 - 1), F.TYPE_SINT32: (-2**31, 2**31 - 1), F.TYPE_SFIXED32: (-2**31, 2**31 - 1),
    F.TYPE_INT64: (-2**63, 2**63 - 1), F.TYPE_SINT64: (-2**63, 2**63 - 1), F.TYPE_SFIXED64: (-2**63, 2**63 - 1),
    F.TYPE_UINT32: (0, 2**32 - 1), F.TYPE_FIXED32: (0, 2**32 - 1), F.TYPE_ENUM: (0, 2**31 - 1),
    F.TYPE_UINT64: (0, 2**64 - 1), F.TYPE_FIXED64: (0, 2**64 - 1),
}

odd_text = st.one_of(st.text(max_size=40), st.sampled_from(ODD_STRINGS))


def _scalar(field) -> st.SearchStrategy:
    if field.type in _INTS:
        low, high = _INTS[field.type]
        return st.one_of(st.integers(low, high), st.sampled_from([low, high, 0, 1]))
    if field.type in (F.TYPE_DOUBLE, F.TYPE_FLOAT):
        return st.floats(width=64 if field.type == F.TYPE_DOUBLE else 32)
    if field.type == F.TYPE_BOOL:
        return st.booleans()
    if field.type == F.TYPE_BYTES:
        return st.binary(max_size=300)
    return odd_text


def timestamps() -> st.SearchStrategy:
    """Any seconds and nanos the wire allows, including ones no calendar has."""
    return st.builds(timestamp_pb2.Timestamp, seconds=st.one_of(
        st.integers(-2**63, 2**63 - 1), st.integers(-62135596800, 253402300799)),
        nanos=st.one_of(st.integers(-2**31, 2**31 - 1), st.integers(0, 999_999_999)))


def _single(field, depth: int) -> st.SearchStrategy:
    if field.type != F.TYPE_MESSAGE:
        return _scalar(field)
    if field.message_type.full_name == "google.protobuf.Timestamp":
        return timestamps()
    return messages(field.message_type, depth - 1)


def _field(field, depth: int) -> st.SearchStrategy:
    if field.type == F.TYPE_MESSAGE and field.message_type.GetOptions().map_entry:
        key, value = field.message_type.fields_by_name["key"], field.message_type.fields_by_name["value"]
        return st.dictionaries(_scalar(key), _single(value, depth), max_size=4)
    if field.is_repeated:
        return st.lists(_single(field, depth), max_size=4)
    return _single(field, depth)


def messages(descriptor, depth: int = 3) -> st.SearchStrategy:
    """Messages of `descriptor`'s type with any subset of fields set; nesting stops at `depth`."""
    fields = [f for f in descriptor.fields if depth > 0 or f.type != F.TYPE_MESSAGE]
    values = st.fixed_dictionaries({}, optional={f.name: _field(f, depth) for f in fields})
    return values.map(lambda chosen: _build(descriptor, chosen))


def _build(descriptor, chosen: dict):
    from google.protobuf import message_factory

    message = message_factory.GetMessageClass(descriptor)()
    for name, value in chosen.items():
        _assign(message, descriptor.fields_by_name[name], value)
    return message


def _assign(message, field, value) -> None:
    if isinstance(value, dict):  # a map field
        entries = getattr(message, field.name)
        for key, item in value.items():
            if isinstance(item, Message):
                entries[key].CopyFrom(item)
            else:
                entries[key] = item
    elif isinstance(value, list):
        getattr(message, field.name).extend(value)
    elif isinstance(value, Message):
        getattr(message, field.name).CopyFrom(value)
    else:
        setattr(message, field.name, value)
