"""Write fixture sysroots: small trees of /proc, /sys, /etc and /var that stand in for a
laptop when the agent scans with ``--sysroot``.

A SysrootBuilder takes facts (a process, a USB device, a socket, a login …) and writes
them in the kernel's own file formats; ``build()`` writes the tables that collect many
facts (/proc/net/*, utmp, passwd, dpkg status). The scenario functions at the bottom
describe the machines the tests and the benchmark scan.
"""

from __future__ import annotations

import ipaddress
import os
import struct
import sys
from dataclasses import dataclass, field
from pathlib import Path

EDID_DIR = Path(__file__).parent / "fixtures" / "edid"
BOOT_TIME = 1_764_000_000  # 2025-11-24T16:00:00Z
CLOCK_TICKS = 100
UTMP = struct.Struct("<hxxi32s4s32s256shhiii16s20s")
_NATIVE_WORD = "<I" if sys.byteorder == "little" else ">I"
TCP_STATE_CODES = {"ESTABLISHED": 0x01, "SYN_SENT": 0x02, "TIME_WAIT": 0x06, "CLOSE": 0x07, "LISTEN": 0x0A}


def edid_fixture(name: str) -> bytes:
    return bytes.fromhex((EDID_DIR / f"{name}.hex").read_text())


@dataclass(frozen=True)
class Interface:
    """(class, subclass, protocol, driver) of one USB interface, classes as 2 hex digits."""

    cls: str
    subclass: str
    protocol: str
    driver: str = ""


KEYBOARD = Interface("03", "01", "01", "usbhid")
MOUSE = Interface("03", "01", "02", "usbhid")
ABSOLUTE_MOUSE = Interface("03", "00", "00", "usbhid")
MASS_STORAGE = Interface("08", "06", "50", "usb-storage")
RNDIS_CONTROL = Interface("e0", "01", "03", "rndis_host")
CDC_DATA = Interface("0a", "00", "00", "rndis_host")


