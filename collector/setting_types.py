"""The types `collector.toml` settings take, checked against the dataclass that declares them, so a
value of the wrong type (`min_days_at_location = "three"`) is refused naming the key and what it
takes, not met later as a Python comparison error."""
from __future__ import annotations

from dataclasses import fields


def _whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _strings(value) -> bool:
    return isinstance(value, (list, tuple)) and all(isinstance(item, str) for item in value)


# The annotation of a field (as written: the modules use `from __future__ import annotations`) ->
# (does a TOML value fit, how to say what fits).
KINDS = {
    "int": (_whole, "a whole number, like 3"),
    "float": (lambda v: _whole(v) or isinstance(v, float), "a number, like 7 or 1.5"),
    "str": (lambda v: isinstance(v, str), 'text in quotes, like "text"'),
    "bool": (lambda v: isinstance(v, bool), "true or false"),
    "list[str]": (_strings, 'a list of texts, like ["a", "b"]'),
    "tuple": (_strings, 'a list of texts, like ["a", "b"]'),
    "list[dict]": (lambda v: isinstance(v, list) and all(isinstance(item, dict) for item in v),
                   "tables, like [[allow]]"),
}


def type_problem(settings_class, values: dict, prefix: str = "") -> str | None:
    """Why one of `values` has the wrong type for `settings_class`'s field of that name, or None.
    Fields whose annotation KINDS does not know (nested tables) are checked by their own class."""
    for field in fields(settings_class):
        kind = KINDS.get(str(field.type))
        if kind is None or field.name not in values:
            continue
        fits, expected = kind
        if not fits(values[field.name]):
            return f"{prefix}{field.name} must be {expected}, not {values[field.name]!r}"
    return None
