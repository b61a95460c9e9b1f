"""The Ubuntu 24.04 base: a Dell Latitude 7440 with a GNOME (Wayland) desktop."""

from __future__ import annotations

from edid import MonitorSpec, FHD_60
from parts import App, Conn, Delta, Identity, Listen, Login, NetIface, Proc, Screen, Usb, iface

IDENTITY = Identity(
    os="linux", os_version="Ubuntu 24.04.1 LTS (6.8.0-49-generic)", arch="x86_64",
    hardware_model="Dell Inc. Latitude 7440",
    serial_prefix="", serial_length=7, hostname_format="acme-lt-{serial_lower}", login="dkowalski", account="dkowalski",
    home="/home/dkowalski", timezone="America/New_York", utc_offset_minutes=-300, locale="en_US.UTF-8",
    keyboard_layouts=("us",), mac_oui="70:cf:49", wifi_interface="wlp0s20f3",
)

CPUS = 8
KERNEL_SINGLETONS = (
    "pool_workqueue_release", "kworker/R-rcu_g", "kworker/R-rcu_p", "kworker/R-slub_", "kworker/R-netns",
    "kworker/R-mm_pe", "rcu_tasks_kthread", "rcu_tasks_rude_kthread", "rcu_tasks_trace_kthread", "rcu_preempt",
    "rcu_exp_par_gp_kthread_worker/1", "rcu_exp_gp_kthread_worker", "kdevtmpfs", "kworker/R-inet_", "kauditd",
    "khungtaskd", "oom_reaper", "kworker/R-write", "kcompactd0", "ksmd", "khugepaged", "kworker/R-kinte",
    "kworker/R-kbloc", "irq/9-acpi", "kswapd0", "ecryptfs-kthread", "kworker/R-kthro", "irq/127-pciehp",
    "kworker/R-nvme-", "jbd2/nvme0n1p2-8", "kworker/R-ext4-", "irq/171-iwlwifi:default_queue", "card1-crtc0",
    "kworker/u33:2-i915_flip", "irq/16-i2c_designware.0", "irq/175-DLL0945:00", "kworker/R-cfg80", "psimon",
)

ROOT_DAEMONS = (
    ("/usr/lib/systemd/systemd-journald", ()), ("/usr/lib/systemd/systemd-udevd", ()),
    ("/usr/sbin/cron", ("-f", "-P")), ("/usr/libexec/accounts-daemon", ()), ("/usr/sbin/acpid", ()),
    ("/usr/libexec/bluetooth/bluetoothd", ()), ("/usr/sbin/NetworkManager", ("--no-daemon",)),
    ("/usr/lib/snapd/snapd", ()), ("/usr/libexec/switcheroo-control", ()), ("/usr/lib/systemd/systemd-logind", ()),
    ("/usr/sbin/thermald", ("--systemd", "--dbus-enable", "--adaptive")), ("/usr/libexec/udisks2/udisksd", ()),
    ("/usr/sbin/wpa_supplicant", ("-u", "-s", "-O", "DIR=/run/wpa_supplicant GROUP=netdev")),
    ("/usr/libexec/power-profiles-daemon", ()), ("/usr/sbin/ModemManager", ()), ("/usr/sbin/cupsd", ("-l",)),
    ("/usr/sbin/gdm3", ()), ("/usr/libexec/upowerd", ()), ("/usr/libexec/fwupd/fwupd", ()),
    ("/usr/libexec/packagekitd", ()), ("/usr/sbin/cups-browsed", ()), ("/usr/libexec/boltd", ()),
    ("/usr/libexec/iio-sensor-proxy", ()), ("/usr/sbin/irqbalance", ("--foreground",)),
    ("/usr/bin/python3", ("/usr/share/unattended-upgrades/unattended-upgrade-shutdown", "--wait-for-signal")),
    ("/opt/CrowdStrike/falcond", ()), ("/opt/CrowdStrike/falcon-sensor", ()),
    ("/opt/farmwatch/bin/farmwatch-agent", ("run",)), ("/usr/sbin/alsactl",
     ("-E", "HOME=/run/alsa", "-s", "-n", "19", "-c", "rdaemon")),
)

