"""Ordinary software that shares surface features with relays: bridges, listeners, HID-heavy apps."""

from __future__ import annotations

from parts import App, Conn, Delta, Listen, NetIface, Proc

SYSTEM = "NT AUTHORITY\\SYSTEM"


def zoom_and_slack_windows() -> Delta:
    zoom = "{home}\\AppData\\Roaming\\Zoom\\bin\\Zoom.exe"
    slack = "{home}\\AppData\\Local\\slack\\app-4.41.97\\slack.exe"
    return Delta(
        applications=(App("Zoom Workplace (64-bit)", "6.2.11 (53069)", "{home}\\AppData\\Roaming\\Zoom",
                          publisher="Zoom Video Communications, Inc.", source="registry"),
                      App("Slack", "4.41.97", "{home}\\AppData\\Local\\slack", publisher="Slack Technologies Inc.",
                          source="registry")),
        processes=(Proc(zoom, parent="explorer.exe", started=5400),
                   Proc(zoom.replace("Zoom.exe", "aomhost64.exe"), ("--type=aomhost",), parent="Zoom.exe",
                        started=5410),
                   Proc(slack, parent="explorer.exe", key="slack.exe", started=110))
        + tuple(Proc(slack, (f"--type={kind}",), parent="slack.exe", key=f"slack.exe#{i}", started=111)
                for i, kind in enumerate(("gpu-process", "utility", "renderer", "renderer"))),
        connections=(Conn("100.64.1.7", 53110, "170.114.52.2", 443, "Zoom.exe"),
                     Conn("100.64.1.7", 53140, "3.33.165.172", 443, "slack.exe")))


def powerpoint_windows() -> Delta:
    exe = "C:\\Program Files (x86)\\Microsoft Office\\root\\Office16\\POWERPNT.EXE"
    return Delta(processes=(Proc(exe, ("/S", "{home}\\OneDrive - Acme Corp\\All-hands November.pptx"),
                                 parent="explorer.exe"),))


def gaming_windows() -> Delta:
    steam = "C:\\Program Files (x86)\\Steam\\"
    ghub = "C:\\Program Files\\LGHUB\\"
    return Delta(
        applications=(App("Steam", "2.10.91.91", steam[:-1], publisher="Valve Corporation", source="registry"),
                      App("Logitech G HUB", "2024.8.641856", ghub[:-1], publisher="Logitech", source="registry"),
                      App("LGHUB Updater Service", path=ghub + "lghub_updater.exe", source="service")),
        processes=(Proc(ghub + "lghub_updater.exe", ("--run-as-service",), user=SYSTEM, parent="services.exe",
                        started=12),
                   Proc(ghub + "lghub_agent.exe", parent="explorer.exe", started=104),
                   Proc(ghub + "lghub.exe", ("--background",), parent="explorer.exe", started=104),
                   Proc(steam + "steam.exe", ("-silent",), parent="explorer.exe", started=106),
                   Proc(steam + "bin\\cef\\cef.win7x64\\steamwebhelper.exe", ("-lang=en_US",), parent="steam.exe",
                        started=110)),
        listeners=(Listen("0.0.0.0", 27036, "steam.exe", "udp"), Listen("127.0.0.1", 27060, "steam.exe"),
                   Listen("127.0.0.1", 9010, "lghub_agent.exe")),
        connections=(Conn("{lan_ip}", 53310, "162.254.193.6", 27021, "steam.exe"),))


def obs_windows() -> Delta:
    exe = "C:\\Program Files\\obs-studio\\bin\\64bit\\obs64.exe"
    return Delta(
        applications=(App("OBS Studio", "30.2.3", "C:\\Program Files\\obs-studio", publisher="OBS Project",
                          source="registry"),),
        processes=(Proc(exe, parent="explorer.exe"),),
        listeners=(Listen("0.0.0.0", 4455, "obs64.exe"),))


def logi_options_windows() -> Delta:
    folder = "C:\\Program Files\\LogiOptionsPlus\\"
    return Delta(
        applications=(App("Logi Options+", "1.83.619892", folder[:-1], publisher="Logitech", source="registry"),),
        processes=(Proc(folder + "logioptionsplus_updater.exe", user=SYSTEM, parent="services.exe", started=12),
                   Proc(folder + "logioptionsplus_agent.exe", ("--launch-type=autostart",), parent="explorer.exe",
                        started=103)))


