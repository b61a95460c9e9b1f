"""Checks of parsed signature documents: every field of every entry, with the file and entry named
in each problem (the rules for a signature file; collector/signatures/README.md explains them)."""

from __future__ import annotations

import re
from typing import Any, Callable

from farmwatch.collector.detect.catalogue.clean import parse_product_code
from farmwatch.collector.detect.catalogue.model import CATEGORIES, HARDWARE_KINDS, LEVELS, OSES, ROLES

SCHEMA_VERSION = 1

Check = Callable[[Any], str | None]


def _is_str(v: Any) -> str | None:
    return None if isinstance(v, str) and v.strip() else "must be a non-empty string"


def _is_opt_str(v: Any) -> str | None:
    return None if v is None or isinstance(v, str) else "must be a string or null"


def _is_bool(v: Any) -> str | None:
    return None if isinstance(v, bool) else "must be true or false"


def _is_str_list(v: Any) -> str | None:
    if not isinstance(v, list) or not all(isinstance(x, str) and x.strip() for x in v):
        return "must be a list of non-empty strings"
    return None if len(set(v)) == len(v) else "has duplicates"


def _is_port_list(v: Any) -> str | None:
    ok = isinstance(v, list) and all(isinstance(p, int) and not isinstance(p, bool) and 0 < p < 65536 for p in v)
    return None if ok else "must be a list of port numbers (1-65535)"


def _one_of(*choices: str) -> Check:
    return lambda v: None if v in choices else f"must be one of {', '.join(sorted(choices))}"


def _per_os(v: Any) -> str | None:
    if not isinstance(v, dict) or set(v) - set(OSES):
        return f"must be an object with keys among {', '.join(OSES)}"
    for os_name, names in v.items():
        if problem := _is_str_list(names):
            return f"[{os_name}] {problem}"
    return None


def _is_hex(digits: int) -> Check:
    pattern = re.compile(rf"[0-9a-f]{{{digits}}}")
    return lambda v: None if isinstance(v, str) and pattern.fullmatch(v) else f"must be {digits} lowercase hex digits"


def _is_id_range(v: Any) -> str | None:
    ok = isinstance(v, list) and len(v) == 2 and not any(map(_is_hex(4), v)) and v[0] < v[1]
    return None if ok else "must be [first, last]: two ascending product ids of 4 lowercase hex digits"


def _is_pnp(v: Any) -> str | None:
    return None if isinstance(v, str) and re.fullmatch(r"[A-Z@_]{3}", v) else "must be a 3-letter upper-case PNP id"


def _is_serial_number(v: Any) -> str | None:
    try:
        number = parse_product_code(v)
    except ValueError:
        number = None
    if number is not None and 0 < number <= 0xFFFFFFFF:
        return None
    return "must be a 32-bit EDID serial number ('0x39363945')"


def _is_product_code(v: Any) -> str | None:
    try:
        code = parse_product_code(v)
    except ValueError:
        code = None
    return None if code is not None and 0 <= code <= 0xFFFF else "must be a 16-bit product code ('0x7773' or 30579)"


def _is_slug(v: Any) -> str | None:
    ok = isinstance(v, str) and re.fullmatch(r"[a-z0-9][a-z0-9-]*", v)
    return None if ok else "must be a lowercase slug (a-z, 0-9, -)"


SESSION_SIGNS = {"processes": {"process", "source"}, "connections": {"process", "port", "source"}}
SESSION_SIGN_TEXT = {"process", "args", "source"}


def _is_session_sign(sign: Any, required: set[str]) -> bool:
    if not isinstance(sign, dict) or not required <= set(sign) or set(sign) - required - {"args"}:
        return False
    text_ok = all(isinstance(sign[k], str) and sign[k].strip() for k in SESSION_SIGN_TEXT & set(sign))
    return text_ok and ("port" not in sign or _is_port_list([sign["port"]]) is None)