SERVICE_ACCOUNT_DAEMONS = (
    ("/usr/lib/systemd/systemd-oomd", "systemd-oom", ()), ("/usr/lib/systemd/systemd-resolved", "systemd-resolve", ()),
    ("/usr/lib/systemd/systemd-timesyncd", "systemd-timesync", ()),
    ("/usr/sbin/avahi-daemon", "avahi", ()), ("/usr/bin/dbus-daemon", "messagebus",
                                              ("--system", "--address=systemd:", "--nofork", "--nopidfile",
                                               "--systemd-activation", "--syslog-only")),
    ("/usr/lib/polkit-1/polkitd", "polkitd", ("--no-debug",)), ("/usr/sbin/rsyslogd", "syslog", ("-n", "-iNONE")),
    ("/usr/libexec/colord", "colord", ()), ("/usr/sbin/kerneloops", "kernoops", ("--test",)),
    ("/usr/libexec/rtkit-daemon", "rtkit", ()),
)

GNOME_HELPERS = (
    "gsd-a11y-settings", "gsd-color", "gsd-datetime", "gsd-housekeeping", "gsd-keyboard", "gsd-media-keys",
    "gsd-power", "gsd-print-notifications", "gsd-rfkill", "gsd-screensaver-proxy", "gsd-sharing", "gsd-smartcard",
    "gsd-sound", "gsd-wacom", "gsd-xsettings", "gsd-disk-utility-notify", "gsd-printer",
    "evolution-source-registry", "evolution-calendar-factory", "evolution-addressbook-factory",
    "goa-daemon", "goa-identity-service", "gvfsd", "gvfsd-fuse", "gvfs-udisks2-volume-monitor",
    "gvfs-mtp-volume-monitor", "gvfs-gphoto2-volume-monitor", "gvfs-afc-volume-monitor", "gvfs-goa-volume-monitor",
    "gvfsd-trash", "gvfsd-metadata", "at-spi2-registryd", "xdg-desktop-portal", "xdg-desktop-portal-gnome",
    "xdg-desktop-portal-gtk", "xdg-document-portal", "xdg-permission-store", "dconf-service",
    "gnome-session-ctl", "evolution-alarm-notify", "gsd-usb-protection", "tracker-miner-fs-3",
    "gnome-shell-calendar-server", "ibus-portal", "ibus-x11", "ibus-engine-simple",
    "snapd-desktop-integration", "gnome-terminal-server", "mutter-x11-frames",
)


def _kernel() -> tuple[Proc, ...]:
    threads = [Proc("", name="kthreadd", user="root", started=0)]
    names = list(KERNEL_SINGLETONS)
    for cpu in range(CPUS):
        names += [f"cpuhp/{cpu}", f"migration/{cpu}", f"ksoftirqd/{cpu}", f"kworker/{cpu}:0H-events_highpri"]
    names += ["kworker/0:1-events", "kworker/3:2-mm_percpu_wq", "kworker/u32:4-events_unbound",
              "kworker/u32:1-flush-259:0", "kworker/5:1-events_freezable"]
    threads += [Proc("", name=n, user="root", parent="kthreadd", key=f"k#{n}", started=0) for n in names]
    return tuple(threads)


