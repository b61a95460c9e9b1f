"""This machine made into a busy laptop for real: idle processes up to a process count, and
loopback TCP connections whose sockets those processes hold, as a desktop's browser tabs would.

    with BusyLaptop(processes=400, connections=300) as busy:
        ...  # scan; busy.pids are the processes added

Each connection is one accepted loopback pair; both ends are reported, so 300 connections are
150 pairs. The parent makes the sockets, hands one or two to each `sleep` it starts (pass_fds),
then closes its own copies: each socket then has exactly one owner, a `sleep`, the way the agent
finds it on a real machine. Everything is ended by PID on exit, and the listener is closed.
"""
from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path


def process_count() -> int:
    return sum(1 for name in os.listdir("/proc") if name.isdigit())


class BusyLaptop:
    def __init__(self, processes: int = 400, connections: int = 300):
        self.target_processes, self.target_connections = processes, connections
        self.children: list[subprocess.Popen] = []

    @property
    def pids(self) -> list[int]:
        return [child.pid for child in self.children]

    def __enter__(self) -> BusyLaptop:
        try:
            sockets = self._loopback_sockets(self.target_connections // 2)
            count = max(self.target_processes - process_count(), 1 if sockets else 0)
            for index in range(count):
                held = sockets[index::count]
                self.children.append(subprocess.Popen(["sleep", "3600"], pass_fds=[s.fileno() for s in held],
                                                      stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL))
            for sock in sockets:
                sock.close()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc) -> None:
        for child in self.children:
            child.terminate()
        for child in self.children:
            child.wait()
        self.children = []

    @staticmethod
    def _loopback_sockets(pairs: int) -> list[socket.socket]:
        sockets = []
        with socket.create_server(("127.0.0.1", 0), backlog=max(pairs, 1)) as listener:
            for _ in range(pairs):
                client = socket.create_connection(listener.getsockname())
                server, _ = listener.accept()
                sockets += [client, server]
        return sockets


def socket_count() -> int:
    """Rows of this machine's TCP tables (both ends of a loopback connection count)."""
    return sum(len(Path(f"/proc/net/{table}").read_text().splitlines()) - 1 for table in ("tcp", "tcp6"))