def docker_linux() -> Delta:
    shim = "/usr/bin/containerd-shim-runc-v2"
    return Delta(
        ip_forwarding=True,
        applications=(App("docker-ce", "5:27.3.1-1~ubuntu.24.04~noble", source="dpkg"),
                      App("containerd.io", "1.7.23-1", source="dpkg"),
                      App("docker.service", path="/usr/lib/systemd/system/docker.service", source="systemd")),
        processes=(Proc("/usr/bin/containerd", user="root", parent="systemd", started=5),
                   Proc("/usr/bin/dockerd", ("-H", "fd://", "--containerd=/run/containerd/containerd.sock"),
                        user="root",
                        parent="systemd", started=6),
                   Proc("/usr/bin/docker-proxy", ("-proto", "tcp", "-host-ip", "127.0.0.1", "-host-port", "5432",
                                                  "-container-ip", "172.18.0.2", "-container-port", "5432"),
                        user="root", parent="dockerd", key="docker-proxy#pg"),
                   Proc("/usr/bin/docker-proxy", ("-proto", "tcp", "-host-ip", "127.0.0.1", "-host-port", "6379",
                                                  "-container-ip", "172.18.0.3", "-container-port", "6379"),
                        user="root", parent="dockerd", key="docker-proxy#redis"),
                   Proc(shim,
                        ("-namespace", "moby", "-id", "4f1c2e9a7b3d", "-address", "/run/containerd/containerd.sock"),
                        user="root", parent="systemd", key="shim#pg"),
                   Proc("/usr/lib/postgresql/16/bin/postgres", name="postgres", user="999", parent="shim#pg"),
                   Proc(shim,
                        ("-namespace", "moby", "-id", "9a8b7c6d5e4f", "-address", "/run/containerd/containerd.sock"),
                        user="root", parent="systemd", key="shim#redis"),
                   Proc("/usr/local/bin/redis-server", ("*:6379",), user="999", parent="shim#redis")),
        interfaces=(NetIface("docker0", "02:42:8c:1e:55:0a", ("172.17.0.1",), kind="bridge"),
                    NetIface("br-3f9a2c1e7d44", "02:42:3b:7a:10:c2", ("172.18.0.1",), kind="bridge"),
                    NetIface("veth7c1d2e0", "6e:10:4f:a2:91:3b", (), kind="virtual"),
                    NetIface("veth0a9f3b4", "a2:5c:11:d0:7e:48", (), kind="virtual")),
        listeners=(Listen("127.0.0.1", 5432, "docker-proxy#pg"), Listen("127.0.0.1", 6379, "docker-proxy#redis")))



def vm_hosts_windows() -> Delta:
    """VMware Workstation and VirtualBox with their host adapters, named as Windows names them."""
    vmware = "C:\\Program Files (x86)\\VMware\\VMware Workstation\\"
    return Delta(
        ip_forwarding=True,
        applications=(App("VMware Workstation", "17.6.1", vmware, publisher="Broadcom Inc.", source="registry"),
                      App("Oracle VirtualBox 7.1.4", "7.1.4", "C:\\Program Files\\Oracle\\VirtualBox\\",
                          publisher="Oracle and/or its affiliates", source="registry")),
        processes=(Proc(vmware + "vmware.exe", parent="explorer.exe", started=900),
                   Proc("C:\\Windows\\SysWOW64\\vmnat.exe", user="NT AUTHORITY\\SYSTEM", parent="services.exe",
                        started=30),
                   Proc("C:\\Program Files\\Oracle\\VirtualBox\\VBoxSVC.exe", ("-Embedding",), parent="explorer.exe",
                        started=910)),
        interfaces=(NetIface("VMware Network Adapter VMnet1", "00:50:56:c0:00:01", ("192.168.47.1",)),
                    NetIface("VMware Network Adapter VMnet8", "00:50:56:c0:00:08", ("192.168.150.1",)),
                    NetIface("VirtualBox Host-Only Network", "0a:00:27:00:00:0c", ("192.168.56.1",))))


def parallels_macos() -> Delta:
    """Parallels Desktop running a VM on its shared network (vnic0) and host-only network (vnic1)."""
    app = "/Applications/Parallels Desktop.app"
    return Delta(
        ip_forwarding=True,
        applications=(App("Parallels Desktop", "20.1.2", app, "com.parallels.desktop.console", signer="4C6364ACXT",
                          source="app_bundle"),),
        processes=(Proc(app + "/Contents/MacOS/prl_client_app", parent="launchd", bundle_id="com.parallels.desktop.console",
                        started=800),
                   Proc(app + "/Contents/MacOS/Parallels Service.app/Contents/MacOS/prl_disp_service", user="root",
                        parent="launchd", started=801),
                   Proc(app + "/Contents/MacOS/Parallels VM.app/Contents/MacOS/prl_vm_app", parent="prl_disp_service",
                        started=802)),
        interfaces=(NetIface("vnic0", "00:1c:42:00:00:08", ("10.211.55.2",)),
                    NetIface("vnic1", "00:1c:42:00:00:09", ("10.37.129.2",))))


def jekyll_preview_linux() -> Delta:
    """A Jekyll site served on 0.0.0.0:4000 (its default port, also NoMachine's), opened from a phone on the LAN."""
    return Delta(
        processes=(Proc("/usr/bin/ruby3.2", ("{home}/.local/share/gem/ruby/3.2.0/bin/jekyll", "serve", "--livereload",
                                             "--host", "0.0.0.0"), parent="bash", key="jekyll", argv0="ruby",
                        started=3300),),
        listeners=(Listen("0.0.0.0", 4000, "jekyll"), Listen("0.0.0.0", 35729, "jekyll")),
        connections=(Conn("{lan_ip}", 4000, "{lan_net}.40", 51522, "jekyll"),))