def _system() -> tuple[Proc, ...]:
    procs = [Proc("/usr/lib/systemd/systemd", ("--system", "--deserialize=44", "splash"), user="root", started=0,
                  argv0="/sbin/init")]
    procs += [Proc(exe, args, user="root", parent="systemd", started=3) for exe, args in ROOT_DAEMONS]
    procs += [Proc(exe, args, user=acct, parent="systemd", started=3) for exe, acct, args in SERVICE_ACCOUNT_DAEMONS]
    procs += [
        Proc("/usr/sbin/avahi-daemon", name="avahi-daemon", user="avahi", parent="avahi-daemon",
             key="avahi-daemon#chroot", started=3, argv0="avahi-daemon: chroot helper"),
        Proc("/usr/libexec/gdm-session-worker", ("[pam/gdm-password]",), user="root", parent="gdm3", started=90),
    ]
    return tuple(procs)


def _session() -> tuple[Proc, ...]:
    u = {"user": "{account}", "started": 92}
    procs = [
        Proc("/usr/lib/systemd/systemd", ("--user",), parent="systemd", key="systemd#user", **u),
        Proc("/usr/lib/systemd/systemd", name="(sd-pam)", parent="systemd#user", key="(sd-pam)", **u),
        Proc("/usr/bin/pipewire", parent="systemd#user", **u),
        Proc("/usr/bin/pipewire", ("-c", "filter-chain.conf"), parent="systemd#user", key="pipewire#filter", **u),
        Proc("/usr/bin/wireplumber", parent="systemd#user", **u),
        Proc("/usr/bin/pipewire-pulse", parent="systemd#user", **u),
        Proc("/usr/bin/gnome-keyring-daemon",
             ("--foreground", "--components=pkcs11,secrets", "--control-directory=/run/user/1000/keyring"),
             parent="systemd#user", **u),
        Proc("/usr/bin/dbus-daemon",
             ("--session", "--address=systemd:", "--nofork", "--nopidfile", "--systemd-activation",
                                      "--syslog-only"), parent="systemd#user", key="dbus-daemon#session", **u),
        Proc("/usr/libexec/gdm-wayland-session", ("env", "GNOME_SHELL_SESSION_MODE=ubuntu", "/usr/bin/gnome-session",
                                                   "--session=ubuntu"), parent="gdm-session-worker", **u),
        Proc("/usr/libexec/gnome-session-binary", ("--session=ubuntu",), parent="gdm-wayland-session",
             key="gnome-session-binary#launcher", **u),
        Proc("/usr/libexec/gnome-session-binary", ("--systemd-service", "--session=ubuntu"), parent="systemd#user",
             key="gnome-session-binary", **u),
        Proc("/usr/bin/gnome-shell", parent="systemd#user", **u),
        Proc("/usr/bin/Xwayland", (":0", "-rootless", "-noreset", "-accessx", "-core", "-auth",
                                   "/run/user/1000/.mutter-Xwaylandauth.Q7VZX2", "-listenfd", "4", "-listenfd", "5",
                                   "-displayfd", "6", "-initfd", "7", "-byteswappedclients"),
             parent="gnome-shell", **u),
        Proc("/usr/libexec/at-spi-bus-launcher", parent="systemd#user", **u),
        Proc("/usr/bin/ibus-daemon", ("--panel", "disable"), parent="systemd#user", **u),
        Proc("/usr/libexec/ibus-memconf", parent="ibus-daemon", **u),
        Proc("/usr/libexec/ibus-extension-gtk3", parent="ibus-daemon", key="ibus-extension-gtk3#daemon", **u),
    ]
    procs += [Proc(f"/usr/libexec/{name}", parent="systemd#user", **u) for name in GNOME_HELPERS]
    procs += [
        Proc("/usr/bin/nautilus", ("--gapplication-service",), parent="systemd#user", **u),
        Proc("/usr/bin/update-notifier", parent="gnome-session-binary", user="{account}", started=300),
        Proc("/usr/bin/bash", parent="gnome-terminal-server", user="{account}", key="bash", started=3000),
        Proc("/snap/firefox/5187/usr/lib/firefox/firefox", parent="systemd#user", key="firefox", user="{account}",
             started=180),
    ]
    procs += [Proc("/snap/firefox/5187/usr/lib/firefox/firefox", ("-contentproc", "-isForBrowser", "-prefsLen", "31257",
                                                                  "-prefMapSize", "244343", "-parentBuildID",
                                                                  "20241118123456", "-greomni",
                                                                  "/snap/firefox/5187/usr/lib/firefox/omni.ja", "tab"),
                   name="Isolated Web Co", parent="firefox", key=f"firefox#tab{i}", user="{account}",
                   started=190 + i * 400) for i in range(7)]
    procs += [Proc("/snap/firefox/5187/usr/lib/firefox/firefox", ("-contentproc", kind), name=name, parent="firefox",
                   key=f"firefox#{kind}", user="{account}", started=185)
              for kind, name in (("socket", "Socket Process"), ("rdd", "RDD Process"), ("utility", "Utility Process"),
                                 ("gpu", "GPU Process"), ("web", "WebExtensions"), ("privilegedabout",
                                  "Privileged Cont"))]
    procs += [Proc("/snap/slack/170/usr/lib/slack/slack", parent="systemd#user", key="slack", user="{account}",
                   started=200)]
    slack_helpers = ("zygote", "zygote", "gpu-process", "utility", "renderer", "renderer")
    procs += [Proc("/snap/slack/170/usr/lib/slack/slack", (f"--type={kind}",), parent="slack", key=f"slack#{i}",
                   user="{account}", started=201) for i, kind in enumerate(slack_helpers)]
    procs += [Proc("/usr/bin/python3", ("/usr/bin/networkd-dispatcher", "--run-startup-triggers"), user="root",
                   parent="systemd", key="networkd-dispatcher", started=3)]
    return tuple(procs)


