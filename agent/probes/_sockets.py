"""Sockets from /proc/net/{tcp,tcp6,udp,udp6}, with the process that owns each one."""

from __future__ import annotations

import functools
import ipaddress
import os
import struct
import sys
from dataclasses import dataclass

from ._procfs import pids, proc_root, read_process_name
from .context import ProbeContext

# include/net/tcp_states.h, named as psutil names them
TCP_STATES = {
    0x01: "ESTABLISHED",
    0x02: "SYN_SENT",
    0x03: "SYN_RECV",
    0x04: "FIN_WAIT1",
    0x05: "FIN_WAIT2",
    0x06: "TIME_WAIT",
    0x07: "CLOSE",
    0x08: "CLOSE_WAIT",
    0x09: "LAST_ACK",
    0x0A: "LISTEN",
    0x0B: "CLOSING",
}
_TABLES = (("tcp", "tcp"), ("tcp6", "tcp"), ("udp", "udp"), ("udp6", "udp"))
_SOCKET_PREFIX = "socket:["  # an fd link to a socket reads socket:[INODE]
_NATIVE_WORD = "<I" if sys.byteorder == "little" else ">I"


@dataclass(frozen=True)
class Socket:
    protocol: str  # tcp | udp
    local_ip: str
    local_port: int
    remote_ip: str
    remote_port: int
    status: str  # a TCP state name, "NONE" for UDP
    inode: int


def read_sockets(ctx: ProbeContext) -> list[Socket]:
    sockets = []
    for table, protocol in _TABLES:
        text = ctx.read_text(f"/proc/net/{table}")
        if text is not None:
            sockets += parse_socket_table(text, protocol)
    return sockets


def parse_socket_table(text: str, protocol: str) -> list[Socket]:
    sockets = []
    for line in text.splitlines()[1:]:
        fields = line.split()
        try:
            local_ip, local_port = _endpoint(fields[1])
            remote_ip, remote_port = _endpoint(fields[2])
            state, inode = int(fields[3], 16), int(fields[9])
        except (IndexError, ValueError):
            continue  # a torn or foreign line
        sockets.append(
            Socket(
                protocol=protocol,
                local_ip=local_ip,
                local_port=local_port,
                remote_ip=remote_ip,
                remote_port=remote_port,
                status=TCP_STATES.get(state, "NONE") if protocol == "tcp" else "NONE",
                inode=inode,
            )
        )
    return sockets


def _endpoint(text: str) -> tuple[str, int]:
    """"0100007F:0016" → ("127.0.0.1", 22)."""
    address_hex, port_hex = text.split(":")
    return proc_ip(address_hex), int(port_hex, 16)


@functools.lru_cache(maxsize=4096)  # the same few local and peer addresses fill every table
def proc_ip(address_hex: str) -> str:
    """An address as /proc/net prints it: native-endian 32-bit words in hex, so it is
    turned back into bytes word by word ("0100007F" is 127.0.0.1 on x86)."""
    words = [int(address_hex[i : i + 8], 16) for i in range(0, len(address_hex), 8)]
    packed = b"".join(struct.pack(_NATIVE_WORD, word) for word in words)
    return normal_ip(str(ipaddress.ip_address(packed)))


def normal_ip(text: str) -> str:
    """"::ffff:1.2.3.4" → "1.2.3.4"; other addresses as the ipaddress module writes them."""
    address = ipaddress.ip_address(text.split("%", 1)[0])
    mapped = getattr(address, "ipv4_mapped", None)
    return str(mapped or address)


def normal_mac(text: str) -> str:
    """aa:bb:cc:dd:ee:ff whether written AA-BB-… (Windows) or aa:bb:…; "" for the all-zero address
    of loopback and of unresolved neighbours, which is no MAC and would be the same on every PC."""
    mac = text.lower().replace("-", ":")
    return "" if set(mac) <= {"0", ":"} else mac


def socket_owners(ctx: ProbeContext, inodes: set[int]) -> dict[int, tuple[int, str]]:
    """inode → (pid, process name) of the lowest pid holding each socket in ``inodes``.

    The kernel keeps no socket → process table: the only way is every process's fd links. The
    walk reads links and nothing else, names a process only when it holds a wanted socket, and
    stops once every wanted socket has its owner."""
    owners: dict[int, tuple[int, str]] = {}
    if not inodes:
        return owners
    proc = proc_root(ctx)
    for pid in pids(ctx):
        held = [inode for inode in _socket_inodes(f"{proc}/{pid}/fd") if inode in inodes and inode not in owners]
        if held:
            owners.update(dict.fromkeys(held, (pid, read_process_name(proc, pid))))
            if len(owners) == len(inodes):
                break
    return owners


def _socket_inodes(fd_dir: str) -> list[int]:
    """The inodes of the sockets among a process's fds; none when it exited or is not ours to see.
    The directory is opened once and each link read relative to it: the kernel then looks up
    only the fd number, not /proc/PID/fd again."""
    try:
        dir_fd = os.open(fd_dir, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return []
    inodes = []
    try:
        for fd in os.listdir(dir_fd):
            try:
                target = os.readlink(fd, dir_fd=dir_fd)
            except OSError:
                continue
            if target.startswith(_SOCKET_PREFIX) and target.endswith("]"):
                digits = target[len(_SOCKET_PREFIX) : -1]
                if digits.isascii() and digits.isdigit():
                    inodes.append(int(digits))
    except OSError:
        pass  # exited while we looked
    finally:
        os.close(dir_fd)
    return inodes
