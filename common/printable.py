"""Text farmwatch writes out, made safe to look at: a laptop's user controls its hostname, its
process names and more, and those end up in terminals, SIEMs and spreadsheets.

A **hidden** character is a control character (C0, DEL, C1: ESC starts terminal sequences), an
invisible format character (a right-to-left override rearranges what is shown) or a line or
paragraph separator (U+2028/U+2029 end a line in JavaScript and in some log viewers). `visible`
writes them as escapes people can read; `json_text` writes JSON that carries none of them raw.
Each output format has its own helper built on these: tables and CSV in `common/output.py`, CEF in
`exports/cef.py` (collector).
"""
from __future__ import annotations

import json
import re
import unicodedata

_HIDDEN_CATEGORIES = ("Cc", "Cf", "Zl", "Zp")
_SHORT = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_NOT_PLAIN_ASCII = re.compile(r"[^\x20-\x7e]")


def is_hidden(ch: str) -> bool:
    return unicodedata.category(ch) in _HIDDEN_CATEGORIES


def escape(ch: str) -> str:
    """One hidden character as people read it: `\\n`, `\\x1b`, `\\u202e`, `\\U000e0001`."""
    if ch in _SHORT:
        return _SHORT[ch]
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def visible(text: str) -> str:
    """`text` with every hidden character escaped; everything else as it is."""
    return _NOT_PLAIN_ASCII.sub(lambda m: escape(m[0]) if is_hidden(m[0]) else m[0], text)


def json_text(value, **kwargs) -> str:
    """json.dumps, readable (non-ASCII letters stay as they are) but with every hidden character as
    a \\u escape: json.dumps escapes C0 itself, but leaves DEL, C1, U+2028/U+2029 and bidi
    overrides raw. Lossless: a JSON reader gets the same strings back."""
    text = json.dumps(value, ensure_ascii=False, **kwargs)
    return _NOT_PLAIN_ASCII.sub(lambda m: _json_escape(m[0]) if is_hidden(m[0]) else m[0], text)


def _json_escape(ch: str) -> str:
    if ch == "\n":  # outside strings (indent=); json.dumps has escaped those inside them
        return ch
    return "".join(f"\\u{unit:04x}" for unit in _utf16_units(ord(ch)))


def _utf16_units(code: int) -> tuple[int, ...]:
    if code < 0x10000:
        return (code,)
    code -= 0x10000
    return 0xD800 + (code >> 10), 0xDC00 + (code & 0x3FF)
