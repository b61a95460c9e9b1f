"""Builders for the rule tests: small reports in the contract's JSON form (no tests here).

Each builder returns exactly what `farmwatch-agent scan` would print for that part, so the
rules are exercised through the same normalisation real reports go through.
"""

from __future__ import annotations

import base64

from farmwatch.collector.detect import Policy, classify

DEVICE_ID = "PF3XK9Q2"
KEYBOARD, MOUSE, HID, STORAGE, RNDIS, CDC_DATA = "03/01/01", "03/01/02", "03/00/00", "08/06/50", "e0/01/03", "0a/00/00"


def report(os: str = "windows", **parts) -> dict:
    body = {"report_id": "5b0f5a8e-8d1c-4c1e-9b7a-0d6a1f1e2c3d", "device_id": DEVICE_ID,
            "host": {"hostname": "laptop-1", "os": os, "serial_number": DEVICE_ID}}
    network = {k: parts.pop(k) for k in ("connections", "listeners", "interfaces", "ip_forwarding") if k in parts}
    if network:
        body["network"] = network
    host = {k: parts.pop(k) for k in ("keyboard_layouts", "locale", "timezone") if k in parts}
    body["host"].update(host)
    body.update(parts)
    return body


def process(pid: int, name: str, exe: str = "", cmdline: list[str] | None = None, **extra) -> dict:
    proc = {"pid": pid, "ppid": 1, "name": name, "exe": exe, "cmdline": cmdline if cmdline is not None else [exe or name]}
    return {k: v for k, v in proc.items() if v} | extra


def application(name: str, path: str = "", source: str = "registry", **extra) -> dict:
    return {k: v for k, v in {"name": name, "path": path, "source": source}.items() if v} | extra


def interface(triple: str) -> dict:
    klass, subclass, protocol = triple.split("/")
    return {"interface_class": klass, "interface_subclass": subclass, "interface_protocol": protocol}


def usb(vendor_id: str, product_id: str, *interfaces: str, manufacturer: str = "", product: str = "",
        serial: str = "", device_class: str = "00", bus_path: str = "1-2") -> dict:
    device = {"vendor_id": vendor_id, "product_id": product_id, "manufacturer": manufacturer, "product": product,
              "serial": serial, "device_class": device_class, "bus_path": bus_path,
              "interfaces": [interface(t) for t in interfaces]}
    return {k: v for k, v in device.items() if v}


def display(manufacturer_id: str = "", product_code: int | None = None, monitor_name: str = "",
            connector: str = "card0-HDMI-A-1", width_mm: int = 600, height_mm: int = 340, **extra) -> dict:
    shown = {"connector": connector, "manufacturer_id": manufacturer_id, "product_code": product_code,
             "monitor_name": monitor_name, "width_mm": width_mm, "height_mm": height_mm}
    return {k: v for k, v in shown.items() if v not in ("", None, 0)} | extra


def edid_block(pnp: str, product_code: int, name: str = "", serial_string: str = "", size_cm=(0, 0)) -> bytes:
    """A minimal valid-looking EDID 1.3 base block carrying the given identity."""
    block = bytearray(128)
    block[0:8] = bytes.fromhex("00ffffffffffff00")
    word = sum((ord(c) - 64) << shift for c, shift in zip(pnp, (10, 5, 0)))
    block[8:10] = word.to_bytes(2, "big")
    block[10:12] = product_code.to_bytes(2, "little")
    block[18], block[19] = 1, 3
    block[21], block[22] = size_cm
    for slot, (tag, text) in enumerate(((0xFC, name), (0xFF, serial_string))):
        if text:
            offset = 54 + 18 * (slot + 1)
            block[offset + 3] = tag
            block[offset + 5:offset + 18] = (text.encode() + b"\n").ljust(13, b" ")[:13]
    block[127] = (-sum(block[:127])) % 256
    return bytes(block)


def edid_display(pnp: str, product_code: int, name: str = "", serial_string: str = "",
                 connector: str = "card0-HDMI-A-1") -> dict:
    """A display as a tool that only forwards the raw EDID would report it."""
    blob = edid_block(pnp, product_code, name, serial_string)
    return {"connector": connector, "edid": base64.b64encode(blob).decode()}


def connection(local: str, remote: str, pid: int, process_name: str, status: str = "ESTABLISHED") -> dict:
    local_ip, local_port = local.rsplit(":", 1)
    remote_ip, remote_port = remote.rsplit(":", 1)
    return {"local_ip": local_ip, "local_port": int(local_port), "remote_ip": remote_ip,
            "remote_port": int(remote_port), "status": status, "pid": pid, "process_name": process_name}


def listener(address: str, pid: int, process_name: str, protocol: str = "tcp") -> dict:
    ip, port = address.rsplit(":", 1)
    return {"ip": ip, "port": int(port), "protocol": protocol, "pid": pid, "process_name": process_name}


def findings(rep: dict, rule: str, policy: Policy | None = None, **kwargs) -> list[dict]:
    """The findings of one rule, in the contract's shape."""
    verdict = classify(rep, policy, **kwargs).to_dict()
    return [f for f in verdict["findings"] if f["rule"] == rule]


def only(rep: dict, rule: str, policy: Policy | None = None, **kwargs) -> dict:
    found = findings(rep, rule, policy, **kwargs)
    assert len(found) == 1, found
    return found[0]


def verdict(rep: dict, policy: Policy | None = None, **kwargs) -> dict:
    return classify(rep, policy, **kwargs).to_dict()