def vscode_remote_linux() -> Delta:
    code = "/usr/share/code/code"
    return Delta(
        processes=(Proc(code, parent="systemd#user", key="code", started=400),
                   Proc(code, ("--type=zygote",), parent="code", key="code#zygote", started=401),
                   Proc(code, ("--type=renderer",), parent="code#zygote", key="code#renderer", started=402),
                   Proc(code, ("--type=utility", "--utility-sub-type=node.mojom.NodeService"), parent="code",
                        key="code#extension-host", started=403),
                   Proc("/usr/bin/ssh", ("-T", "-D", "127.0.0.1:39823", "-o", "ConnectTimeout=15", "devbox-eu1"),
                        parent="code#extension-host", key="ssh#vscode", started=405),
                   Proc("/usr/bin/ssh", ("-N", "-L", "127.0.0.1:8080:localhost:8080", "devbox-eu1"), parent="bash",
                        key="ssh#forward", started=3100),
                   Proc("/home/dkowalski/.nvm/versions/node/v20.18.0/bin/node",
                        ("/home/dkowalski/src/web/node_modules/.bin/vite", "--host", "127.0.0.1"), parent="bash",
                        started=3200)),
        listeners=(Listen("127.0.0.1", 39823, "ssh#vscode"), Listen("127.0.0.1", 8080, "ssh#forward"),
                   Listen("::1", 8080, "ssh#forward"), Listen("127.0.0.1", 3000, "code#extension-host"),
                   Listen("127.0.0.1", 5173, "node")),
        connections=(Conn("{lan_ip}", 41822, "34.90.12.201", 22, "ssh#vscode"),
                     Conn("{lan_ip}", 41840, "34.90.12.201", 22, "ssh#forward")))


def creative_macos() -> Delta:
    ps = "/Applications/Adobe Photoshop 2025/Adobe Photoshop 2025.app"
    return Delta(
        applications=(App("Adobe Photoshop 2025", "26.1", ps, "com.adobe.Photoshop", signer="JQ525L2MZD",
                          source="app_bundle"),
                      App("Adobe Creative Cloud", "6.4.0.361", "/Applications/Utilities/Adobe Creative Cloud/ACC/"
                          "Creative Cloud.app", "com.adobe.acc.AdobeCreativeCloud", signer="JQ525L2MZD",
                          source="app_bundle"),
                      App("ColorNavigator 7", "7.1.11", "/Applications/ColorNavigator 7.app",
                          "jp.co.eizo.ColorNavigator7",
                          source="app_bundle"),
                      App("4K Capture Utility", "1.7.10", "/Applications/4K Capture Utility.app",
                          "com.elgato.4KCaptureUtility", source="app_bundle")),
        processes=(Proc(ps + "/Contents/MacOS/Adobe Photoshop 2025", parent="launchd", bundle_id="com.adobe.Photoshop",
                        started=700),
                   Proc("/Library/Application Support/Adobe/Adobe Desktop Common/ADS/Adobe Desktop Service.app/"
                        "Contents/MacOS/Adobe Desktop Service", parent="launchd",
                        bundle_id="com.adobe.acc.AdobeDesktopService",
                        started=150),
                   Proc("/Applications/ColorNavigator 7.app/Contents/MacOS/ColorNavigator 7", parent="launchd",
                        bundle_id="jp.co.eizo.ColorNavigator7", started=160),
                   Proc("/Applications/4K Capture Utility.app/Contents/MacOS/4K Capture Utility", parent="launchd",
                        bundle_id="com.elgato.4KCaptureUtility")))


def kakaotalk_macos() -> Delta:
    app = "/Applications/KakaoTalk.app"
    return Delta(
        applications=(App("KakaoTalk", "3.6.3", app, "com.kakao.KakaoTalkMac", signer="J2X6B5EP6B",
                          source="app_bundle"),),
        processes=(Proc(app + "/Contents/MacOS/KakaoTalk", parent="launchd", bundle_id="com.kakao.KakaoTalkMac",
                        started=160),))


def wacom_windows() -> Delta:
    folder = "C:\\Program Files\\Tablet\\Wacom\\"
    return Delta(
        applications=(App("Wacom Tablet", "6.4.7-2", folder[:-1], publisher="Wacom Technology Corp.",
                          source="registry"),
                      App("WTabletServicePro", path=folder + "WTabletServicePro.exe", source="service")),
        processes=(Proc(folder + "WTabletServicePro.exe", user=SYSTEM, parent="services.exe", started=12),
                   Proc(folder + "Wacom_Tablet.exe", parent="WTabletServicePro.exe", started=101)))


def usb_tethering_linux() -> Delta:
    return Delta(interfaces=(NetIface("enx9a3e2f41c5d0", "9a:3e:2f:41:c5:d0", ("10.136.97.45",
                                                                               "fe80::983e:2fff:fe41:c5d0")),))
