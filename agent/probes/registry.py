"""Read-only access to the Windows registry behind a two-method interface, so the
Windows probes read a recorded registry (a dict) exactly as they read the live one.

Paths are written as regedit shows them, with the short hive names HKLM, HKU and HKCU:
``HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall``. Values come back as
Python values: str (REG_SZ, REG_EXPAND_SZ), int (REG_DWORD, REG_QWORD), list[str]
(REG_MULTI_SZ) and bytes (REG_BINARY).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol


class RegistryReader(Protocol):
    def subkeys(self, path: str) -> list[str]:
        """Names of a key's subkeys; [] when the key is absent."""

    def values(self, path: str) -> dict[str, Any] | None:
        """A key's values by name; None when the key is absent."""


def split_path(path: str) -> tuple[str, str]:
    hive, _, rest = path.partition("\\")
    return hive.upper(), rest


class DictRegistry:
    """A registry held as {key path: {value name: value}}; a key's subkeys are the
    paths one level below it, whether or not they have values of their own."""

    def __init__(self, keys: Mapping[str, Mapping[str, Any]]):
        self._values = {_fold(path): dict(values) for path, values in keys.items()}
        self._children: dict[str, dict[str, str]] = {}
        for path in keys:
            parts = path.split("\\")
            for depth in range(1, len(parts)):
                parent, child = "\\".join(parts[:depth]), parts[depth]
                self._children.setdefault(_fold(parent), {}).setdefault(child.casefold(), child)

    def subkeys(self, path: str) -> list[str]:
        return sorted(self._children.get(_fold(path), {}).values(), key=str.casefold)

    def values(self, path: str) -> dict[str, Any] | None:
        folded = _fold(path)
        if folded in self._values:
            return dict(self._values[folded])
        return {} if folded in self._children else None


def _fold(path: str) -> str:
    return path.strip("\\").casefold()  # the registry ignores case


class WinregReader:
    """The live registry through the standard ``winreg`` module (Windows only)."""

    def __init__(self, winreg: Any):
        self._winreg = winreg
        self._hives = {
            "HKLM": winreg.HKEY_LOCAL_MACHINE,
            "HKU": winreg.HKEY_USERS,
            "HKCU": winreg.HKEY_CURRENT_USER,
        }

    @classmethod
    def open(cls) -> WinregReader | None:
        try:
            import winreg  # noqa: PLC0415 - exists only on Windows
        except ImportError:
            return None
        return cls(winreg)

    def _open(self, path: str) -> Any:
        hive, rest = split_path(path)
        # the 64-bit view even from a 32-bit Python, so WOW6432Node is only read where named
        access = self._winreg.KEY_READ | self._winreg.KEY_WOW64_64KEY
        return self._winreg.OpenKey(self._hives[hive], rest, 0, access)

    def subkeys(self, path: str) -> list[str]:
        try:
            with self._open(path) as key:
                count = self._winreg.QueryInfoKey(key)[0]
                return [self._winreg.EnumKey(key, index) for index in range(count)]
        except OSError:
            return []

    def values(self, path: str) -> dict[str, Any] | None:
        try:
            with self._open(path) as key:
                count = self._winreg.QueryInfoKey(key)[1]
                return {name: data for name, data, _ in (self._winreg.EnumValue(key, i) for i in range(count))}
        except OSError:
            return None