def processes() -> tuple[Proc, ...]:
    return _system()[:1] + _kernel() + _system()[1:] + _session()


def applications() -> tuple[App, ...]:
    # as the agent's probe reads them: dpkg status gives name and version, snaps their folder
    def deb(name, version):
        return App(name, version, source="dpkg")

    def snap(name, version):
        return App(name, version, f"/snap/{name}", source="snap")

    return (
        deb("ubuntu-desktop-minimal", "1.539.1"), deb("gnome-shell", "46.0-0ubuntu6~24.04.4"),
        deb("gdm3", "46.2-1ubuntu1~24.04.1"), deb("network-manager", "1.46.0-1ubuntu2.2"),
        deb("openssh-client", "1:9.6p1-3ubuntu13.5"), deb("cups", "2.4.7-1.2ubuntu7.3"),
        deb("bluez", "5.72-0ubuntu5"), deb("pipewire", "1.0.5-1ubuntu1"), deb("wireplumber", "0.4.17-1ubuntu4"),
        deb("fwupd", "1.9.24-1~24.04.1"), deb("thermald", "2.5.6-2build2"), deb("snapd", "2.66.1+24.04"),
        deb("ibus", "1.5.29-2"), deb("libreoffice-writer", "4:24.2.7-0ubuntu0.24.04.1"),
        deb("libreoffice-calc", "4:24.2.7-0ubuntu0.24.04.1"), deb("gnome-terminal", "3.52.0-1ubuntu2"),
        deb("nautilus", "1:46.2-0ubuntu0.2"), deb("evince", "46.3-0ubuntu1"), deb("git", "1:2.43.0-1ubuntu7.1"),
        deb("vim", "2:9.1.0016-1ubuntu7.5"), deb("curl", "8.5.0-2ubuntu10.5"), deb("python3", "3.12.3-0ubuntu2"),
        deb("unattended-upgrades", "2.9.1+nmu4ubuntu1"), deb("gnome-remote-desktop", "46.3-0ubuntu1"),
        deb("google-chrome-stable", "131.0.6778.85-1"),
        deb("code", "1.95.3-1731513102"),
        deb("falcon-sensor", "7.18.0-17106"),
        deb("farmwatch-agent", "0.1.0"),
        deb("zoom", "6.2.11.5069"),
        snap("firefox", "133.0-2"), snap("slack", "4.41.97"),
        snap("snap-store", "0+git.9c6f1f8"), snap("core22", "20241001"),
        snap("gnome-42-2204", "0+git.510a601"),
        App("Firefox Web Browser", path="/var/lib/snapd/desktop/applications/firefox_firefox.desktop",
            source="desktop"),
        App("Slack", path="/var/lib/snapd/desktop/applications/slack_slack.desktop", source="desktop"),
        App("Visual Studio Code", path="/usr/share/applications/code.desktop", source="desktop"),
        App("Google Chrome", path="/usr/share/applications/google-chrome.desktop", source="desktop"),
    )


