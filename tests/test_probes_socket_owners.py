"""The network probe's sockets and their owners equal what the plain walk it replaced found:
every socket in /proc/net/*, every fd link of every process, the first (lowest) pid holding a
socket owning it, the owner named from its stat and command line. Checked on the fixture
laptops, on a tree with the awkward cases, and on this machine with sockets held by children."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

from farmwatch.agent.probes import network
from farmwatch.agent.probes._procfs import parse_cmdline, parse_stat, pids, process_name
from farmwatch.agent.probes._sockets import parse_socket_table
from farmwatch.agent.probes.context import ProbeContext
from sysroot_builder import SysrootBuilder
from sysroot_machines import busy_laptop, probe_context

_SOCKET_LINK = re.compile(r"^socket:\[(\d+)\]$")


# -- the walk as it was (f53b396), kept as the reference --------------------------------------

def reference_owners(ctx: ProbeContext, inodes: set[int]) -> dict[int, tuple[int, str]]:
    owners: dict[int, tuple[int, str]] = {}
    for pid in pids(ctx) if inodes else []:
        fd_dir = str(ctx.path(f"/proc/{pid}/fd"))
        try:
            fds = os.listdir(fd_dir)
        except OSError:
            continue
        for fd in fds:
            try:
                match = _SOCKET_LINK.match(os.readlink(f"{fd_dir}/{fd}"))
            except OSError:
                continue
            inode = int(match[1]) if match else None
            if inode in inodes and inode not in owners:
                owners[inode] = (pid, reference_name(ctx, pid))
        if len(owners) == len(inodes):
            break
    return owners


def reference_name(ctx: ProbeContext, pid: int) -> str:
    proc_dir = ctx.path(f"/proc/{pid}")
    try:
        comm = parse_stat((proc_dir / "stat").read_bytes()).comm
    except (OSError, ValueError, IndexError):
        return ""
    try:
        cmdline = parse_cmdline((proc_dir / "cmdline").read_bytes())
    except OSError:
        cmdline = []
    return process_name(comm, cmdline)


def reference_sockets(ctx: ProbeContext) -> tuple[list[tuple], list[tuple]]:
    """(listeners, connections) as the probe reported them, pids and names included."""
    sockets = []
    for table, protocol in (("tcp", "tcp"), ("tcp6", "tcp"), ("udp", "udp"), ("udp6", "udp")):
        text = ctx.read_text(f"/proc/net/{table}")
        sockets += parse_socket_table(text, protocol) if text is not None else []
    owners = reference_owners(ctx, {s.inode for s in sockets if s.inode})
    listeners, connections = [], []
    for s in sockets:
        pid, name = owners.get(s.inode, (0, ""))
        if (s.status == "LISTEN") if s.protocol == "tcp" else s.remote_port == 0:
            listeners.append((s.local_ip, s.local_port, s.protocol, pid, name))
        elif s.remote_port:
            connections.append((s.local_ip, s.local_port, s.remote_ip, s.remote_port, s.status, pid, name))
    return listeners, connections


def probe_sockets(ctx: ProbeContext) -> tuple[list[tuple], list[tuple]]:
    found = network.collect(ctx)
    return ([(x.ip, x.port, x.protocol, x.pid, x.process_name) for x in found.listeners],
            [(c.local_ip, c.local_port, c.remote_ip, c.remote_port, c.status, c.pid, c.process_name)
             for c in found.connections])


# -- trees -----------------------------------------------------------------------------------

@pytest.mark.parametrize("machine", ["dock", "pikvm"])
def test_fixture_laptops_give_the_same_sockets_and_owners(machine, request):
    root = request.getfixturevalue(machine)
    found = probe_sockets(probe_context(root, "network"))
    assert found == reference_sockets(probe_context(root, "network"))
    assert any(pid for *_, pid, _ in found[0] + found[1])  # owners were found, not all left at 0


def test_the_busy_laptop_fixture_gives_the_same_sockets_and_owners(tmp_path):
    root = busy_laptop(tmp_path / "busy")
    found = probe_sockets(probe_context(root, "network"))
    assert found == reference_sockets(probe_context(root, "network"))
    assert len(found[1]) >= 20 and all(pid for *_, pid, _ in found[1])


def awkward_tree(root: Path) -> Path:
    """Shared sockets, links that are not sockets or only look like them, an unreadable fd
    directory, a long program name, and sockets the report leaves out."""
    b = SysrootBuilder(root)
    b.process(1, "systemd", ppid=0, exe="/usr/lib/systemd/systemd", cmdline=["/sbin/init"])
    b.process(700, "nginx", exe="/usr/sbin/nginx", cmdline=["nginx: master process"])
    b.process(701, "nginx", ppid=700, exe="/usr/sbin/nginx", cmdline=["nginx: worker process"])
    b.process(900, "remote-desktop-", exe="/opt/rd/remote-desktop-agent", cmdline=["/opt/rd/remote-desktop-agent"])
    b.process(901, "some-long-daemo", exe="/opt/x/other", cmdline=["/opt/x/other", "--flag"])
    b.process(950, "gone")
    b.tcp("0.0.0.0:80", "0.0.0.0:0", "LISTEN", pid=701)
    listener = b._next_inode
    b.symlink("/proc/700/fd/9", f"socket:[{listener}]")  # the master holds it too: the lower pid owns it
    b.tcp("10.0.0.5:50000", "203.0.113.7:443", "ESTABLISHED", pid=900)
    b.tcp("10.0.0.5:50001", "203.0.113.8:443", "ESTABLISHED", pid=901)
    b.udp("0.0.0.0:5353", pid=901)
    b.tcp("10.0.0.5:50002", "0.0.0.0:0", "CLOSE", pid=900)  # neither listening nor connected: not reported
    b.tcp("10.0.0.5:50003", "203.0.113.9:443", "ESTABLISHED")  # no process holds it
    b.tcp("10.0.0.5:50004", "203.0.113.10:443", "ESTABLISHED", pid=950)
    for fd, target in enumerate(["pipe:[77]", "anon_inode:[eventpoll]", "/dev/null", "socket:[abc]", "socket:[12",
                                 f"socket:[{listener}]x", "socket:[]"], start=20):
        b.symlink(f"/proc/900/fd/{fd}", target)
    built = b.build()
    (built / "proc/950/stat").write_text("950 (gone")  # torn stat: the owner is nameless, not lost
    shutil.rmtree(built / "proc/1/fd")
    return built


def test_awkward_fd_tables_give_the_same_sockets_and_owners(tmp_path):
    root = awkward_tree(tmp_path / "awkward")
    listeners, connections = probe_sockets(probe_context(root, "network"))
    assert (listeners, connections) == reference_sockets(probe_context(root, "network"))
    assert listeners == [("0.0.0.0", 80, "tcp", 700, "nginx"), ("0.0.0.0", 5353, "udp", 901, "some-long-daemo")]
    assert connections == [
        ("10.0.0.5", 50000, "203.0.113.7", 443, "ESTABLISHED", 900, "remote-desktop-agent"),
        ("10.0.0.5", 50001, "203.0.113.8", 443, "ESTABLISHED", 901, "some-long-daemo"),
        ("10.0.0.5", 50003, "203.0.113.9", 443, "ESTABLISHED", 0, ""),
        ("10.0.0.5", 50004, "203.0.113.10", 443, "ESTABLISHED", 950, ""),
    ]


# -- this machine ----------------------------------------------------------------------------

@pytest.fixture
def held_sockets(tmp_path):
    """A listener, connected loopback pairs and a shared socket, held by `sleep` children (one
    of them under a name longer than a comm), the test's own copies closed: local ports."""
    long_sleep = tmp_path / "farmwatch-long-sleeper"
    shutil.copy(shutil.which("sleep"), long_sleep)
    listener = socket.create_server(("127.0.0.1", 0))
    pairs = []
    for _ in range(3):
        client = socket.create_connection(listener.getsockname())
        pairs += [client, listener.accept()[0]]
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    held = [[listener, pairs[0]], [pairs[1], pairs[2], udp], [pairs[3], pairs[4], udp], [pairs[5]]]
    children = [subprocess.Popen([str(long_sleep) if index == 1 else "sleep", "600"], pass_fds=[s.fileno() for s in socks])
                for index, socks in enumerate(held)]
    ports = {s.getsockname()[1] for s in [listener, udp, *pairs]}
    for s in [listener, udp, *pairs]:
        s.close()
    try:
        yield ports, [child.pid for child in children]
    finally:
        for child in children:
            child.kill()
            child.wait()


def test_this_machine_gives_the_same_sockets_and_owners(held_sockets):
    ports, children = held_sockets
    ctx = ProbeContext.create(None)
    listeners, connections = probe_sockets(ctx.for_probe("network"))
    expected_listeners, expected_connections = reference_sockets(ctx.for_probe("network"))
    def mine(found):  # both ends ours and established: no other program's socket, no TIME_WAIT left by one
        found_listeners, found_connections = found
        return ([x for x in found_listeners if x[0] == "127.0.0.1" and x[1] in ports],
                [c for c in found_connections if c[1] in ports and c[3] in ports and c[4] == "ESTABLISHED"])

    ours = mine((listeners, connections))
    assert ours == mine((expected_listeners, expected_connections))
    assert len(ours[0]) == 2 and len(ours[1]) == 6
    owners = {(pid, name) for *_, pid, name in ours[0] + ours[1]}
    # the UDP socket is held by children 1 and 2: the lower pid owns it
    assert owners == {(children[0], "sleep"), (children[1], "farmwatch-long-sleeper"), (children[2], "sleep"),
                      (children[3], "sleep")}
