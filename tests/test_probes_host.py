"""host, processes and sessions probes on fixture sysroots."""

from __future__ import annotations

import pytest

from farmwatch.agent import __version__
from farmwatch.agent.probes import host, processes, sessions
from farmwatch.agent.probes.host import is_placeholder, xkb_layouts
from farmwatch.agent.probes._procfs import parse_stat
from farmwatch.agent.probes.sessions import parse_utmp, remote_host
from sysroot_builder import BOOT_TIME, SysrootBuilder
from sysroot_machines import SSH_PEER, USER, gaps, probe_context


def test_host_identity_clock_and_language(pikvm):
    ctx = probe_context(pikvm, "host")
    found = host.collect(ctx)
    assert (found.hostname, found.os, found.os_version, found.arch) == (
        "acme-lt-5kqm8z1", "linux", "Ubuntu 24.04.1 LTS", "x86_64")
    assert (found.agent_version, found.serial_number, found.hardware_model) == (
        __version__, "5KQM8Z1", "Dell Inc. Latitude 7440")
    assert found.boot_time.ToSeconds() == BOOT_TIME
    assert (found.timezone, found.utc_offset_minutes, found.locale) == ("Asia/Seoul", 540, "en_US.UTF-8")
    assert list(found.keyboard_layouts) == ["us", "kr(kr104)"]
    assert gaps(ctx) == []


def test_host_on_a_tree_with_a_directory_for_the_serial(broken):
    ctx = probe_context(broken, "host")
    found = host.collect(ctx)
    assert (found.hostname, found.serial_number, found.timezone) == ("broken", "", "")
    assert gaps(ctx) == [
        "/sys/class/dmi/id/product_serial: Is a directory",
        "no btime in /proc/stat",
        "time zone not configured (/etc/timezone, /etc/localtime)",
    ]


def test_serial_falls_back_to_the_board_and_skips_placeholders(tmp_path):
    b = SysrootBuilder(tmp_path)
    b.attributes("/sys/class/dmi/id", {"product_serial": "To be filled by O.E.M.", "board_serial": "/BRD12345/CN/"})
    assert host.collect(probe_context(b.build(), "host")).serial_number == "/BRD12345/CN/"


def test_an_arm_laptop_without_dmi_names_itself_in_the_device_tree(tmp_path):
    b = SysrootBuilder(tmp_path)
    b.file("/sys/firmware/devicetree/base/serial-number", b"R9TW20AB1CD\x00")
    b.file("/sys/firmware/devicetree/base/model", b"Lenovo ThinkPad X13s\x00")
    ctx = probe_context(b.build(), "host")
    found = host.collect(ctx)
    assert (found.serial_number, found.hardware_model) == ("R9TW20AB1CD", "Lenovo ThinkPad X13s")
    assert not [gap for gap in gaps(ctx) if "serial" in gap]


def test_no_dmi_and_no_device_tree_says_the_serial_is_unknown(tmp_path):
    b = SysrootBuilder(tmp_path)
    b.file("/etc/hostname", "bare\n")
    ctx = probe_context(b.build(), "host")
    assert host.collect(ctx).serial_number == ""
    assert "no /sys/class/dmi/id and no device tree: hardware serial unknown" in gaps(ctx)


@pytest.mark.parametrize("value", ["To be filled by O.E.M.", "Not Specified", "0", "00000000", "System Serial Number", " ", "Default string"])
def test_firmware_placeholders_are_not_serials(value):
    assert is_placeholder(value)


@pytest.mark.parametrize("value", ["7HXK2Y3", "PF3ABCDE", "C02XK0ZZJGH5"])
def test_real_serials_are_kept(value):
    assert not is_placeholder(value)


def test_timezone_from_the_localtime_link_and_offset_from_the_trees_own_tzdata(tmp_path):
    b = SysrootBuilder(tmp_path)
    b.symlink("/etc/localtime", "../usr/share/zoneinfo/America/Sao_Paulo")
    # The tree's zone file says UTC+5:30 whatever the name: the machine's data wins over ours.
    b.file("/usr/share/zoneinfo/America/Sao_Paulo", _tzif_v1_fixed(19800))
    found = host.collect(probe_context(b.build(), "host"))
    assert (found.timezone, found.utc_offset_minutes) == ("America/Sao_Paulo", 330)


def _tzif_v1_fixed(offset_seconds: int) -> bytes:
    """A version-1 TZif file (RFC 8536) with one local time type and no transitions."""
    counts = (0, 0, 0, 0, 1, 2)  # isut, isstd, leap, transitions, types, abbreviation chars
    header = b"TZif\x00" + bytes(15) + b"".join(n.to_bytes(4, "big") for n in counts)
    local_time_type = offset_seconds.to_bytes(4, "big", signed=True) + b"\x00\x00"
    return header + local_time_type + b"X\x00"


