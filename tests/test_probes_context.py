"""ProbeContext, the registry and the per-OS dispatch."""

from __future__ import annotations

import pytest

from farmwatch.agent.probes import PROBES
from farmwatch.agent.probes.context import ProbeContext
from sysroot_builder import SysrootBuilder
from sysroot_machines import gaps


def test_registry_names_every_probe():
    assert list(PROBES) == ["host", "processes", "applications", "usb", "displays", "network", "sessions", "remote_access"]


def test_machine_paths_live_under_the_root(tmp_path):
    ctx = ProbeContext.create(tmp_path)
    assert ctx.path("/proc/stat") == tmp_path / "proc" / "stat"
    assert (ctx.is_live, ctx.os, dict(ctx.env)) == (False, "linux", {})


def test_live_context_reads_the_machine():
    ctx = ProbeContext.create()
    assert (str(ctx.root), ctx.is_live, ctx.os) == ("/", True, "linux")
    assert ctx.read_value("/proc/sys/kernel/ostype") == "Linux"


def test_absent_files_are_quiet_and_broken_ones_are_gaps(tmp_path):
    b = SysrootBuilder(tmp_path)
    b.directory("/sys/thing")
    b.symlink("/sys/link", "nowhere")
    b.file("/sys/plain", "x\n")
    ctx = ProbeContext.create(tmp_path).for_probe("usb")
    assert ctx.read_value("/sys/absent") is None
    assert ctx.list_dir("/sys/absent") == []
    assert ctx.readlink("/sys/plain") is None  # a file, not a link: nothing to say
    assert ctx.read_value("/sys/thing") is None
    assert ctx.read_bytes("/sys/link") is None
    assert ctx.read_bytes("/sys/link") is None
    assert ctx.readlink("/sys/link") == "nowhere"
    assert [(e.probe, e.error) for e in ctx.errors] == [
        ("usb", "/sys/thing: Is a directory"), ("usb", "/sys/link: dangling symlink")]


def test_lines_come_as_read_text_gives_them_with_the_same_gaps(tmp_path):
    b = SysrootBuilder(tmp_path)
    b.directory("/var/thing")
    b.symlink("/var/link", "nowhere")
    b.file("/var/status", b"Package: a\r\nVersion: caf\xc3\xa9 \xff\n\nPackage: b")
    ctx = ProbeContext.create(tmp_path).for_probe("applications")
    assert "".join(ctx.read_lines("/var/status")) == ctx.read_text("/var/status")
    assert list(ctx.read_lines("/var/status")) == ["Package: a\r\n", "Version: café \ufffd\n", "\n", "Package: b"]
    assert [list(ctx.read_lines(path)) for path in ("/var/absent", "/var/thing", "/var/link")] == [[], [], []]
    assert gaps(ctx) == ["/var/thing: Is a directory", "/var/link: dangling symlink"]


def test_each_probe_view_keeps_its_own_gaps(tmp_path):
    scan_ctx = ProbeContext.create(tmp_path)
    first, second = scan_ctx.for_probe("a"), scan_ctx.for_probe("b")
    first.gap("one")
    assert (gaps(first), gaps(second), gaps(scan_ctx)) == (["one"], [], [])


def test_no_tool_runs_against_a_sysroot(tmp_path):
    ctx = ProbeContext.create(tmp_path)
    assert ctx.has_tool("sh") is False and ctx.run(["sh", "-c", "echo hi"]) is None


def test_a_failing_tool_is_a_gap():
    ctx = ProbeContext.create().for_probe("network")
    assert ctx.run(["sh", "-c", "echo oops >&2; exit 3"]) is None
    assert gaps(ctx) == ["sh -c echo oops >&2; exit 3 exited 3: oops"]


@pytest.mark.parametrize("name", list(PROBES))
def test_probes_on_an_os_without_an_implementation_record_the_gap(name, tmp_path):
    ctx = ProbeContext.create(tmp_path, os_name="freebsd").for_probe(name)
    result = PROBES[name](ctx)
    assert result == type(result)()  # an empty message or list
    assert gaps(ctx) == ["not implemented on freebsd"]
