"""The machines the probe tests scan, written with SysrootBuilder.

* dock_laptop: an ordinary employee laptop on a USB-C dock.
* pikvm_laptop: a laptop driven through a PiKVM (composite USB gadget + HDMI capture
  EDID), with a remote SSH login and AnyDesk running.
* broken_laptop: a tree with missing and unreadable files where the scan must still finish.
* busy_laptop: ~400 processes, for the cost measurements.

Write one to a directory for `farmwatch-agent scan --sysroot DIR` or a benchmark:
    python tests/sysroot_machines.py pikvm_laptop /tmp/pikvm
"""

from __future__ import annotations

import sys
from pathlib import Path

from farmwatch.agent.probes.context import ProbeContext
from sysroot_builder import (
    ABSOLUTE_MOUSE,
    BOOT_TIME,
    CDC_DATA,
    KEYBOARD,
    MASS_STORAGE,
    MOUSE,
    RNDIS_CONTROL,
    Interface,
    SysrootBuilder,
    edid_fixture,
)

USER, USER_UID = "dkowalski", 1000
LAPTOP_MAC = "70:cf:49:12:34:56"
GATEWAY_MAC = "a0:63:91:aa:bb:cc"


def _base_laptop(root: Path, *, serial: str, timezone: str, xkb_layout: str = "us", xkb_variant: str = "") -> SysrootBuilder:
    """The parts every fixture laptop shares: identity, kernel threads, a desktop session."""
    b = SysrootBuilder(root)
    b.host(
        hostname=f"acme-lt-{serial.lower()}", pretty_name="Ubuntu 24.04.1 LTS", serial=serial,
        vendor="Dell Inc.", product="Latitude 7440", timezone=timezone, locale="en_US.UTF-8",
        xkb_layout=xkb_layout, xkb_variant=xkb_variant,
    )
    b.user(USER, USER_UID)
    b.user("nobody", 65534, "/nonexistent")
    b.process(1, "systemd", ppid=0, exe="/usr/lib/systemd/systemd", cmdline=["/sbin/init", "splash"], started_after_boot=0.5)
    b.process(2, "kthreadd", ppid=0, started_after_boot=0.5)
    b.process(3, "kworker/0:0H-events_highpri", ppid=2, started_after_boot=0.6)
    b.process(410, "systemd-resolve", exe="/usr/lib/systemd/systemd-resolved", cmdline=["/usr/lib/systemd/systemd-resolved"], uid=101)
    b.process(
        1500, "gnome-shell", ppid=1, exe="/usr/bin/gnome-shell", cmdline=["/usr/bin/gnome-shell"],
        uid=USER_UID, started_after_boot=30.0,
    )
    b.udp("127.0.0.53:53", pid=410)
    b.tcp("127.0.0.53:53", "0.0.0.0:0", "LISTEN", pid=410)
    b.net_interface("lo", link_type=772, physical=False, ipv4=["127.0.0.1/8"], ipv6=["::1"])
    b.net_interface("wlp0s20f3", mac=LAPTOP_MAC, wifi=True, ipv4=["192.168.1.23/24"], ipv6=["fe80::72cf:49ff:fe12:3456"])
    b.route("wlp0s20f3", "0.0.0.0", "192.168.1.1", "0.0.0.0", metric=600)
    b.arp("192.168.1.1", GATEWAY_MAC, "wlp0s20f3")
    b.usb_device("usb1", "1d6b", "0002", manufacturer="Linux 6.8.0-49-generic xhci-hcd", product="xHCI Host Controller",
                 device_class="09", bcd_device="0608", interfaces=[Interface("09", "00", "00", "hub")])
    b.display("card1-eDP-1", edid_fixture("auo_b140han04_laptop"))
    b.package("openssh-client", "1:9.6p1-3ubuntu13.5")
    b.package("firefox", "1:1snap1-0ubuntu5")
    b.package("libreoffice-core", "4:24.2.7-0ubuntu0.24.04.1", status="deinstall ok config-files")
    b.enable_unit("cups.service")
    b.file("/lib/systemd/system/ssh.service", "[Unit]\nDescription=OpenBSD Secure Shell server\n")
    b.login(USER, "tty2", BOOT_TIME + 40, pid=1400)
    return b