def _is_session(v: Any) -> str | None:
    """`session`: the signs that a remote user is connected in now — `processes` (a process, optionally
    with `args`, that runs only then) and `connections` (the tool's process, optionally with `args`,
    holding an established connection to a peer on `port`); each sign names its `source`."""
    if not isinstance(v, dict) or not v or set(v) - set(SESSION_SIGNS):
        return f"must be an object with keys among {', '.join(SESSION_SIGNS)}"
    for key, required in SESSION_SIGNS.items():
        signs = v.get(key, [])
        if not isinstance(signs, list) or not all(_is_session_sign(s, required) for s in signs):
            fields = "{" + ", ".join(sorted(required)) + ", args?}"
            return f"[{key}] must be a list of {fields} objects"
    return None


TOOL_FIELDS: dict[str, Check] = {
    "id": _is_slug,
    "name": _is_str, "category": _one_of(*CATEGORIES), "role": _one_of(*ROLES),
    "client_app_names": _is_str_list, "client_bundle_ids": _is_str_list,
    "relevance": _one_of(*LEVELS), "builtin": _is_bool, "mesh": _is_bool,
    "processes": _per_os, "client_processes": _per_os,
    "ambiguous_processes": _is_str_list, "app_names": _is_str_list, "bundle_ids": _is_str_list,
    "macos_team_ids": _is_str_list, "services": _per_os, "install_paths": _per_os,
    "listen_ports": _is_port_list, "ports": _is_port_list, "domains": _is_str_list, "signers": _is_str_list,
    "cmdline_markers": _is_str_list, "session": _is_session, "proxy_markers": _is_str_list,
    "source": _is_str, "sources": _is_str_list, "notes": _is_opt_str,
}
# A file leaves out the fields it has nothing for: only what names and classifies the tool is required.
TOOL_REQUIRED = {"id", "name", "category", "role", "relevance", "builtin", "source"}
TOOL_OPTIONAL = set(TOOL_FIELDS) - TOOL_REQUIRED

USB_FIELDS: dict[str, Check] = {
    "vendor_id": _is_hex(4), "product_id": _is_hex(4), "manufacturer": _is_str, "product": _is_str,
    "serial": _is_str, "requires_interface_classes": lambda v: _is_str_list(v) or next(
        (f"'{c}' must be 2 lowercase hex digits" for c in v if not re.fullmatch(r"[0-9a-f]{2}", c)), None),
    "product_id_range": _is_id_range,
}
EDID_FIELDS: dict[str, Check] = {
    "manufacturer_id": _is_pnp, "product_code": _is_product_code, "monitor_name": _is_str, "serial_string": _is_str,
    "serial_number": _is_serial_number,
}
HARDWARE_FIELDS: dict[str, Check] = {
    "id": _is_slug, "name": _is_str, "kind": _one_of(*HARDWARE_KINDS), "confidence": _one_of(*LEVELS),
    "note": _is_str, "source": _is_str, "usb": lambda v: None, "edid": lambda v: None,
}


def _check_fields(entry: Any, spec: dict[str, Check], optional: set[str], where: str) -> list[str]:
    if not isinstance(entry, dict):
        return [f"{where}: must be an object"]
    problems = [f"{where}: unknown field '{k}'" for k in sorted(set(entry) - set(spec))]
    for key, check in spec.items():
        if key not in entry:
            if key not in optional:
                problems.append(f"{where}: missing field '{key}'")
        elif problem := check(entry[key]):
            problems.append(f"{where}: field '{key}' {problem}")
    return problems


def _label(entry: Any, index: int, noun: str) -> str:
    ident = entry.get("id") if isinstance(entry, dict) else None
    return f"{noun} '{ident}' (#{index})" if ident else f"{noun} #{index}"


def _check_tool(entry: Any, where: str) -> list[str]:
    problems = _check_fields(entry, TOOL_FIELDS, TOOL_OPTIONAL, where)
    if problems:
        return problems
    per_os = [entry.get(k, {}).get(o) for k in ("processes", "services") for o in OSES]
    others = ("app_names", "bundle_ids", "domains", "listen_ports")
    if not any(per_os) and not any(entry.get(k) for k in others):
        problems.append(f"{where}: names no process, application, bundle id, service, domain or port to match on")
    return problems


