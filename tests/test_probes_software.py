"""applications and remote_access probes on fixture sysroots."""

from __future__ import annotations


from farmwatch.agent.probes import applications, remote_access
from farmwatch.agent.probes.applications import parse_desktop_entry, parse_dpkg_status
from sysroot_builder import SysrootBuilder
from sysroot_machines import USER, gaps, probe_context


def _apps(root):
    ctx = probe_context(root, "applications")
    found = [(a.source, a.name, a.version, a.path) for a in applications.collect(ctx)]
    return found, gaps(ctx)


def test_every_source_of_installed_software(dock):
    found, errors = _apps(dock)
    assert found == [
        ("dpkg", "openssh-client", "1:9.6p1-3ubuntu13.5", ""),
        ("dpkg", "firefox", "1:1snap1-0ubuntu5", ""),  # libreoffice-core is removed: not listed
        ("desktop", "Google Chrome", "", "/usr/share/applications/google-chrome.desktop"),  # Hidden=true skipped
        ("snap", "firefox", "133.0.3-1", "/snap/firefox"),
        ("flatpak", "org.signal.Signal", "", "/var/lib/flatpak/app/org.signal.Signal"),
        ("systemd", "cups.service", "", "/lib/systemd/system/cups.service"),
        ("systemd", "docker.service", "", "/lib/systemd/system/docker.service"),
    ]
    assert errors == []


def test_remote_control_software_on_the_relay(pikvm):
    found, _ = _apps(pikvm)
    assert ("dpkg", "anydesk", "6.3.2", "") in found
    assert ("desktop", "AnyDesk", "", "/usr/share/applications/anydesk.desktop") in found
    assert ("systemd", "anydesk.service", "", "/lib/systemd/system/anydesk.service") in found


def test_snaps_from_the_download_folder_when_none_is_mounted(tmp_path):
    b = SysrootBuilder(tmp_path)
    for name in ("core22_1663.snap", "core22_1748.snap", "anydesk_121.snap", "anydesk_121.assert"):
        b.file(f"/var/lib/snapd/snaps/{name}", "")
    assert [(a.name, a.path) for a in applications.snaps(probe_context(b.build(), "applications"))] == [
        ("anydesk", "/var/lib/snapd/snaps/anydesk_121.snap"), ("core22", "/var/lib/snapd/snaps/core22_1663.snap")]


def test_dpkg_status_parsing_keeps_installed_and_held_packages():
    status = (
        "Package: a\nStatus: install ok installed\nVersion: 1.0\nDescription: x\n continued: line\n\n"
        "Package: b\nStatus: hold ok installed\nVersion: 2.0\n\n"
        "Package: c\nStatus: deinstall ok config-files\nVersion: 3.0\n\n"
        "Package: d\nStatus: install ok half-configured\nVersion: 4.0\n"
    )
    assert parse_dpkg_status(status.splitlines(keepends=True)) == [("a", "1.0"), ("b", "2.0")]


def test_desktop_entry_takes_the_unlocalised_name_of_the_main_group():
    entry = parse_desktop_entry("[Desktop Entry]\nName[de]=Rechner\nName=Calculator\n[Desktop Action x]\nName=Other\n")
    assert entry == {"Name": "Calculator"}


def test_enabled_remote_access_services(pikvm):
    ctx = probe_context(pikvm, "remote_access")
    found = [(s.service, s.enabled) for s in remote_access.collect(ctx)]
    # gnome-remote-desktop is enabled as the user's own unit in their home
    assert found == [("sshd", True), ("xrdp", True), ("gnome-remote-desktop", True)]
    assert gaps(ctx) == []


def test_installed_but_disabled_server_is_reported_disabled(dock):
    assert [(s.service, s.enabled) for s in remote_access.collect(probe_context(dock, "remote_access"))] == [("sshd", False)]


def test_vnc_template_instances_and_krfb_autostart(tmp_path):
    b = SysrootBuilder(tmp_path)
    b.user(USER, 1000)
    b.enable_unit("vncserver@:1.service")
    b.file(f"/home/{USER}/.config/autostart/org.kde.krfb.autostart.desktop", "[Desktop Entry]\nExec=krfb --nodialog\n")
    b.file("/usr/lib/systemd/system/x11vnc.service", "[Unit]\n")
    found = [(s.service, s.enabled) for s in remote_access.collect(probe_context(b.build(), "remote_access"))]
    assert found == [("x11vnc", False), ("vnc", True), ("krfb", True)]