def dock_laptop(root: Path) -> Path:
    b = _base_laptop(root, serial="7HXK2Y3", timezone="America/New_York")
    b.usb_device("3-1", "0bda", "5411", manufacturer="Generic", product="4-Port USB 2.0 Hub", device_class="09",
                 bcd_device="0136", interfaces=[Interface("09", "00", "01", "hub")])
    b.usb_device("3-1.1", "0bda", "8153", manufacturer="Realtek", product="USB 10/100/1000 LAN", serial="001000001",
                 bcd_device="3100", speed="5000", interfaces=[Interface("ff", "ff", "00", "r8152")])
    b.usb_device("3-1.2", "046d", "c52b", manufacturer="Logitech", product="USB Receiver", bcd_device="1211",
                 speed="12", interfaces=[KEYBOARD, MOUSE, ABSOLUTE_MOUSE])
    b.usb_device("3-1.3", "1050", "0407", manufacturer="Yubico", product="YubiKey OTP+FIDO+CCID", bcd_device="0543",
                 speed="12", interfaces=[KEYBOARD, Interface("03", "00", "00", "usbhid"), Interface("0b", "00", "00")])
    b.usb_device("3-1.4", "046d", "0825", product="C270 HD WEBCAM", serial="200901010001", device_class="ef",
                 bcd_device="0012", interfaces=[Interface("0e", "01", "00", "uvcvideo"), Interface("0e", "02", "00", "uvcvideo"),
                                                Interface("01", "01", "00", "snd-usb-audio"), Interface("01", "02", "00", "snd-usb-audio")])
    b.display("card1-DP-3", edid_fixture("dell_d2721h_external"))
    b.display("card1-HDMI-A-1", b"", connected=False)
    b.net_interface("enx00e04c680001", mac="00:e0:4c:68:00:01", ipv4=["10.20.0.15/24"])
    b.net_interface("docker0", mac="02:42:ac:11:00:01", physical=False, bridge=True, up=False, ipv4=["172.17.0.1/16"])
    b.net_interface("tailscale0", link_type=65534, physical=False, tun=True, ipv4=["100.101.102.103/32"])
    b.route("enx00e04c680001", "0.0.0.0", "10.20.0.1", "0.0.0.0", metric=100)
    b.arp("10.20.0.1", "3c:ec:ef:01:02:03", "enx00e04c680001")
    b.dns("127.0.0.53")
    b.file("/run/systemd/resolve/resolv.conf", "nameserver 10.20.0.1\nnameserver 2606:4700:4700::1111\n")
    b.file("/proc/sys/net/ipv4/ip_forward", "0\n")
    b.process(
        2300, "chrome", ppid=1500, exe="/opt/google/chrome/chrome",
        cmdline=["/opt/google/chrome/chrome", "--type=browser"], uid=USER_UID, started_after_boot=120.25,
    )
    b.process(
        2301, "chrome_crashpad_handler", ppid=2300, exe="/opt/google/chrome/chrome_crashpad_handler",
        cmdline=["/opt/google/chrome/chrome_crashpad_handler", "--monitor-self"], uid=USER_UID,
    )
    b.process(880, "cupsd", exe="/usr/sbin/cupsd", cmdline=["/usr/sbin/cupsd", "-l"])
    b.tcp("10.20.0.15:52344", "142.250.72.14:443", "ESTABLISHED", pid=2300)
    b.tcp("::ffff:10.20.0.15:52350", "::ffff:140.82.112.3:443", "ESTABLISHED", pid=2300)
    b.tcp("::1:631", "::0:0", "LISTEN", pid=880)
    b.tcp("10.20.0.15:40000", "0.0.0.0:0", "CLOSE")
    b.desktop_entry("/usr/share/applications", "google-chrome.desktop",
                    "[Desktop Entry]\nVersion=1.0\nName=Google Chrome\nName[ko]=Chrome 브라우저\nExec=/usr/bin/google-chrome-stable %U\n"
                    "[Desktop Action new-window]\nName=New Window\n")
    b.desktop_entry(f"/home/{USER}/.local/share/applications", "old-tool.desktop", "[Desktop Entry]\nName=Old Tool\nHidden=true\n")
    b.file("/snap/firefox/current/meta/snap.yaml", "name: firefox\nversion: '133.0.3-1'\nsummary: Mozilla Firefox\n")
    b.directory("/snap/bin")
    b.directory("/var/lib/flatpak/app/org.signal.Signal/current")
    b.enable_unit("docker.service")
    return b.build()


PIKVM_INTERFACES = [KEYBOARD, ABSOLUTE_MOUSE, MOUSE, MASS_STORAGE, RNDIS_CONTROL, CDC_DATA]
SSH_PEER = "203.0.113.45"
ANYDESK_PEER = "198.51.100.23"


