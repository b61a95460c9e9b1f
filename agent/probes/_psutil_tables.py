"""Report messages from the OS tables psutil gives on macOS and Windows (processes,
sockets, logins, interfaces), taken as the plain dicts machine.py hands out."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from farmwatch.v1 import report_pb2

from ._sockets import normal_ip, normal_mac
from .context import ProbeContext

_NANOS = 1_000_000_000


def process_from_row(row: Mapping[str, Any]) -> report_pb2.Process:
    process = report_pb2.Process(
        pid=row.get("pid") or 0,
        ppid=row.get("ppid") or 0,
        name=row.get("name") or "",
        exe=row.get("exe") or "",
        cmdline=[str(argument) for argument in row.get("cmdline") or []],
        username=row.get("username") or "",
    )
    if row.get("create_time"):
        process.create_time.FromNanoseconds(int(row["create_time"] * _NANOS))
    return process


def processes(ctx: ProbeContext) -> list[report_pb2.Process]:
    rows = ctx.table("processes") or []
    unreadable = sum(1 for row in rows if row.get("pid") and row.get("exe") is None and row.get("name"))
    if unreadable:
        ctx.gap(f"exe unreadable for {unreadable} {'process' if unreadable == 1 else 'processes'} (access denied)")
    return [process_from_row(row) for row in rows]


def sessions(ctx: ProbeContext) -> list[report_pb2.Session]:
    found = []
    for row in ctx.table("users") or []:
        session = report_pb2.Session(user=row.get("name") or "", terminal=row.get("terminal") or "",
                                     remote_host=_remote_host(row.get("host") or ""))
        if row.get("started"):
            session.started_at.FromNanoseconds(int(row["started"] * _NANOS))
        found.append(session)
    return found


def _remote_host(host: str) -> str:
    """macOS fills utmpx's host with the X display or "localhost" for local logins."""
    return "" if host.startswith(":") or host in ("localhost", "127.0.0.1", "::1") else host


def interfaces(ctx: ProbeContext, kind_of: Callable[[str], str]) -> list[report_pb2.NetworkInterface]:
    table = ctx.table("interfaces") or {}
    return [
        report_pb2.NetworkInterface(
            name=name,
            mac=normal_mac(entry.get("mac") or ""),
            addresses=[normal_ip(address) for address in entry.get("addresses", [])],
            is_up=bool(entry.get("is_up")),
            kind=kind_of(name),
        )
        for name, entry in table.items()
    ]


def add_sockets(ctx: ProbeContext, network: report_pb2.Network, process_names: Mapping[int, str]) -> None:
    for row in ctx.table("connections") or []:
        local, remote = row.get("laddr") or [], row.get("raddr") or []
        if len(local) != 2:
            continue
        pid = row.get("pid") or 0
        name = process_names.get(pid, "")
        status = row.get("status") or ""
        if (row.get("type") == "tcp" and status == "LISTEN") or (row.get("type") == "udp" and not remote):
            network.listeners.add(ip=normal_ip(local[0]), port=local[1], protocol=row.get("type", "tcp"),
                                  pid=pid, process_name=name)
        elif len(remote) == 2:
            network.connections.add(local_ip=normal_ip(local[0]), local_port=local[1], remote_ip=normal_ip(remote[0]),
                                    remote_port=remote[1], status=status, pid=pid, process_name=name)


def names_by_pid(rows: Iterable[Mapping[str, Any]] | None) -> dict[int, str]:
    return {row["pid"]: row.get("name") or "" for row in rows or [] if row.get("pid") is not None}