def _check_hardware(entry: Any, where: str) -> list[str]:
    problems = _check_fields(entry, HARDWARE_FIELDS, {"usb", "edid"}, where)
    if problems:
        return problems
    identities = [k for k in ("usb", "edid") if k in entry]
    if len(identities) != 1:
        return [f"{where}: needs exactly one of 'usb' or 'edid'"]
    key = identities[0]
    spec = USB_FIELDS if key == "usb" else EDID_FIELDS
    problems = _check_fields(entry[key], spec, set(spec), f"{where} {key}")
    matchable = set(entry[key]) - {"requires_interface_classes"} if isinstance(entry[key], dict) else set()
    if not problems and not matchable:
        problems.append(f"{where} {key}: names no identity field to match on")
    if not problems and key == "usb":
        problems += _check_usb_product(entry[key], where)
    return problems


def _check_usb_product(usb: dict, where: str) -> list[str]:
    named = [k for k in ("product_id", "product_id_range") if k in usb]
    if len(named) > 1:
        return [f"{where} usb: give a product_id or a product_id_range, not both"]
    if named and "vendor_id" not in usb:
        return [f"{where} usb: a {named[0]} needs its vendor_id"]
    return []


def _check_proxy_port(entry: Any, where: str) -> list[str]:
    spec = {"port": lambda v: _is_port_list([v]), "protocol": _one_of("tcp", "udp"), "name": _is_str, "source": _is_str}
    return _check_fields(entry, spec, set(), where)


def _check_forwarding(entry: Any, where: str) -> list[str]:
    return _check_fields(entry, {"pattern": _is_str, "reason": _is_str, "source": _is_str}, set(), where)


def _check_peer_to_peer(entry: Any, where: str) -> list[str]:
    return _check_fields(entry, {"process": _is_str, "name": _is_str, "source": _is_str}, set(), where)


def _check_language(entry: Any, where: str) -> list[str]:
    spec = {"id": _is_str, "name": _is_str, "markers": _is_str_list, "source": _is_str}
    return _check_fields(entry, spec, set(), where)


KINDS: dict[str, dict[str, tuple[str, Callable[[Any, str], list[str]]]]] = {
    "remote_tools": {"tools": ("tool", _check_tool)},
    "hardware": {"devices": ("device", _check_hardware)},
    "network": {"proxy_ports": ("proxy port", _check_proxy_port),
                "forwarding_interfaces": ("forwarding interface", _check_forwarding),
                "peer_to_peer": ("peer-to-peer listener", _check_peer_to_peer)},
    "context": {"input_languages": ("input language", _check_language)},
}


def check_document(name: str, doc: Any) -> list[str]:
    if not isinstance(doc, dict):
        return [f"{name}: must be a JSON object"]
    if doc.get("schema") != SCHEMA_VERSION:
        return [f"{name}: 'schema' must be {SCHEMA_VERSION}"]
    lists = KINDS.get(doc.get("kind"))
    if lists is None:
        return [f"{name}: 'kind' must be one of {', '.join(sorted(KINDS))}"]
    problems = [f"{name}: unknown key '{k}'" for k in sorted(set(doc) - {"schema", "kind", *lists})]
    for key, (noun, check) in lists.items():
        entries = doc.get(key, [])
        if not isinstance(entries, list):
            problems.append(f"{name}: '{key}' must be a list")
            continue
        for index, entry in enumerate(entries):
            problems += check(entry, f"{name}: {_label(entry, index, noun)}")
    return problems


def check_unique_ids(documents: list[tuple[str, dict]]) -> list[str]:
    seen: dict[tuple[str, str], str] = {}
    problems = []
    for name, doc in documents:
        for key in KINDS[doc["kind"]]:
            for entry in doc.get(key, []):
                ident = entry.get("id")
                if ident is None:
                    continue
                first = seen.setdefault((key, ident), name)
                if first != name or sum(1 for e in doc.get(key, []) if e.get("id") == ident) > 1:
                    problems.append(f"{name}: {key[:-1]} '{ident}' duplicates an id already used in {first}")
    return sorted(set(problems))