@dataclass
class SysrootBuilder:
    root: Path
    _passwd: list[str] = field(default_factory=lambda: ["root:x:0:0:root:/root:/bin/bash"])
    _sockets: dict[str, list[str]] = field(default_factory=lambda: {t: [] for t in ("tcp", "tcp6", "udp", "udp6")})
    _routes: list[str] = field(default_factory=list)
    _arp: list[str] = field(default_factory=list)
    _fib_leaves: list[str] = field(default_factory=list)
    _inet6: list[str] = field(default_factory=list)
    _utmp: list[bytes] = field(default_factory=list)
    _packages: list[str] = field(default_factory=list)
    _next_inode: int = 40000

    # -- plain files -------------------------------------------------------------------

    def file(self, machine_path: str, content: str | bytes) -> Path:
        path = self.root / machine_path.lstrip("/")
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
        return path

    def symlink(self, machine_path: str, target: str) -> None:
        path = self.root / machine_path.lstrip("/")
        path.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(target, path)

    def directory(self, machine_path: str) -> None:
        (self.root / machine_path.lstrip("/")).mkdir(parents=True, exist_ok=True)

    def attributes(self, directory: str, values: dict[str, str | None]) -> None:
        """One file per attribute, as sysfs has them; None means the file is absent."""
        for name, value in values.items():
            if value is not None:
                self.file(f"{directory}/{name}", f"{value}\n")

    # -- host ----------------------------------------------------------------------------

    def host(
        self,
        *,
        hostname: str,
        pretty_name: str,
        serial: str,
        vendor: str,
        product: str,
        timezone: str,
        locale: str,
        xkb_layout: str,
        xkb_variant: str = "",
        arch: str = "x86_64",
    ) -> None:
        self.file("/proc/sys/kernel/hostname", f"{hostname}\n")
        self.file("/proc/sys/kernel/arch", f"{arch}\n")
        self.file("/etc/os-release", f'NAME="Ubuntu"\nPRETTY_NAME="{pretty_name}"\nID=ubuntu\n')
        self.file("/proc/stat", f"cpu  1 2 3 4\nbtime {BOOT_TIME}\nprocesses 9000\n")
        self.attributes("/sys/class/dmi/id", {"product_serial": serial, "sys_vendor": vendor, "product_name": product})
        self.file("/etc/timezone", f"{timezone}\n")
        self.symlink("/etc/localtime", f"/usr/share/zoneinfo/{timezone}")
        self.file("/etc/default/locale", f'LANG="{locale}"\n')
        self.file("/etc/default/keyboard", f'XKBMODEL="pc105"\nXKBLAYOUT="{xkb_layout}"\nXKBVARIANT="{xkb_variant}"\n')

    def user(self, name: str, uid: int, home: str | None = None) -> None:
        self._passwd.append(f"{name}:x:{uid}:{uid}:{name}:{home or f'/home/{name}'}:/bin/bash")

    # -- processes -------------------------------------------------------------------------

    def process(
        self,
        pid: int,
        comm: str,
        *,
        ppid: int = 1,
        exe: str | None = None,
        cmdline: list[str] | None = None,
        uid: int = 0,
        started_after_boot: float = 5.0,
    ) -> None:
        """A process; without exe and cmdline it looks like a kernel thread."""
        base = f"/proc/{pid}"
        ticks = int(started_after_boot * CLOCK_TICKS)
        self.file(f"{base}/stat", f"{pid} ({comm[:15]}) S {ppid} {pid} {pid} 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 {ticks} 0 0\n")
        self.file(
            f"{base}/status",
            f"Name:\t{comm[:15]}\nUmask:\t0022\nState:\tS (sleeping)\nPid:\t{pid}\nPPid:\t{ppid}\n"
            f"Uid:\t{uid}\t{uid}\t{uid}\t{uid}\nGid:\t{uid}\t{uid}\t{uid}\t{uid}\n",
        )
        self.file(f"{base}/cmdline", "".join(f"{arg}\0" for arg in cmdline or []))
        self.directory(f"{base}/fd")
        if exe:
            self.symlink(f"{base}/exe", exe)

    def _owned_socket(self, pid: int | None) -> int:
        self._next_inode += 1
        if pid is not None:
            fd = len(os.listdir(self.root / f"proc/{pid}/fd")) + 3
            self.symlink(f"/proc/{pid}/fd/{fd}", f"socket:[{self._next_inode}]")
        return self._next_inode

    # -- network ---------------------------------------------------------------------------

    def tcp(self, local: str, remote: str, state: str, pid: int | None = None) -> None:
        self._socket("tcp", local, remote, TCP_STATE_CODES[state], pid)

    def udp(self, local: str, remote: str = "0.0.0.0:0", pid: int | None = None) -> None:
        self._socket("udp", local, remote, 0x07, pid)

    def _socket(self, protocol: str, local: str, remote: str, state: int, pid: int | None) -> None:
        local_ip, local_port = _split_endpoint(local)
        remote_ip, remote_port = _split_endpoint(remote)
        table = protocol + ("6" if local_ip.version == 6 else "")
        inode = self._owned_socket(pid)
        row = len(self._sockets[table])
        self._sockets[table].append(
            f"{row:4d}: {_proc_hex(local_ip)}:{local_port:04X} {_proc_hex(remote_ip)}:{remote_port:04X} "
            f"{state:02X} 00000000:00000000 00:00000000 00000000     0        0 {inode} 1 0000000000000000"
        )

    def net_interface(
        self,
        name: str,
        *,
        mac: str = "00:00:00:00:00:00",
        link_type: int = 1,
        up: bool = True,
        physical: bool = True,
        wifi: bool = False,
        bridge: bool = False,
        tun: bool = False,
        ipv4: list[str] = (),
        ipv6: list[str] = (),
    ) -> None:
        base = f"/sys/class/net/{name}"
        self.attributes(base, {
            "address": mac, "type": str(link_type), "flags": "0x1003" if up else "0x1002",
            "operstate": "up" if up else "down",
        })
        if physical:
            self.symlink(f"{base}/device", "../../../0000:00:1f.6")
        if wifi:
            self.symlink(f"{base}/phy80211", "../../ieee80211/phy0")
        if bridge:
            self.directory(f"{base}/bridge")
        if tun:
            self.file(f"{base}/tun_flags", "0x1001\n")
        for cidr in ipv4:
            interface = ipaddress.IPv4Interface(cidr)
            self._fib_leaves.append(str(interface.ip))
            if not interface.ip.is_loopback:
                self.route(name, str(interface.network.network_address), "0.0.0.0", str(interface.netmask), metric=100, gateway_flag=False)
        for address in ipv6:
            self._inet6.append(f"{ipaddress.IPv6Address(address).exploded.replace(':', '')} 02 40 00 80 {name:>8}")

    def route(self, interface: str, destination: str, gateway: str, mask: str, *, metric: int, gateway_flag: bool = True) -> None:
        flags = 0x0003 if gateway_flag else 0x0001
        self._routes.append(
            f"{interface}\t{_proc_hex(ipaddress.ip_address(destination))}\t{_proc_hex(ipaddress.ip_address(gateway))}\t"
            f"{flags:04X}\t0\t0\t{metric}\t{_proc_hex(ipaddress.ip_address(mask))}\t0\t0\t0"
        )

    def arp(self, ip: str, mac: str, interface: str) -> None:
        self._arp.append(f"{ip:<17}0x1         0x2         {mac}     *        {interface}")

    def dns(self, *servers: str) -> None:
        self.file("/etc/resolv.conf", "# managed\n" + "".join(f"nameserver {s}\n" for s in servers) + "options edns0\n")

    # -- devices ---------------------------------------------------------------------------

    def usb_device(
        self,
        bus_path: str,
        vendor_id: str,
        product_id: str,
        *,
        manufacturer: str | None = None,
        product: str | None = None,
        serial: str | None = None,
        device_class: str = "00",
        bcd_device: str = "0100",
        speed: str = "480",
        interfaces: list[Interface] = (),
    ) -> str:
        base = f"/sys/bus/usb/devices/{bus_path}"
        self.attributes(base, {
            "idVendor": vendor_id, "idProduct": product_id, "manufacturer": manufacturer, "product": product,
            "serial": serial, "bDeviceClass": device_class, "bcdDevice": bcd_device, "speed": speed,
        })
        for number, interface in enumerate(interfaces):
            interface_dir = f"{base}:1.{number}"
            self.attributes(interface_dir, {
                "bInterfaceNumber": f"{number:02x}", "bInterfaceClass": interface.cls,
                "bInterfaceSubClass": interface.subclass, "bInterfaceProtocol": interface.protocol,
            })
            if interface.driver:
                self.symlink(f"{interface_dir}/driver", f"../../../../../../bus/usb/drivers/{interface.driver}")
        return base

    def display(self, connector: str, edid: bytes, *, connected: bool = True) -> None:
        base = f"/sys/class/drm/{connector}"
        self.file(f"{base}/edid", edid)
        self.file(f"{base}/status", "connected\n" if connected else "disconnected\n")

    # -- logins and software ---------------------------------------------------------------------

    def login(self, user: str, terminal: str, started: int, *, host: str = "", pid: int = 0, session_type: int = 7) -> None:
        self._utmp.append(UTMP.pack(
            session_type, pid, terminal.encode(), terminal[-4:].encode(), user.encode(), host.encode(),
            0, 0, 0, started, 0, bytes(16), bytes(20),
        ))

    def package(self, name: str, version: str, status: str = "install ok installed") -> None:
        self._packages.append(f"Package: {name}\nStatus: {status}\nPriority: optional\nVersion: {version}\nDescription: {name}\n")

    def desktop_entry(self, directory: str, file_name: str, body: str) -> None:
        self.file(f"{directory}/{file_name}", body)

    def enable_unit(self, unit: str, wanted_by: str = "multi-user.target", config_dir: str = "/etc/systemd/system") -> None:
        self.symlink(f"{config_dir}/{wanted_by}.wants/{unit}", f"/lib/systemd/system/{unit}")

    # -- the tables --------------------------------------------------------------------

    def build(self) -> Path:
        self.file("/etc/passwd", "\n".join(self._passwd) + "\n")
        header = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
        for table, rows in self._sockets.items():
            self.file(f"/proc/net/{table}", header + "".join(f"{row}\n" for row in rows))
        self.file("/proc/net/route", "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
                  + "".join(f"{row}\n" for row in self._routes))
        self.file("/proc/net/arp", "IP address       HW type     Flags       HW address            Mask     Device\n"
                  + "".join(f"{row}\n" for row in self._arp))
        self.file("/proc/net/fib_trie", _fib_trie(self._fib_leaves))
        self.file("/proc/net/if_inet6", "".join(f"{row}\n" for row in self._inet6))
        self.file("/run/utmp", b"".join(self._utmp))
        if self._packages:
            self.file("/var/lib/dpkg/status", "\n".join(self._packages))
        return self.root


def _split_endpoint(text: str) -> tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, int]:
    host, _, port = text.rpartition(":")
    return ipaddress.ip_address(host.strip("[]")), int(port)


def _proc_hex(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    """The kernel prints addresses as native-endian 32-bit words."""
    packed = address.packed
    return "".join(f"{struct.unpack(_NATIVE_WORD, packed[i:i + 4])[0]:08X}" for i in range(0, len(packed), 4))


def _fib_trie(addresses: list[str]) -> str:
    lines = ["Main:", "  +-- 0.0.0.0/0 3 0 5", "     |-- 0.0.0.0", "        /0 universe UNICAST"]
    lines += [f"     |-- {ip}\n        /32 host LOCAL" for ip in addresses]
    # the Local table repeats every address; readers must not count them twice
    lines += ["Local:", "  +-- 0.0.0.0/0 3 0 5"] + [f"     |-- {ip}\n        /32 host LOCAL" for ip in addresses]
    return "\n".join(lines) + "\n"