def pikvm_laptop(root: Path) -> Path:
    b = _base_laptop(root, serial="5KQM8Z1", timezone="Asia/Seoul", xkb_layout="us,kr", xkb_variant=",kr104")
    b.usb_device("1-1", "1d6b", "0104", manufacturer="PiKVM", product="PiKVM Composite Device", serial="CAFEBABE",
                 bcd_device="0101", interfaces=PIKVM_INTERFACES)
    b.display("card1-HDMI-A-1", edid_fixture("pikvm_v4plus_kvm"))
    b.net_interface("usb0", mac="b2:c8:4f:11:22:33", ipv4=["169.254.10.2/16"])
    b.dns("1.1.1.1", "8.8.8.8")
    b.file("/proc/sys/net/ipv4/ip_forward", "1\n")
    b.process(700, "sshd", exe="/usr/sbin/sshd", cmdline=["sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups"])
    b.process(3100, "sshd", ppid=700, exe="/usr/sbin/sshd", cmdline=[f"sshd: {USER} [priv]"], started_after_boot=3600.0)
    b.process(900, "anydesk", exe="/usr/bin/anydesk", cmdline=["/usr/bin/anydesk", "--service"], started_after_boot=8.0)
    b.process(2600, "anydesk", ppid=1500, exe="/usr/bin/anydesk", cmdline=["/usr/bin/anydesk", "--tray"], uid=USER_UID)
    b.tcp("0.0.0.0:22", "0.0.0.0:0", "LISTEN", pid=700)
    b.tcp(":::22", ":::0", "LISTEN", pid=700)
    b.tcp("192.168.1.23:22", f"{SSH_PEER}:52144", "ESTABLISHED", pid=3100)
    b.tcp("0.0.0.0:7070", "0.0.0.0:0", "LISTEN", pid=900)
    b.tcp("192.168.1.23:48812", f"{ANYDESK_PEER}:443", "ESTABLISHED", pid=900)
    b.udp("0.0.0.0:50001", pid=900)
    b.login(USER, "pts/0", BOOT_TIME + 3600, host=SSH_PEER, pid=3100)
    b.login("LOGIN", "tty1", BOOT_TIME + 10, session_type=6)  # a getty waiting: not a session
    b.package("anydesk", "6.3.2")
    b.package("openssh-server", "1:9.6p1-3ubuntu13.5")
    b.desktop_entry("/usr/share/applications", "anydesk.desktop", "[Desktop Entry]\nName=AnyDesk\nExec=/usr/bin/anydesk %u\n")
    b.enable_unit("anydesk.service")
    b.enable_unit("ssh.service")
    b.enable_unit("xrdp.service")
    b.enable_unit("gnome-remote-desktop.service", "graphical-session.target",
                  config_dir=f"/home/{USER}/.config/systemd/user")
    return b.build()


def broken_laptop(root: Path) -> Path:
    """Missing and unreadable files: a directory where a file belongs (as root nothing is
    unreadable by permission), dangling links, a truncated EDID, no btime."""
    b = SysrootBuilder(root)
    b.file("/proc/sys/kernel/hostname", "broken\n")
    b.file("/etc/os-release", 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n')
    b.file("/proc/stat", "cpu  1 2 3 4\n")
    b.directory("/sys/class/dmi/id/product_serial")
    b.file("/sys/class/dmi/id/board_serial", "Not Specified\n")
    b.usb_device("1-2", "04f2", "b6dd", manufacturer="Chicony", interfaces=[Interface("0e", "01", "00", "uvcvideo")])
    (root / "sys/bus/usb/devices/1-2/idProduct").unlink()
    b.directory("/sys/bus/usb/devices/1-2/product")
    b.usb_device("1-3", "0781", "5581", product="Ultra", interfaces=[MASS_STORAGE])
    b.symlink("/sys/bus/usb/devices/1-3/manufacturer", "../../../../devices/gone/manufacturer")
    b.display("card0-HDMI-A-1", edid_fixture("malformed_truncated"))
    b.process(1, "systemd", ppid=0, exe="/usr/lib/systemd/systemd", cmdline=["/sbin/init"])
    b.symlink("/etc/resolv.conf", "../run/systemd/resolve/stub-resolv.conf")
    b.build()
    (root / "run/utmp").unlink()
    return root


def busy_laptop(root: Path, process_count: int = 400) -> Path:
    """A desktop with ``process_count`` processes, a third of them kernel threads, and a
    socket for every tenth user process."""
    b = _base_laptop(root, serial="9BUSY01", timezone="Europe/Berlin")
    first_pid = 5000
    for offset in range(process_count - 5):  # the base laptop already has five
        pid = first_pid + offset
        if offset % 3 == 0:
            b.process(pid, f"kworker/{offset % 8}:{offset}-events", ppid=2)
            continue
        exe = f"/usr/lib/app{offset % 40}/worker-{offset}"
        b.process(pid, f"worker-{offset}", ppid=1500, exe=exe, cmdline=[exe, "--type=renderer", f"--id={offset}"],
                  uid=USER_UID, started_after_boot=60.0 + offset)
        if offset % 10 == 1:
            b.tcp(f"192.168.1.23:{30000 + offset}", f"198.51.100.{offset % 250}:443", "ESTABLISHED", pid=pid)
    return b.build()


def probe_context(root: Path, probe: str) -> ProbeContext:
    """A fresh context on ``root`` for one probe, as the scan would make it."""
    return ProbeContext.create(root).for_probe(probe)


def gaps(ctx: ProbeContext) -> list[str]:
    return [error.error for error in ctx.errors]


MACHINES = {machine.__name__: machine for machine in (dock_laptop, pikvm_laptop, broken_laptop, busy_laptop)}

if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in MACHINES:
        sys.exit(f"usage: {sys.argv[0]} {{{','.join(MACHINES)}}} EMPTY_DIR")
    print(MACHINES[sys.argv[1]](Path(sys.argv[2])))