def test_keyboard_layouts_from_console_config_too(tmp_path):
    b = SysrootBuilder(tmp_path)
    b.file("/etc/vconsole.conf", "KEYMAP=kr\nXKBLAYOUT=us,kr\nXKBVARIANT=,kr104\n")
    assert list(host.collect(probe_context(b.build(), "host")).keyboard_layouts) == ["us", "kr(kr104)", "kr"]


def test_xkb_variants_pair_with_their_layouts():
    assert xkb_layouts("us,de,kr", ",nodeadkeys") == ["us", "de(nodeadkeys)", "kr"]
    assert xkb_layouts("", "") == []


def test_processes_with_names_users_and_start_times(dock):
    ctx = probe_context(dock, "processes")
    found = {p.pid: p for p in processes.collect(ctx)}
    assert sorted(found) == [1, 2, 3, 410, 880, 1500, 2300, 2301]
    chrome = found[2300]
    assert (chrome.ppid, chrome.name, chrome.exe, chrome.username) == (1500, "chrome", "/opt/google/chrome/chrome", USER)
    assert list(chrome.cmdline) == ["/opt/google/chrome/chrome", "--type=browser"]
    assert chrome.create_time.ToNanoseconds() == (BOOT_TIME + 120) * 10**9 + 250_000_000
    # comm is cut to 15 characters; the full name comes from the command line
    assert found[2301].name == "chrome_crashpad_handler"
    assert found[410].name == "systemd-resolved" and found[410].username == "101"  # no passwd entry
    kernel_thread = found[3]
    assert (kernel_thread.name, kernel_thread.exe, list(kernel_thread.cmdline)) == ("kworker/0:0H-ev", "", [])
    assert gaps(ctx) == []


def test_processes_without_btime_have_no_start_time(broken):
    ctx = probe_context(broken, "processes")
    (only,) = processes.collect(ctx)
    assert (only.pid, only.name, only.HasField("create_time")) == (1, "systemd", False)
    assert gaps(ctx) == ["no btime in /proc/stat: process start times unknown"]


def test_sessions_keep_user_logins_with_their_remote_host(pikvm):
    ctx = probe_context(pikvm, "sessions")
    found = [(s.user, s.terminal, s.remote_host, s.started_at.ToSeconds()) for s in sessions.collect(ctx)]
    assert found == [(USER, "tty2", "", BOOT_TIME + 40), (USER, "pts/0", SSH_PEER, BOOT_TIME + 3600)]
    assert gaps(ctx) == []


@pytest.mark.parametrize(("utmp_host", "remote"), [
    (":0", ""), (":1.0", ""), ("tmux(4242).%0", ""), ("", ""), (SSH_PEER, SSH_PEER), ("vpn-gw.example.net", "vpn-gw.example.net"),
])
def test_only_hosts_and_addresses_are_remote(utmp_host, remote):
    assert remote_host(utmp_host) == remote


def test_stat_comm_may_hold_spaces_and_parentheses():
    stat = parse_stat(b"4242 (my (odd) name) S 17 4242 4242 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 9876 0 0\n")
    assert (stat.comm, stat.ppid, stat.start_ticks) == ("my (odd) name", 17, 9876)


def test_a_torn_utmp_record_is_ignored(pikvm):
    data = (pikvm / "run/utmp").read_bytes()
    assert [login.terminal for login in parse_utmp(data + data[:100])] == ["tty2", "pts/0"]


def test_no_login_records_is_one_gap(broken):
    ctx = probe_context(broken, "sessions")
    assert sessions.collect(ctx) == []
    assert gaps(ctx) == ["neither utmp (/run/utmp) nor logind sessions: logins unknown"]


def test_logind_sessions_when_there_is_no_utmp(tmp_path):
    b = SysrootBuilder(tmp_path)
    sessions_dir = "/run/systemd/sessions"
    b.file(f"{sessions_dir}/2", f"# This is private data. Do not parse.\nUID=1000\nUSER={USER}\nCLASS=user\nTTY=tty2\n"
                                f"REMOTE=0\nREALTIME={(BOOT_TIME + 40) * 10**6 + 123}\n")
    b.file(f"{sessions_dir}/7", f"USER={USER}\nCLASS=user\nREMOTE=1\nREMOTE_HOST={SSH_PEER}\nSERVICE=sshd\n"
                                f"REALTIME={(BOOT_TIME + 3600) * 10**6}\n")
    b.file(f"{sessions_dir}/c1", "USER=gdm\nCLASS=greeter\nTTY=tty1\n")
    b.file(f"{sessions_dir}/7.ref", "")
    ctx = probe_context(tmp_path, "sessions")
    found = [(s.user, s.terminal, s.remote_host, s.started_at.ToSeconds()) for s in sessions.collect(ctx)]
    assert found == [(USER, "tty2", "", BOOT_TIME + 40), (USER, "", SSH_PEER, BOOT_TIME + 3600)]
    assert gaps(ctx) == []