def usb_devices() -> tuple[Usb, ...]:
    # the agent lists /sys/bus/usb/devices entries like "1-6"; root hubs ("usbN") are left out
    return (
        Usb("0c45", "6a1b", "Microdia", "Integrated_Webcam_FHD", "01.00.00", "ef", "0021", 480.0, "1-6",
            (iface("0e/01/01", "uvcvideo"), iface("0e/02/01", "uvcvideo"), iface("0e/01/01", "uvcvideo"),
             iface("0e/02/01", "uvcvideo"))),
        Usb("8087", "0033", "", "", "", "e0", "0000", 12.0, "1-10",
            (iface("e0/01/01", "btusb"), iface("e0/01/01", "btusb"))),
        Usb("27c6", "63ac", "Goodix Technology Co., Ltd.", "Goodix USB2.0 MISC", "UIDEC2B1B6E_XXXX_MOC_B0", "ef",
            "0100",
            12.0, "1-8", (iface("ff/00/00"),)),
    )


BUILT_IN_PANEL = MonitorSpec("SHP", 0x1430, 0, 1, 2023, 309, 174, FHD_60, panel_strings=("DJCVT", "LQ140M1JW49"))


def content() -> Delta:
    return Delta(
        processes=processes(), applications=applications(), usb=usb_devices(),
        displays=(Screen("card1-eDP-1", BUILT_IN_PANEL, built_in=True),),
        interfaces=(
            NetIface("lo", "00:00:00:00:00:00", ("127.0.0.1", "::1"), kind="loopback"),
            NetIface("wlp0s20f3", "", ("{lan_ip}", "fe80::5e3a:41ff:fe7d:2c19"), kind="wifi"),
        ),
        listeners=(
            Listen("127.0.0.53", 53, "systemd-resolved"), Listen("127.0.0.54", 53, "systemd-resolved"),
            Listen("127.0.0.1", 631, "cupsd"), Listen("::1", 631, "cupsd"),
            Listen("0.0.0.0", 5353, "avahi-daemon", "udp"), Listen("0.0.0.0", 39852, "avahi-daemon", "udp"),
            Listen("127.0.0.53", 53, "systemd-resolved", "udp"), Listen("0.0.0.0", 631, "cups-browsed", "udp"),
        ),
        connections=(
            Conn("{lan_ip}", 44218, "104.18.9.153", 443, "falcon-sensor"),
            Conn("{lan_ip}", 51804, "34.107.243.93", 443, "firefox"),
            Conn("{lan_ip}", 51822, "140.82.112.25", 443, "firefox"),
            Conn("{lan_ip}", 51830, "142.250.80.46", 443, "firefox"),
            Conn("{lan_ip}", 38712, "3.33.165.172", 443, "slack"),
            Conn("{lan_ip}", 60214, "185.125.190.49", 443, "snapd"),
        ),
        sessions=(Login("{account}", "seat0", started=92), Login("{account}", "tty2", started=92)),
        # named as the agent's Linux probe names them (units installed; sshd is not)
        remote_access=(("gnome-remote-desktop", False),),
        ip_forwarding=False,
    )
